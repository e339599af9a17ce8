import { createHmac } from 'node:crypto';

/**
 * HMAC-SHA256 of `message` under a key derived from `secret` for `purpose` alone, so that a MAC
 * made for one purpose (a CSRF token, a device token) can never pass for another made with the
 * same access-token secret.
 */
export function purposeMac(secret: string, purpose: string, message: string): Buffer {
  const key = createHmac('sha256', secret).update(purpose).digest();
  return createHmac('sha256', key).update(message).digest();
}
