import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '../../common/openapi';
import {
  ArrayMaxSize,
  IsArray,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';

// Bounds shared by every route that takes credentials or name lists, so login, reauth and user
// creation can never disagree on what a valid username, password or group name is.
const MAX_NAME_LENGTH = 200;
const MAX_PASSWORD_LENGTH = 1024;
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
