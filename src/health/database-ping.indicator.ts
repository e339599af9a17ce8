import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Connection } from 'mongoose';

/** How long the database may take to answer a ping before the instance reports itself down. */
export const DB_PING_TIMEOUT_MS = 1000;

/**
 * A real round trip to the database. Terminus' MongooseHealthIndicator only reads the
 * connection's `readyState`, which keeps saying "connected" for several seconds after the
 * server has gone away (until the driver's next heartbeat fails); a `ping` command notices at
 * once, and notices the server's return as soon as the driver reconnects.
 */
@Injectable()
export class DatabasePingIndicator {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key: string, timeoutMs = DB_PING_TIMEOUT_MS): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    const db = this.connection.db;
    if (!db) return indicator.down({ message: 'not connected' });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        db.command({ ping: 1 }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
