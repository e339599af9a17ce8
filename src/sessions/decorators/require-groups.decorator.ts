import { SetMetadata } from '@nestjs/common';

export const GROUPS_KEY = 'sessions:groups';

/** The session must have been authenticated against all of these groups (403 GROUP_FORBIDDEN). */
export const RequireGroups = (...groups: string[]) => SetMetadata(GROUPS_KEY, groups);
