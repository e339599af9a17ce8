import { NewPasswordField, PasswordField } from '../../users/dto/user-fields.decorator';

export class ChangePasswordDto {
  /** Checked like a login password: a wrong one is INVALID_CREDENTIALS, not a 400. */
  @PasswordField()
  currentPassword: string;

  // The username is the caller's, not in the body: SessionsService checks "not the username".
  @NewPasswordField('username')
  newPassword: string;
}
