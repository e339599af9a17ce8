import { ApiProperty } from '@nestjs/swagger';
import {
  NameListField,
  NewPasswordField,
  UsernameField,
} from '../../users/dto/user-fields.decorator';

export class CreateUserDto {
  @UsernameField()
  username: string;

  @NewPasswordField('username')
  password: string;

  @NameListField('Roles of the new user', ['admin'])
  roles?: string[];

  @NameListField('Groups the new user belongs to', ['staff'])
  groups?: string[];
}

export class CreatedUserDto {
  @ApiProperty()
  id: string;
  @ApiProperty()
  username: string;
  @ApiProperty({ type: [String] })
  roles: string[];
  @ApiProperty({ type: [String] })
  groups: string[];
}
