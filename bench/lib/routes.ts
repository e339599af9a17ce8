/** The routes the guard benchmark compares, and what each does besides the session check. */
export interface RouteSpec {
  path: string;
  protected: boolean;
  does: string;
}

export const PUBLIC_BASELINE: RouteSpec = {
  path: '/health',
  protected: false,
  does: 'pings the database',
};

export const GUARD_ROUTES: RouteSpec[] = [
  PUBLIC_BASELINE,
  {
    path: '/sessions/current',
    protected: true,
    does: 'maps the session the guard loaded (no further lookup)',
  },
];
