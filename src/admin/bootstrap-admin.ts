import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Types } from 'mongoose';
import { authConfig, AuthConfig } from '../../config';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';

/**
 * The ADMIN_USERNAME/ADMIN_PASSWORD admin, made or updated at start. validateEnv has already
 * refused a password outside the policy. A changed ADMIN_PASSWORD is applied like a password
 * reset: every session of the admin ends (`password_changed`), so whoever knew the old one is out.
 */
@Injectable()
export class BootstrapAdmin implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapAdmin.name);

  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { adminUsername, adminPassword } = this.config;
    if (!adminUsername || !adminPassword) return;
    const { outcome, userId } = await this.users.ensureBootstrapAdmin(adminUsername, adminPassword);
    if (outcome === 'created') this.logger.log(`Created the admin user "${adminUsername}"`);
    if (outcome === 'applied') {
      const ended = await this.sessions.endSessions(
        { userId: new Types.ObjectId(userId) },
        'password_changed',
        'ended',
      );
      this.logger.warn(
        `ADMIN_PASSWORD changed since it was last applied: set it as the password of "${adminUsername}" and ended ${ended} of its sessions`,
      );
    }
  }
}
