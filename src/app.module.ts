import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { allConfigs, validateEnv } from '../config';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { AdminModule } from './admin/admin.module';
import { CommonModule } from './common/common.module';
import { createValidationPipe } from './common/validation';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { OperationsModule } from './operations/operations.module';
import { SessionModule } from './sessions/sessions.module';
import { SweepModule } from './sweep/sweep.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv, cache: true }),
    CommonModule,
    DatabaseModule,
    SessionModule.forRoot(),
    AdminModule,
    OperationsModule,
    HealthModule,
    SweepModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
export class AppModule {}
