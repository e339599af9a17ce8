import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig } from '@nestjs/core';
import type { AppConfig } from '../config';
import { LogContextGuard } from '../src/operations/log-context.guard';
import { loggerParams } from '../src/operations/logging';
import { SessionGuard } from '../src/sessions/guards/session.guard';
import { SessionDataInterceptor } from '../src/sessions/interceptors/session-data.interceptor';
import { SessionsController } from '../src/sessions/sessions.controller';
import { bearer, createTestApp, createUser, login, TestApp } from './support/app';

/**
 * What every request pays for besides its handler (issue #6). Each global interceptor is a
 * layer Nest wraps in rxjs and AsyncResource.bind on every request, so there are none; at
 * LOG_LEVEL=silent pino-http (a child logger and a serialised request per request) is not
 * mounted, while the request id still is.
 */
describe('per-request overhead (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'alice', password: 'alice-password' });
  });
  afterAll(() => t.close());

  it('registers no global interceptor', () => {
    const config = t.app.get(ApplicationConfig);
    expect(config.getGlobalInterceptors()).toEqual([]);
    expect(config.getGlobalRequestInterceptors()).toEqual([]);
  });

  it('puts SessionDataInterceptor on @SessionData() handlers alone', () => {
    const on = (name: keyof SessionsController) =>
      Reflect.getMetadata(INTERCEPTORS_METADATA, SessionsController.prototype[name]);
    for (const name of ['getData', 'patchData', 'putData'] as const) {
      expect(on(name)).toEqual([SessionDataInterceptor]);
    }
    for (const name of ['current', 'list', 'get', 'label', 'end'] as const) {
      expect(on(name)).toBeUndefined();
    }
  });

  it('adds the log context after SessionGuard has authenticated the request', () => {
    const guards = t.app.get(ApplicationConfig).getGlobalGuards();
    const at = (type: unknown) => guards.findIndex((g) => g instanceof (type as never));
    expect(at(SessionGuard)).toBeGreaterThanOrEqual(0);
    expect(at(LogContextGuard)).toBeGreaterThan(at(SessionGuard));
  });

  it('mounts pino-http on no route at silent, on every route otherwise', () => {
    const at = (logLevel: string) => loggerParams({ logLevel } as AppConfig);
    expect(at('silent').forRoutes).toEqual([]);
    expect(at('info').forRoutes).toEqual([{ path: '*path', method: RequestMethod.ALL }]);
  });

  it('still answers with X-Request-Id at silent, and session data routes still work', async () => {
    const s = await login(t, 'alice', 'alice-password');
    const auth = bearer(s.accessToken);
    const put = await t
      .http()
      .put('/sessions/current/data')
      .set('Authorization', auth)
      .set('X-Request-Id', 'probe-1')
      .send({ theme: 'dark' });
    expect(put.status).toBe(200);
    expect(put.headers['x-request-id']).toBe('probe-1');
    const got = await t.http().get('/sessions/current/data').set('Authorization', auth);
    expect(got.body).toEqual({ theme: 'dark' });
    expect(got.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
