import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export const EXPORT_STATES = ['active', 'expired', 'ended', 'all'] as const;
export type ExportState = (typeof EXPORT_STATES)[number];
export const EXPORT_FORMATS = ['json', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportSessionsQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_STATES, default: 'all' })
  @IsOptional()
  @IsIn(EXPORT_STATES)
  state: ExportState = 'all';

  @ApiPropertyOptional({ description: 'Only this username’s sessions', example: 'alice' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  user?: string;

  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat = 'json';
}
