import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '../../config';
import { DrainingMiddleware, GracefulShutdown } from './graceful-shutdown';
import { LogContextInterceptor } from './log-context.interceptor';
import { loggerParams } from './logging';

/** Structured logs, request ids and graceful shutdown; see also `configureApp()`. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => loggerParams(config),
    }),
  ],
  providers: [GracefulShutdown, { provide: APP_INTERCEPTOR, useClass: LogContextInterceptor }],
  exports: [GracefulShutdown],
})
export class OperationsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DrainingMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
