/**
 * Removes what looks like a credential from free text bound for a log: JWTs, long hex strings
 * (token hashes, signatures), long base64url strings (refresh tokens) and the user:password part
 * of connection strings. For text we do not control, such as an unexpected error's message and
 * stack; structured log fields are redacted by path instead (src/operations/logging.ts).
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted]')
    .replace(/\b[A-Fa-f0-9]{32,}\b/g, '[redacted]')
    .replace(/[A-Za-z0-9_-]{40,}/g, '[redacted]')
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1[redacted]@');
}
