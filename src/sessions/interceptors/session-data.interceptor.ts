import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { defer, lastValueFrom, Observable } from 'rxjs';
import { conflict, unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import {
  SESSION_DATA_KEY,
  SESSION_DATA_REF,
  SessionDataRef,
} from '../decorators/session-data.decorator';
import type { AuthContext } from '../session-context';
import { assertSessionData } from '../session-data';
import { SessionStore } from '../session.store';

type DataRequest = Request & { auth?: AuthContext; [SESSION_DATA_REF]?: SessionDataRef };

/** How often a handler is run again when other requests keep changing the same data. */
export const MAX_SESSION_DATA_ATTEMPTS = 25;

/**
 * For handlers that take `@SessionData()`: loads the session's data before the handler, and
 * after it writes data and expiry back, only if either changed (compared by serialized
 * snapshot). The write is conditional on the data still being what was read (optimistic
 * concurrency): when a concurrent request changed it in between, the handler runs again on the
 * new data, so two parallel merges both land instead of one silently undoing the other. A
 * `@SessionData()` handler may therefore run more than once; it should only change the data.
 * `@SessionData()` puts it on its handler; registered anywhere else, other handlers pass through.
 */
@Injectable()
export class SessionDataInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly store: SessionStore,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (
      context.getType() !== 'http' ||
      !this.reflector.get<boolean>(SESSION_DATA_KEY, context.getHandler())
    ) {
      return next.handle();
    }
    const request = context.switchToHttp().getRequest<DataRequest>();
    const session = request.auth?.session;
    if (!session) {
      throw unauthorized(ErrorCode.TOKEN_MISSING, 'This route needs a session');
    }
    return defer(() => this.run(request, session.id, session.userId, next));
  }

  private async run(
    request: DataRequest,
    sessionId: string,
    userId: string,
    next: CallHandler,
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const doc = await this.store.readData(sessionId, userId);
      if (!doc) throw unauthorized(ErrorCode.SESSION_EXPIRED, 'The session no longer exists');
      // The handler may change the object it is given in place; the filter needs it as read.
      const asRead = doc.data === undefined ? undefined : structuredClone(doc.data);
      const ref: SessionDataRef = { data: doc.data ?? {}, expiresAt: doc.expiresAt };
      const snapshot = JSON.stringify(ref.data);
      const expiry = ref.expiresAt.getTime();
      request[SESSION_DATA_REF] = ref;

      // Each subscription runs the handler (pipes and parameters included) afresh.
      const result = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const expiryMoved = ref.expiresAt.getTime() !== expiry;
      if (!expiryMoved && JSON.stringify(ref.data) === snapshot) return result;
      assertSessionData(ref.data);
      const written = await this.store.writeData(
        sessionId,
        userId,
        asRead,
        ref.data,
        expiryMoved ? ref.expiresAt : undefined,
      );
      if (written) return result;
      if (!(await this.store.isActive(sessionId, userId))) {
        throw unauthorized(ErrorCode.SESSION_EXPIRED, 'The session is no longer active');
      }
      if (attempt >= MAX_SESSION_DATA_ATTEMPTS) {
        throw conflict('The session data kept changing under this request; try again');
      }
    }
  }
}
