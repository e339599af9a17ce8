import { createHmac } from 'node:crypto';
import { signatureHeaders, signRequest, verifyRequestSignature } from './request-signature';

const secret = 'a-shared-secret-of-some-length';
const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const ts = String(now / 1000);
const body = '{"username":"alice"}';
const parts = { method: 'POST', path: '/remote/sessions/validate', timestamp: ts, body };

describe('request signature', () => {
  it('is the hex HMAC-SHA256 of METHOD\\nPATH\\nTIMESTAMP\\nBODY', () => {
    const expected = createHmac('sha256', secret)
      .update(`POST\n/remote/sessions/validate\n${ts}\n${body}`)
      .digest('hex');
    expect(signRequest(secret, parts)).toBe(expected);
    expect(signRequest(secret, { ...parts, body: Buffer.from(body) })).toBe(expected);
  });

  it('accepts a fresh, correct signature', () => {
    const sig = signRequest(secret, parts);
    expect(verifyRequestSignature(secret, parts, sig, now + 299_000, 300)).toEqual({ ok: true });
    expect(verifyRequestSignature(secret, parts, sig, now - 299_000, 300)).toEqual({ ok: true });
  });

  it('refuses a signature over anything else: body, path, method, timestamp or secret', () => {
    const sig = signRequest(secret, parts);
    const mismatch = { ok: false, reason: 'mismatch' };
    expect(verifyRequestSignature(secret, { ...parts, body: body + ' ' }, sig, now, 300)).toEqual(
      mismatch,
    );
    expect(
      verifyRequestSignature(
        secret,
        { ...parts, path: '/remote/sessions/invalidate' },
        sig,
        now,
        300,
      ),
    ).toEqual(mismatch);
    expect(verifyRequestSignature(secret, { ...parts, method: 'PUT' }, sig, now, 300)).toEqual(
      mismatch,
    );
    expect(
      verifyRequestSignature(
        secret,
        { ...parts, timestamp: String(Number(ts) + 1) },
        sig,
        now,
        300,
      ),
    ).toEqual(mismatch);
    expect(verifyRequestSignature(secret + 'x', parts, sig, now, 300)).toEqual(mismatch);
  });

  it('refuses stale timestamps in either direction', () => {
    const sig = signRequest(secret, parts);
    expect(verifyRequestSignature(secret, parts, sig, now + 301_000, 300)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifyRequestSignature(secret, parts, sig, now - 301_000, 300)).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it('refuses missing and malformed headers without throwing', () => {
    const sig = signRequest(secret, parts);
    expect(verifyRequestSignature(secret, parts, undefined, now, 300).ok).toBe(false);
    expect(
      verifyRequestSignature(secret, { ...parts, timestamp: undefined }, sig, now, 300).ok,
    ).toBe(false);
    expect(verifyRequestSignature(secret, parts, sig.toUpperCase(), now, 300)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verifyRequestSignature(secret, parts, sig.slice(2), now, 300).ok).toBe(false);
    expect(verifyRequestSignature(secret, { ...parts, timestamp: '1e9' }, sig, now, 300).ok).toBe(
      false,
    );
  });

  it('builds headers a verifier accepts', () => {
    const h = signatureHeaders(secret, { method: 'POST', path: parts.path, body }, now + 400);
    expect(h['X-Signature-Timestamp']).toBe(ts);
    expect(
      verifyRequestSignature(
        secret,
        { ...parts, timestamp: h['X-Signature-Timestamp'] },
        h['X-Signature'],
        now,
        300,
      ),
    ).toEqual({ ok: true });
  });
});
