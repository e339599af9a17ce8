import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest, SessionContext } from '../session-context';
import type { FieldParamDecorator } from './param-decorator';

/** The session behind the request, or one of its fields: `@CurrentSession('id') sessionId`. */
export const CurrentSession: FieldParamDecorator<keyof SessionContext | undefined> =
  createParamDecorator((field: keyof SessionContext | undefined, ctx: ExecutionContext) => {
    const session = ctx.switchToHttp().getRequest<AuthenticatedRequest>().auth?.session;
    return field ? session?.[field] : session;
  });
