import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ScheduleModule } from '@nestjs/schedule';
import { LeaseService } from './lease.service';
import { Lease, LeaseSchema } from './schemas/lease.schema';
import { SessionSweepService } from './session-sweep.service';
import { SessionSweepTask } from './session-sweep.task';

/**
 * The scheduled session sweep. The Session model and SessionCache come from the global
 * SessionModule; the lease collection is this module's own.
 */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    MongooseModule.forFeature([{ name: Lease.name, schema: LeaseSchema }]),
  ],
  providers: [LeaseService, SessionSweepService, SessionSweepTask],
  exports: [SessionSweepService, LeaseService],
})
export class SweepModule {}
