import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsMongoId, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of validate/invalidate, on the admin routes and the signed remote routes alike. */
export class SessionTargetDto {
  @ApiProperty({ example: 'alice' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  username: string;

  @ApiPropertyOptional({
    description:
      "A session of that user; omitted: the user's latest (validate) or all (invalidate)",
    example: '6650c0ffee0123456789abcd',
  })
  @IsOptional()
  @IsMongoId()
  sessionId?: string;
}
