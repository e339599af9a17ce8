/**
 * The contract's password length rule (new passwords, `POST /admin/users`, the bootstrap
 * admin). Here, in the library, rather than in the app's config/: the library's DTOs enforce it
 * and must not load the app's configuration (or its zxcvbn dependency) in a host app.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;
