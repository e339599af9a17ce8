import { BeforeApplicationShutdown, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';

/** Requests still running this long after shutdown began are cut off so the process can exit. */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Graceful shutdown on SIGTERM/SIGINT (`enableShutdownHooks` in main.ts). Nest's own order does
 * most of it: scheduler stopped and sweep finished at a batch boundary (before-shutdown hooks),
 * then the HTTP server closed (no new connections; `server.close()` waits for requests in
 * flight), then the database connection closed (shutdown hooks). This adds what Nest leaves
 * out: responses written while draining carry `Connection: close` (see DrainingMiddleware), so
 * keep-alive clients let go of their sockets, and a bound on the drain so one stuck request
 * cannot block the exit.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger(GracefulShutdown.name);
  private draining = false;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  get isDraining(): boolean {
    return this.draining;
  }

  beforeApplicationShutdown(signal?: string): void {
    this.draining = true;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    this.logger.log({ msg: 'shutting down: draining requests in flight', signal });
    server.closeIdleConnections();
    setTimeout(() => {
      this.logger.warn({ msg: 'drain timeout: closing the remaining connections' });
      server.closeAllConnections();
    }, SHUTDOWN_DRAIN_TIMEOUT_MS).unref();
  }
}

/** During the drain, closes each connection after its response. */
@Injectable()
export class DrainingMiddleware implements NestMiddleware {
  constructor(private readonly shutdown: GracefulShutdown) {}

  use(_req: Request, res: Response, next: NextFunction): void {
    if (this.shutdown.isDraining) res.setHeader('Connection', 'close');
    next();
  }
}
