import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Observable } from 'rxjs';
import { authProps } from './logging';

/**
 * Adds the caller's user and session ids to every log line written while a request is handled
 * (interceptors run after guards, so `req.auth` is known here). The per-request summary line
 * gets them separately, from pino-http's `customProps`.
 */
@Injectable()
export class LogContextInterceptor implements NestInterceptor {
  constructor(private readonly logger: PinoLogger) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const props = authProps(context.switchToHttp().getRequest());
      if (props.userId) this.logger.assign(props);
    }
    return next.handle();
  }
}
