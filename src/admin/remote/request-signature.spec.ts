import { createHmac } from 'node:crypto';
import {
  newNonce,
  NONCE_PATTERN,
  peerOrigin,
  PresentedParts,
  signatureHeaders,
  signRequest,
  verifyRequestSignature,
} from './request-signature';

const secret = 'a-shared-secret-of-some-length-0123456789';
const older = 'the-previous-secret-still-verifying-0123';
const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const ts = String(now / 1000);
const body = '{"username":"alice"}';
const audience = 'https://peer-b.example:8443';
const nonce = 'n0nce-0123456789_abcdef';
const parts = {
  method: 'POST',
  audience,
  path: '/remote/sessions/validate',
  timestamp: ts,
  nonce,
  body,
};
const self = [audience];
const verify = (
  p: PresentedParts,
  sig: string | undefined,
  opts: { at?: number; secrets?: string[]; self?: string[] } = {},
) =>
  verifyRequestSignature(opts.secrets ?? [secret], p, sig, opts.at ?? now, 300, opts.self ?? self);

describe('request signature v2', () => {
  it('is the hex HMAC-SHA256 of METHOD\\nAUDIENCE\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY', () => {
    const expected = createHmac('sha256', secret)
      .update(`POST\n${audience}\n/remote/sessions/validate\n${ts}\n${nonce}\n${body}`)
      .digest('hex');
    expect(signRequest(secret, parts)).toBe(expected);
    expect(signRequest(secret, { ...parts, body: Buffer.from(body) })).toBe(expected);
  });

  it('accepts a fresh, correct signature within 300 s either way', () => {
    const sig = signRequest(secret, parts);
    expect(verify(parts, sig, { at: now + 299_000 })).toEqual({ ok: true });
    expect(verify(parts, sig, { at: now - 299_000 })).toEqual({ ok: true });
  });

  it('refuses a signature over anything else: body, path, method, timestamp, nonce, audience, secret', () => {
    const sig = signRequest(secret, parts);
    const mismatch = { ok: false, reason: 'mismatch' };
    expect(verify({ ...parts, body: body + ' ' }, sig)).toEqual(mismatch);
    expect(verify({ ...parts, path: '/remote/sessions/invalidate' }, sig)).toEqual(mismatch);
    expect(verify({ ...parts, method: 'PUT' }, sig)).toEqual(mismatch);
    expect(verify({ ...parts, timestamp: String(Number(ts) + 1) }, sig)).toEqual(mismatch);
    expect(verify({ ...parts, nonce: nonce + 'x' }, sig)).toEqual(mismatch);
    const other = 'https://peer-c.example';
    expect(verify({ ...parts, audience: other }, sig, { self: [audience, other] })).toEqual(
      mismatch,
    );
    expect(verify(parts, sig, { secrets: [secret + 'x'] })).toEqual(mismatch);
  });

  it('refuses an audience that is not one of the receiver’s own origins', () => {
    const sig = signRequest(secret, parts);
    expect(verify(parts, sig, { self: ['https://peer-c.example'] })).toEqual({
      ok: false,
      reason: 'audience',
    });
    expect(verify(parts, sig, { self: [] })).toEqual({ ok: false, reason: 'audience' });
  });

  it('verifies under any listed secret (rotation), signs with the one given', () => {
    const byOld = signRequest(older, parts);
    expect(verify(parts, byOld, { secrets: [secret, older] })).toEqual({ ok: true });
    expect(verify(parts, byOld, { secrets: [secret] }).ok).toBe(false);
  });

  it('refuses stale timestamps in either direction', () => {
    const sig = signRequest(secret, parts);
    const stale = { ok: false, reason: 'stale' };
    expect(verify(parts, sig, { at: now + 301_000 })).toEqual(stale);
    expect(verify(parts, sig, { at: now - 301_000 })).toEqual(stale);
  });

  it('refuses missing and malformed headers without throwing', () => {
    const sig = signRequest(secret, parts);
    for (const key of ['timestamp', 'nonce', 'audience'] as const) {
      expect(verify({ ...parts, [key]: undefined }, sig)).toEqual({ ok: false, reason: 'missing' });
    }
    expect(verify(parts, undefined)).toEqual({ ok: false, reason: 'missing' });
    const malformed = { ok: false, reason: 'malformed' };
    expect(verify(parts, sig.toUpperCase())).toEqual(malformed);
    expect(verify(parts, sig.slice(2))).toEqual(malformed);
    expect(verify({ ...parts, timestamp: '1e9' }, sig)).toEqual(malformed);
    expect(verify({ ...parts, nonce: 'short' }, sig)).toEqual(malformed);
    expect(verify({ ...parts, nonce: 'x'.repeat(65) }, sig)).toEqual(malformed);
    expect(verify({ ...parts, nonce: 'has a space in it......' }, sig)).toEqual(malformed);
  });

  it('builds headers a verifier accepts, with a fresh nonce each time', () => {
    const request = { method: 'POST', audience, path: parts.path, body };
    const h = signatureHeaders(secret, request, now + 400);
    expect(h['X-Signature-Timestamp']).toBe(ts);
    expect(h['X-Signature-Audience']).toBe(audience);
    expect(h['X-Signature-Nonce']).toMatch(NONCE_PATTERN);
    expect(signatureHeaders(secret, request, now)['X-Signature-Nonce']).not.toBe(
      h['X-Signature-Nonce'],
    );
    expect(
      verify(
        {
          ...parts,
          timestamp: h['X-Signature-Timestamp'],
          nonce: h['X-Signature-Nonce'],
          audience: h['X-Signature-Audience'],
        },
        h['X-Signature'],
      ),
    ).toEqual({ ok: true });
  });

  it('writes an origin one way: lowercase, default port dropped, no path', () => {
    expect(peerOrigin('HTTP://Peer.Example:80/')).toBe('http://peer.example');
    expect(peerOrigin('https://peer.example:8443/base/')).toBe('https://peer.example:8443');
    expect(peerOrigin('http://127.0.0.1:3001')).toBe('http://127.0.0.1:3001');
  });

  it('makes nonces that match the contract’s pattern', () => {
    expect(newNonce()).toMatch(NONCE_PATTERN);
  });
});
