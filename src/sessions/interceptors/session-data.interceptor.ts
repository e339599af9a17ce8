import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectModel } from '@nestjs/mongoose';
import type { Request } from 'express';
import { Model, Types } from 'mongoose';
import { concatMap, Observable } from 'rxjs';
import { unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import {
  SESSION_DATA_KEY,
  SESSION_DATA_REF,
  SessionDataRef,
} from '../decorators/session-data.decorator';
import { Session } from '../schemas/session.schema';
import { SessionCache } from '../session-cache';
import type { AuthContext } from '../session-context';
import { assertSessionData, SessionDataObject } from '../session-data';

type DataRequest = Request & { auth?: AuthContext; [SESSION_DATA_REF]?: SessionDataRef };

/**
 * For handlers that take `@SessionData()`: loads the session's data once before the handler,
 * and after it writes data and expiry back in one conditional update, only if either changed
 * (compared by serialized snapshot). Other handlers pass straight through.
 */
@Injectable()
export class SessionDataInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @InjectModel(Session.name) private readonly model: Model<Session>,
    private readonly cache: SessionCache,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (
      context.getType() !== 'http' ||
      !this.reflector.get<boolean>(SESSION_DATA_KEY, context.getHandler())
    ) {
      return next.handle();
    }
    const request = context.switchToHttp().getRequest<DataRequest>();
    const sessionId = request.auth?.session.id;
    if (!sessionId) {
      throw unauthorized(ErrorCode.TOKEN_MISSING, 'This route needs a session');
    }
    const doc = await this.model
      .findById(sessionId)
      .select({ data: 1, expiresAt: 1 })
      .lean<{ _id: Types.ObjectId; data?: SessionDataObject; expiresAt: Date }>();
    if (!doc) throw unauthorized(ErrorCode.SESSION_EXPIRED, 'The session no longer exists');
    const ref: SessionDataRef = { data: doc.data ?? {}, expiresAt: doc.expiresAt };
    const snapshot = JSON.stringify(ref.data);
    const expiry = ref.expiresAt.getTime();
    request[SESSION_DATA_REF] = ref;

    return next.handle().pipe(
      concatMap(async (result) => {
        const expiryMoved = ref.expiresAt.getTime() !== expiry;
        if (!expiryMoved && JSON.stringify(ref.data) === snapshot) return result;
        assertSessionData(ref.data);
        const written = await this.model.updateOne(
          { _id: sessionId, state: 'active' },
          { $set: { data: ref.data, expiresAt: ref.expiresAt } },
        );
        if (written.matchedCount === 0) {
          throw unauthorized(ErrorCode.SESSION_EXPIRED, 'The session is no longer active');
        }
        if (expiryMoved) this.cache.invalidate(sessionId);
        return result;
      }),
    );
  }
}
