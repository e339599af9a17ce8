import type { ModuleMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { WaterfallHook } from './hooks';
import type { AuthContext } from './session-context';
import type { TokenResponse } from './dto/token-response.dto';

export const SESSION_MODULE_OPTIONS = Symbol('SESSION_MODULE_OPTIONS');

/** What `onUpsertSessionError` hooks learn about the failed write. */
export interface UpsertSessionErrorContext {
  operation: 'login' | 'refresh' | 'reauth';
  request: Request;
}

export interface SessionHooks {
  /** After the session check on every protected request; the result becomes `request.auth`. Do not mutate the input: it may be the cached context. */
  onRequest?: WaterfallHook<AuthContext, Request>[];
  /** Before login, refresh and reauth answer; the result is the response body. */
  onRefreshTokens?: WaterfallHook<TokenResponse, Request>[];
  /** When creating or updating a session fails; the result is what gets thrown. */
  onUpsertSessionError?: WaterfallHook<unknown, UpsertSessionErrorContext>[];
}

export interface SessionModuleOptions {
  /**
   * Per-request access-token secret(s) (e.g. per tenant): the first signs, every one verifies.
   * Default: JWT_SECRET's list.
   */
  getTokenSecret?: (
    request: Request,
  ) => string | readonly string[] | Promise<string | readonly string[]>;
  hooks?: SessionHooks;
}

export interface SessionModuleStaticOptions {
  /**
   * Register SessionGuard, RolesGuard and GroupsGuard as global guards (deny by default) and
   * the session-data interceptor as a global interceptor. Default true; with false, apply them
   * yourself with `@UseGuards(SessionGuard, RolesGuard, GroupsGuard)` (in that order) and, where
   * `@SessionData()` is used, `@UseInterceptors(SessionDataInterceptor)`.
   */
  globalGuards?: boolean;
}

export interface SessionModuleAsyncOptions
  extends SessionModuleStaticOptions, Pick<ModuleMetadata, 'imports'> {
  inject?: unknown[];
  useFactory: (...args: never[]) => SessionModuleOptions | Promise<SessionModuleOptions>;
}
