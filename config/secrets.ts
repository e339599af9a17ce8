import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../src/users/password-policy';

/** Every secret (JWT_SECRET entries, PEER_SECRET entries) is at least this long. */
export const MIN_SECRET_LENGTH = 32;

/**
 * A JWT_SECRET entry must take at least 10^24 guesses (~80 bits) by zxcvbn's estimate. Random
 * secrets score far above it (32 hex characters ~10^30, 32 base64 ~10^32); repeated words,
 * keyboard runs and "something-secret-0123456789" score far below (10^8 to 10^16).
 */
export const MIN_JWT_SECRET_GUESSES_LOG10 = 24;

/**
 * In production the bootstrap admin's password must also take 10^10 guesses (zxcvbn score 4),
 * beyond the contract's length rule: the admin account is the one every deployment has.
 */
export const MIN_PRODUCTION_ADMIN_PASSWORD_GUESSES_LOG10 = 10;

export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH };

/**
 * Words that only appear in a secret someone copied from an example or never replaced,
 * compared case-insensitively with everything but letters and digits removed.
 */
const PLACEHOLDER_WORDS = [
  'changeme',
  'changethis',
  'replaceme',
  'placeholder',
  'yoursecret',
  'mysecret',
  'secretkey',
  'jwtsecret',
  'supersecret',
  'topsecret',
  'notasecret',
  'insecure',
  'example',
  'default',
  'dummy',
  'sample',
  'xxxxxxxx',
];

const GENERATE_HINT = 'generate one with `openssl rand -base64 32`';

let estimator: ZxcvbnFactory | undefined;
const estimates = new Map<string, number>();

/**
 * zxcvbn's log10 of the guesses needed. Memoised: the environment is validated by every config
 * factory at start-up and some strings cost 100+ ms to estimate.
 */
export function guessesLog10(value: string, userInputs: string[] = []): number {
  const key = `${userInputs.join('\0')}\0\0${value}`;
  const known = estimates.get(key);
  if (known !== undefined) return known;
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  const result = estimator.check(value, userInputs).guessesLog10;
  if (estimates.size > 100) estimates.clear();
  estimates.set(key, result);
  return result;
}

/** A comma-separated secret list, trimmed, empty entries dropped. */
export function splitSecrets(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function isPlaceholderSecret(secret: string): boolean {
  const folded = secret.toLowerCase().replace(/[^a-z0-9]/g, '');
  return PLACEHOLDER_WORDS.some((word) => folded.includes(word));
}

/**
 * Why this entry is not acceptable as a secret, or null. Never includes the secret itself: the
 * message ends up in logs.
 */
export function secretWeakness(secret: string, options: { entropy: boolean }): string | null {
  if (secret.length < MIN_SECRET_LENGTH) {
    return `shorter than ${MIN_SECRET_LENGTH} characters (${secret.length}); ${GENERATE_HINT}`;
  }
  if (isPlaceholderSecret(secret)) {
    return `looks like a placeholder from an example; ${GENERATE_HINT}`;
  }
  if (options.entropy) {
    const log10 = guessesLog10(secret);
    if (log10 < MIN_JWT_SECRET_GUESSES_LOG10) {
      return `too predictable (about 10^${Math.floor(log10)} guesses, at least 10^${MIN_JWT_SECRET_GUESSES_LOG10} needed); ${GENERATE_HINT}`;
    }
  }
  return null;
}

/**
 * Problems with a secret list variable, one line each, naming the entry by position (never by
 * value). An empty list is reported by the caller, which knows whether the variable is required.
 */
export function secretListProblems(
  name: string,
  secrets: string[],
  options: { entropy: boolean },
): string[] {
  const problems: string[] = [];
  secrets.forEach((secret, i) => {
    const why = secretWeakness(secret, options);
    if (why) {
      const which = secrets.length > 1 ? ` (entry ${i + 1} of ${secrets.length})` : '';
      problems.push(`${name}${which}: ${why}`);
    }
  });
  if (new Set(secrets).size !== secrets.length) {
    problems.push(`${name}: the same secret is listed twice`);
  }
  return problems;
}

/**
 * The contract's password policy, shared by POST /admin/users and the bootstrap admin: null when
 * acceptable, else what is wrong (never the password).
 */
export function passwordPolicyViolation(password: string, username: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `must be at least ${MIN_PASSWORD_LENGTH} characters long`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `must be at most ${MAX_PASSWORD_LENGTH} characters long`;
  }
  if (password === username) return 'must not be the same as the username';
  return null;
}
