import { ApiPropertyOptional } from '../../common/openapi';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { NameListField, PasswordField, UsernameField } from '../../users/dto/user-fields.decorator';

export class LoginDto {
  @UsernameField()
  username: string;

  @PasswordField()
  password: string;

  @NameListField(
    'Authenticate the session against these groups (the user must be in all of them)',
    ['staff'],
  )
  groups?: string[];

  @ApiPropertyOptional({ description: 'A name for this device', example: 'Work laptop' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;
}
