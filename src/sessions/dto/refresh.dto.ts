import { ApiPropertyOptional } from '../../common/openapi';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class RefreshDto {
  @ApiPropertyOptional({
    description:
      'Required with TOKEN_TRANSPORT=header; in the cookie modes an empty body uses the refresh cookie',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  refreshToken?: string;
}
