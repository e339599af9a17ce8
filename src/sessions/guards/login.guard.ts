import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Strategy } from 'passport';
import { unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import { createValidationPipe } from '../../common/validation';
import { LoginDto } from '../dto/login.dto';
import type { AuthUser } from '../session-context';
import { LocalStrategy } from '../strategies/local.strategy';

/**
 * Runs this app's passport-local strategy instance directly, the way `passport.authenticate`
 * drives a strategy. `AuthGuard('local')` would look the strategy up in passport's
 * process-wide registry, where the last app created wins: two apps in one process (tests,
 * peers) would then log users in against each other's database.
 *
 * The body is validated first: guards run before pipes, so a malformed body would otherwise
 * answer 401 instead of the contract's 400 VALIDATION_FAILED.
 */
@Injectable()
export class LoginGuard implements CanActivate {
  private readonly pipe = createValidationPipe();

  constructor(private readonly strategy: LocalStrategy) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    await this.pipe.transform(request.body, { type: 'body', metatype: LoginDto });
    const user = await authenticate(this.strategy as unknown as Strategy, request);
    if (!user) throw unauthorized(ErrorCode.INVALID_CREDENTIALS, 'Invalid username or password');
    request.user = user;
    return true;
  }
}

type Augmented = {
  authenticate(request: Request, options: object): void;
  success(user: unknown): void;
  fail(): void;
  error(err: unknown): void;
  pass(): void;
  redirect(): void;
};

function authenticate(strategy: Strategy, request: Request): Promise<AuthUser | null> {
  return new Promise((resolve, reject) => {
    const s = Object.create(strategy) as Augmented;
    s.success = (user) => resolve(user as AuthUser);
    s.fail = () => resolve(null);
    s.pass = () => resolve(null);
    s.redirect = () => resolve(null);
    s.error = reject;
    s.authenticate(request, { session: false });
  });
}
