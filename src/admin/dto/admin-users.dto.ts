import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { NewPasswordField, UsernameField } from '../../users/dto/user-fields.decorator';
import { CreatedUserDto } from './create-user.dto';

export const MAX_USERS_PAGE = 200;

export class ListUsersQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_USERS_PAGE, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_USERS_PAGE)
  limit: number = 50;

  /** A cursor, not an id: names are unique and the order is by name, so paging never skips. */
  @ApiPropertyOptional({
    description: 'The next page: users whose name sorts after this one (the last name of a page)',
    example: 'alice',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  after?: string;
}

export class UsernameParams {
  @UsernameField()
  username: string;
}

export class UserListItemDto extends CreatedUserDto {
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the user was disabled (PATCH /admin/users/:username); null when enabled',
  })
  disabledAt: string | null;
}

export class UpdateUserDto {
  @ApiProperty({
    description:
      'true: the user cannot sign in and every session of theirs ends; false: they may sign in again',
  })
  @IsBoolean()
  disabled: boolean;
}

export class EndedResultDto {
  @ApiProperty({ description: 'Sessions of the user that were ended' })
  ended: number;
}

export class ResetPasswordDto {
  // The username is in the path, not the body: AdminUsersService checks "not the username".
  @NewPasswordField('username')
  newPassword: string;
}
