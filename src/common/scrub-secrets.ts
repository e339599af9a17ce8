/**
 * Word-ish runs: the characters tokens, hashes and signatures are made of, plus `.` so a JWT is
 * one run. A greedy class with nothing after it never backtracks, so finding every run is one
 * pass over the text.
 */
const RUN = /[A-Za-z0-9_.-]+/g;
const HEX = /^[A-Fa-f0-9]+$/;
/** `://user:password@`: starts only at a literal `://`, and neither part can cross a `/`. */
const URI_CREDENTIALS = /:\/\/[^/\s:@]+:[^/\s@]+@/g;

/** Redacts within one run: JWTs, long hex words (hashes, signatures), long base64url strings. */
function scrubRun(run: string): string {
  const parts = run.split('.');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    // A JWT: three dot-separated parts, the header (and so the first) starting with `eyJ`.
    if (parts[i].startsWith('eyJ') && i + 2 < parts.length && parts[i + 1] !== '') {
      parts.splice(i, 3, '[redacted]');
      changed = true;
      continue;
    }
    const scrubbed = parts[i].replace(/[A-Za-z0-9_-]+/g, (segment) =>
      segment.length >= 40 ? '[redacted]' : segment,
    );
    // hex only where a word (letters, digits, `_`) is hex from end to end, as `\b…\b` meant
    const words = scrubbed.replace(/[A-Za-z0-9_]+/g, (word) =>
      word.length >= 32 && HEX.test(word) ? '[redacted]' : word,
    );
    if (words !== parts[i]) {
      parts[i] = words;
      changed = true;
    }
  }
  return changed ? parts.join('.') : run;
}

/**
 * Removes what looks like a credential from free text bound for a log: JWTs, long hex strings
 * (token hashes, signatures), long base64url strings (refresh tokens) and the user:password part
 * of connection strings. For text we do not control, such as an unexpected error's message and
 * stack; structured log fields are redacted by key (src/operations/logging.ts).
 *
 * Linear in the text's length whatever it holds: each pattern either runs over maximal runs of
 * one character class or starts at a fixed literal, so no input can make it backtrack (a 14 KB
 * `a.a.a…` query used to cost tens of milliseconds of main-thread time per request).
 */
export function scrubSecrets(text: string): string {
  return text.replace(RUN, scrubRun).replace(URI_CREDENTIALS, '://[redacted]@');
}

/**
 * A field whose name says it holds a credential. Matched on the key alone, at any depth, so a
 * new field (`newPassword`, `webhookSecret`, `x-signature`) is covered without a new path.
 */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|authorization|cookie|signature|hash|history|credential|api[-_]?key|private[-_]?key/i;
const CENSOR = '[redacted]';
const MAX_LOGGED_URL = 2048;
/** Deeper than this, a logged value is cut: logs are not the place for whole documents. */
const MAX_REDACT_DEPTH = 12;

const isPlain = (value: unknown): value is Record<string, unknown> | unknown[] => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return Array.isArray(value) || proto === Object.prototype || proto === null;
};

/**
 * A copy of plain data (objects and arrays; anything else is passed through for pino's own
 * serializers) with the value of every secret-named key replaced, at any depth. Each node is
 * visited once and cycles are cut, so the cost is linear in what is logged.
 */
export function redactSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (!isPlain(value)) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_REDACT_DEPTH) return '[too deep]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_NAME.test(key) ? CENSOR : redactSecrets(v, depth + 1, seen);
  }
  return out;
}

/**
 * A request URL fit for a log: the path, and the query with the value of every secret-named
 * parameter replaced (`/auth/login?username=ann&password=[redacted]`), then scrubbed of
 * anything that looks like a token. A credential sent in a query string is refused by the
 * routes, but the log line of the refusal must not keep it.
 */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  // A 14 KB query made a 26 KB log line per request: keep enough to recognise the request.
  if (url.length > MAX_LOGGED_URL) url = `${url.slice(0, MAX_LOGGED_URL)}…[truncated]`;
  const q = url.indexOf('?');
  if (q === -1) return scrubSecrets(url);
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq === -1 ? pair : pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the key as sent
      }
      return eq !== -1 && SECRET_NAME.test(key) ? `${rawKey}=${CENSOR}` : pair;
    })
    .join('&');
  return scrubSecrets(`${url.slice(0, q)}?${query}`);
}
