import { ApiException, unauthorized } from '../common/api.exception';
import { ErrorCode } from '../common/error-codes';
import type { EffectiveState } from './session-state';

/** Unknown user and wrong password answer alike. */
export const invalidCredentials = (): ApiException =>
  unauthorized(ErrorCode.INVALID_CREDENTIALS, 'Invalid username or password');

export const tokenInvalid = (): ApiException =>
  unauthorized(ErrorCode.TOKEN_INVALID, 'The access token is invalid or expired');

export const sessionGone = (): ApiException =>
  unauthorized(ErrorCode.SESSION_EXPIRED, 'The session no longer exists');

/** The 401 for a session that is not live; refresh reports revocation for reuse as such. */
export function notLive(
  eff: Pick<EffectiveState, 'state' | 'endReason'>,
  refreshing: boolean,
): ApiException {
  if (refreshing && eff.endReason === 'refresh_reuse') {
    return unauthorized(
      ErrorCode.REFRESH_TOKEN_REUSED,
      'The session was revoked because a refresh token was used twice',
    );
  }
  if (eff.state === 'ended') {
    return unauthorized(ErrorCode.SESSION_ENDED, 'The session was signed out');
  }
  return unauthorized(ErrorCode.SESSION_EXPIRED, `The session has expired (${eff.endReason})`);
}
