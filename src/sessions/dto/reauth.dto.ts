import { NameListField, PasswordField } from '../../users/dto/user-fields.decorator';

export class ReauthDto {
  @PasswordField()
  password: string;

  @NameListField("Replaces the session's groups", ['staff'])
  groups?: string[];
}
