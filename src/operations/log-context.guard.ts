import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { authProps } from './logging';

/**
 * Adds the caller's user and session ids to every log line written while a request is handled.
 * The per-request summary line gets them separately, from pino-http's `customProps`.
 *
 * A guard that always passes rather than an interceptor: Nest wraps every global interceptor
 * layer in rxjs `defer` plus `AsyncResource.bind` (which on Node 20 also builds a deprecation
 * wrapper) on every request, for all routes. Registered in OperationsModule, which AppModule
 * imports after SessionModule, so it runs after SessionGuard has put `req.auth` in place.
 */
@Injectable()
export class LogContextGuard implements CanActivate {
  constructor(private readonly logger: PinoLogger) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http' || !this.logger.logger.isLevelEnabled('fatal')) return true;
    const props = authProps(context.switchToHttp().getRequest());
    if (props.userId) this.logger.assign(props);
    return true;
  }
}
