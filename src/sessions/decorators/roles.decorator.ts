import { SetMetadata } from '@nestjs/common';

export const ROLES_KEY = 'sessions:roles';

/** The caller's user must hold at least one of these roles (403 FORBIDDEN otherwise). */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);
