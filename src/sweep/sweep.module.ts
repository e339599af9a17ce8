import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ScheduleModule } from '@nestjs/schedule';
import { Session, SessionSchema } from '../sessions/schemas/session.schema';
import { SessionsModule } from '../sessions/sessions.module';
import { LeaseService } from './lease.service';
import { Lease, LeaseSchema } from './schemas/lease.schema';
import { SessionSweepService } from './session-sweep.service';
import { SessionSweepTask } from './session-sweep.task';

@Module({
  imports: [
    ScheduleModule.forRoot(),
    MongooseModule.forFeature([
      { name: Session.name, schema: SessionSchema },
      { name: Lease.name, schema: LeaseSchema },
    ]),
    // For SessionCache: what the sweep expires must stop being served from this instance's cache.
    SessionsModule,
  ],
  providers: [LeaseService, SessionSweepService, SessionSweepTask],
  exports: [SessionSweepService, LeaseService],
})
export class SweepModule {}
