import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'sessions:isPublic';

/** Lets a route through the global SessionGuard without a token (everything else is denied). */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
