import { Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '../../config';
import { DrainingMiddleware, GracefulShutdown } from './graceful-shutdown';
import { LogContextGuard } from './log-context.guard';
import { assignRequestId, loggerParams } from './logging';
import { SecurityWarnings } from './security-warnings';

/** Structured logs, request ids and graceful shutdown; see also `configureApp()`. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => loggerParams(config),
    }),
  ],
  providers: [
    GracefulShutdown,
    SecurityWarnings,
    { provide: APP_GUARD, useClass: LogContextGuard },
  ],
  exports: [GracefulShutdown],
})
export class OperationsModule implements NestModule {
  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  configure(consumer: MiddlewareConsumer): void {
    const everyRoute = { path: '*path', method: RequestMethod.ALL };
    // At silent, pino-http is not mounted (loggerParams); the request id still is.
    if (this.config.logLevel === 'silent') consumer.apply(assignRequestId).forRoutes(everyRoute);
    consumer.apply(DrainingMiddleware).forRoutes(everyRoute);
  }
}
