import { badRequest } from '../common/api.exception';

/**
 * The contract's password length rule (new passwords, `POST /admin/users`, the bootstrap
 * admin). Here, in the library, rather than in the app's config/: the library's DTOs enforce it
 * and must not load the app's configuration (or its zxcvbn dependency) in a host app.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * The policy's "not the username" for a new password whose username is not in the same body
 * (an admin reset names the user in the path, a self-change is the caller's): 400 otherwise.
 */
export function refuseUsernameAsPassword(username: string, newPassword: string): void {
  if (newPassword === username) {
    throw badRequest('newPassword must not be the same as the username');
  }
}
