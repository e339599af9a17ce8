import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest, AuthUser } from '../session-context';
import type { FieldParamDecorator } from './param-decorator';

/** The authenticated user, or one of its fields: `@CurrentUser() user`, `@CurrentUser('id') id`. */
export const CurrentUser: FieldParamDecorator<keyof AuthUser | undefined> = createParamDecorator(
  (field: keyof AuthUser | undefined, ctx: ExecutionContext) => {
    const user = ctx.switchToHttp().getRequest<AuthenticatedRequest>().auth?.user;
    return field ? user?.[field] : user;
  },
);
