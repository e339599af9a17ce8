/**
 * The response of either HTTP platform Nest runs on: Express's `Response` (`append` adds a
 * header value, `header` replaces it) or Fastify's `FastifyReply` (no `append`; its `header`
 * adds every `set-cookie` value instead of replacing it). A bare Node `ServerResponse` works too.
 */
export interface HeaderWritable {
  append?: (name: string, value: string | string[]) => unknown;
  header?: (name: string, value: string | string[]) => unknown;
  getHeader?: (name: string) => number | string | string[] | undefined;
  setHeader?: (name: string, value: string | string[]) => unknown;
}

/**
 * Adds `Set-Cookie` lines without dropping any set earlier in the request (another cookie of
 * ours, or a host's): each cookie must be its own header line (RFC 6265 §3), never replaced.
 */
export function appendSetCookie(response: HeaderWritable, values: string[]): void {
  if (values.length === 0) return;
  if (typeof response.append === 'function') {
    response.append('Set-Cookie', values);
  } else if (typeof response.header === 'function') {
    response.header('set-cookie', values);
  } else if (typeof response.setHeader === 'function') {
    const previous = response.getHeader?.('set-cookie');
    const list =
      previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
    response.setHeader('set-cookie', [...list, ...values]);
  } else {
    throw new TypeError('appendSetCookie: not an Express, Fastify or Node response');
  }
}

/** Sets (replaces) one header on a response of either platform, or a bare Node response. */
export function setHeader(response: HeaderWritable, name: string, value: string): void {
  if (typeof response.header === 'function') response.header(name, value);
  else if (typeof response.setHeader === 'function') response.setHeader(name, value);
  else throw new TypeError('setHeader: not an Express, Fastify or Node response');
}
