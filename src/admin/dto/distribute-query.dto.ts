import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

export class DistributeQueryDto {
  @ApiPropertyOptional({
    description: 'Also send the same operation, signed, to every PEER_HOSTS entry',
    default: false,
  })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  distribute?: boolean;
}
