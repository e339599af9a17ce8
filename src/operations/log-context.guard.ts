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
    const request = context
      .switchToHttp()
      .getRequest<{ auth?: unknown; raw?: { auth?: unknown } }>();
    const props = authProps(request as never);
    if (!props.userId) return true;
    // pino-http writes the request's line from the Node request; on Fastify the guards saw
    // Fastify's wrapper around it, so the ids are passed down for that line to name them.
    if (request.raw && request.raw !== request) request.raw.auth = request.auth;
    this.logger.assign(props);
    return true;
  }
}
