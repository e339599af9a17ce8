import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '../../common/openapi';
import {
  ArrayMaxSize,
  IsArray,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateBy,
  ValidationArguments,
} from 'class-validator';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../password-policy';

// Bounds shared by every route that takes credentials or name lists, so login, reauth and user
// creation can never disagree on what a valid username, password or group name is.
const MAX_NAME_LENGTH = 200;
const MAX_NAMES = 100;

export const UsernameField = () =>
  applyDecorators(
    ApiProperty({ example: 'alice', maxLength: MAX_NAME_LENGTH }),
    IsString(),
    IsNotEmpty(),
    MaxLength(MAX_NAME_LENGTH),
  );

export const PasswordField = () =>
  applyDecorators(
    ApiProperty({ example: 'correct horse battery staple', maxLength: MAX_PASSWORD_LENGTH }),
    IsString(),
    IsNotEmpty(),
    MaxLength(MAX_PASSWORD_LENGTH),
  );

/** An optional list of role or group names. */
export const NameListField = (description: string, example: string[]) =>
  applyDecorators(
    ApiPropertyOptional({ type: [String], description, example, maxItems: MAX_NAMES }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_NAMES),
    IsString({ each: true }),
    IsNotEmpty({ each: true }),
    MaxLength(MAX_NAME_LENGTH, { each: true }),
  );

/**
 * A password being set (user creation, password change): the contract's policy, the same one the
 * bootstrap admin is held to at start (config/secrets.ts). Login and reauth keep PasswordField:
 * a password set before the policy must still sign in, and a short one must answer
 * INVALID_CREDENTIALS there, not a 400 that tells what the policy is.
 */
export const NewPasswordField = (usernameProperty: string) =>
  applyDecorators(
    ApiProperty({
      example: 'correct horse battery staple',
      minLength: MIN_PASSWORD_LENGTH,
      maxLength: MAX_PASSWORD_LENGTH,
      description: `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, not equal to the username`,
    }),
    IsString(),
    MinLength(MIN_PASSWORD_LENGTH),
    MaxLength(MAX_PASSWORD_LENGTH),
    ValidateBy({
      name: 'notEqualToUsername',
      validator: {
        validate: (value: unknown, args?: ValidationArguments) =>
          value !== (args?.object as Record<string, unknown>)[usernameProperty],
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'password'} must not be the same as the ${usernameProperty}`,
      },
    }),
  );
