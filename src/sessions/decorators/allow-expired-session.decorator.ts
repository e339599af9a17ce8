import { SetMetadata } from '@nestjs/common';

export const ALLOW_EXPIRED_KEY = 'sessions:allowExpired';

/**
 * An expired (not ended) session may still reach this route, e.g. to show "your session was
 * expired by an administrator" or to re-authenticate. Signed-out sessions never may.
 */
export const AllowExpiredSession = () => SetMetadata(ALLOW_EXPIRED_KEY, true);
