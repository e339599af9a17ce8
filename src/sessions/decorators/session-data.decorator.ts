import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { Request } from 'express';
// A cycle (the interceptor reads the constants below), harmless: neither uses the other while
// its module is being evaluated, only when a handler is decorated or a request runs.
import { SessionDataInterceptor } from '../interceptors/session-data.interceptor';
import type { SessionDataObject } from '../session-data';
import type { FieldParamDecorator } from './param-decorator';

export const SESSION_DATA_KEY = 'sessions:data';
/** Where SessionDataInterceptor puts the loaded data on the request. */
export const SESSION_DATA_REF = Symbol('sessionData');

/**
 * The current session's data, loaded once per request. Mutate `data` in place, or replace
 * `ref.data` / move `ref.expiresAt` through the handle; after the handler the interceptor
 * persists it if (and only if) the data changed or the expiry moved.
 */
export interface SessionDataRef {
  data: SessionDataObject;
  expiresAt: Date;
}

type RequestWithData = Request & { [SESSION_DATA_REF]?: SessionDataRef };

/**
 * `@SessionData() data` gives the data object; `@SessionData('handle') ref` gives the
 * SessionDataRef. Puts SessionDataInterceptor on that handler alone (as `@UseInterceptors`
 * would), which loads the data: a global interceptor would cost every other route a layer.
 */
export const SessionData: FieldParamDecorator<'handle' | undefined> = createParamDecorator(
  (field: 'handle' | undefined, ctx: ExecutionContext) => {
    const ref = ctx.switchToHttp().getRequest<RequestWithData>()[SESSION_DATA_REF];
    if (!ref) {
      throw new Error('@SessionData() needs SessionDataInterceptor (registered by SessionModule)');
    }
    return field === 'handle' ? ref : ref.data;
  },
  [
    (target: object, key: string | symbol | undefined) => {
      if (key === undefined) return;
      const handler = (target as Record<string | symbol, unknown>)[key];
      Reflect.defineMetadata(SESSION_DATA_KEY, true, handler as object);
      const interceptors: unknown[] =
        Reflect.getMetadata(INTERCEPTORS_METADATA, handler as object) ?? [];
      if (!interceptors.includes(SessionDataInterceptor)) {
        Reflect.defineMetadata(
          INTERCEPTORS_METADATA,
          [...interceptors, SessionDataInterceptor],
          handler as object,
        );
      }
    },
  ],
);
