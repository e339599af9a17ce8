import { Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MongooseModule, MongooseModuleOptions } from '@nestjs/mongoose';
import { databaseConfig, DatabaseConfig } from '../../config';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../packages/embedded-mongo/src';

/** The database name used on the embedded engine (a configured URI names its own). */
export const EMBEDDED_DB_NAME = 'nest_sessions';

/**
 * How long an operation waits for a reachable server before failing. Short, so that with the
 * database down a request answers 503 within a few seconds instead of hanging; the driver keeps
 * monitoring in the background and requests succeed again as soon as the server is back.
 */
export const SERVER_SELECTION_TIMEOUT_MS = 2500;

/** Owns the embedded engine when MONGODB_URI is unset, and stops it with the app. */
@Injectable()
export class DatabaseTarget implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded?: EmbeddedMongo;

  constructor(@Inject(databaseConfig.KEY) private readonly config: DatabaseConfig) {}

  async mongooseOptions(): Promise<MongooseModuleOptions> {
    const common: MongooseModuleOptions = {
      // Without a connection, fail at once (503) rather than queue operations in memory.
      bufferCommands: false,
      serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
      // Nest's own retry loop only matters at start-up; keep it short.
      retryAttempts: 3,
      retryDelay: 1000,
    };
    if (this.config.uri) return { ...common, uri: this.config.uri };
    this.embedded = await startEmbeddedMongo({
      logger: { warn: (message) => this.logger.warn(message) },
      dataDir: this.config.embeddedDataDir,
      replicaSet: this.config.embeddedReplicaSet,
    });
    // The engine itself logs where its data lives (IN_MEMORY_NOTICE without a data directory)
    // through the logger above; this line says why it was started.
    this.logger.warn(`MONGODB_URI is not set: started the embedded engine at ${this.embedded.uri}`);
    return { ...common, uri: this.embedded.uri, dbName: EMBEDDED_DB_NAME };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.embedded?.stop();
    this.embedded = undefined;
  }
}

@Module({
  imports: [ConfigModule.forFeature(databaseConfig)],
  providers: [DatabaseTarget],
  exports: [DatabaseTarget],
})
class DatabaseTargetModule {}

/**
 * MongooseModule on MONGODB_URI, or on an in-process embedded engine when it is unset.
 * Feature modules add their models with `MongooseModule.forFeature`.
 */
@Module({
  imports: [
    DatabaseTargetModule,
    MongooseModule.forRootAsync({
      imports: [DatabaseTargetModule],
      inject: [DatabaseTarget],
      useFactory: (target: DatabaseTarget) => target.mongooseOptions(),
    }),
  ],
})
export class DatabaseModule {}
