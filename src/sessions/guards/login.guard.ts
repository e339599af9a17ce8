import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';

import type { Request } from 'express';
import { LoginDto } from '../dto/login.dto';
import type { AuthContext, AuthUser } from '../session-context';
import { invalidCredentials } from '../session-errors';
import { sessionValidationPipe } from '../session-validation';

/**
 * `POST /auth/login`: passport's `AuthGuard` on this module's LocalStrategy (the module
 * provides AuthModuleOptions naming it). The user it finds goes where every other route has
 * it, `request.auth.user`, read with `@CurrentUser()`.
 *
 * The body is validated here, once: guards run before pipes, so a malformed body would
 * otherwise answer 401 instead of the contract's 400 VALIDATION_FAILED; the pipes after this
 * recognise the validated body and let it through.
 */
@Injectable()
export class LoginGuard extends AuthGuard() {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    request.body = await sessionValidationPipe.transform(request.body, {
      type: 'body',
      metatype: LoginDto,
    });
    return (await super.canActivate(context)) as boolean;
  }

  /** `property` is where AuthGuard puts handleRequest's result: `{ user }` on `request.auth`. */
  override getAuthenticateOptions(): { session: false; property: string } {
    return { session: false, property: 'auth' };
  }

  override handleRequest<T = Pick<AuthContext, 'user'>>(err: unknown, user: unknown): T {
    if (err) throw err;
    if (!user) throw invalidCredentials();
    return { user: user as AuthUser } as T;
  }
}
