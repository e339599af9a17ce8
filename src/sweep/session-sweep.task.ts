import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { sweepConfig, SweepConfig } from '../../config';
import { SessionSweepService } from './session-sweep.service';

export const SWEEP_JOB = 'session-sweep';

/**
 * Runs the sweep on SWEEP_CRON. The expression is configuration, so the job is registered at
 * bootstrap rather than with `@Cron()` (whose argument is fixed when the class is loaded);
 * `waitForCompletion` makes a tick that fires during a long sweep do nothing instead of
 * starting a second one. The scheduler module stops the job on shutdown.
 */
@Injectable()
export class SessionSweepTask implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionSweepTask.name);

  constructor(
    private readonly sweep: SessionSweepService,
    private readonly registry: SchedulerRegistry,
    @Inject(sweepConfig.KEY) private readonly config: SweepConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.enabled) {
      this.logger.log('session sweep disabled (SWEEP_ENABLED=false)');
      return;
    }
    const job = CronJob.from({
      cronTime: this.config.cron,
      name: SWEEP_JOB,
      waitForCompletion: true,
      start: true,
      onTick: () => this.tick(),
    });
    this.registry.addCronJob(SWEEP_JOB, job);
  }

  /** A failed run is logged by the service and retried on the next tick; it must not crash. */
  async tick(): Promise<void> {
    await this.sweep.sweepOnce().catch(() => undefined);
  }

  /** Lets a sweep in progress stop at its next batch boundary before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.sweep.stop();
  }
}
