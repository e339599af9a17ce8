/** The routes the guard benchmark compares, and what each does besides the session check. */
export interface RouteSpec {
  path: string;
  protected: boolean;
  does: string;
}

/** Bench-only (see bench/apps/guard-probe-app.ts): the same constant JSON, public and guarded. */
export const PUBLIC_PROBE: RouteSpec = {
  path: '/bench/public',
  protected: false,
  does: 'returns a constant JSON object',
};
export const PROTECTED_PROBE: RouteSpec = {
  path: '/bench/protected',
  protected: true,
  does: 'returns the same constant JSON object',
};
export const SESSIONS_CURRENT: RouteSpec = {
  path: '/sessions/current',
  protected: true,
  does: 'maps the session and user the guard loaded to the contract JSON',
};
// GET /health is public too, but it pings the database on every call: not a baseline for a
// route that does no I/O, so it is left out (and the run stays short).
export const GUARD_ROUTES: RouteSpec[] = [PUBLIC_PROBE, PROTECTED_PROBE, SESSIONS_CURRENT];
