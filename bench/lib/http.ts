/** Small JSON-over-HTTP helpers for setting up benchmarks (never for the measured load). */

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function request<T = any>(
  method: string,
  url: string,
  options: {
    body?: unknown;
    token?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** Like `request`, but throws unless the status is the expected one. */
export async function expectStatus<T = any>(
  status: number,
  method: string,
  url: string,
  options: Parameters<typeof request>[2] = {},
): Promise<JsonResponse<T>> {
  const res = await request<T>(method, url, options);
  if (res.status !== status) {
    throw new Error(
      `${method} ${url}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return res;
}

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  session: { id: string; [k: string]: unknown };
}

/** `POST /auth/login` on nest-sessions (docs/api.md, "Auth"). */
export async function login(
  baseUrl: string,
  username: string,
  password: string,
): Promise<LoginResult> {
  const res = await expectStatus<LoginResult>(201, 'POST', `${baseUrl}/auth/login`, {
    body: { username, password },
  });
  return res.body;
}

/** Runs `task` for each of `count` items with at most `concurrency` in flight. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}
