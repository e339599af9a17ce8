import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { UsersService } from '../users/users.service';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';
import { SessionStore } from './session.store';

/**
 * The `initialAdmin` option (this app: ADMIN_USERNAME/ADMIN_PASSWORD), made or updated at start.
 * The app's validateEnv has already refused a password outside the policy. A changed password is
 * applied like a password reset: every session of the admin ends (`password_changed`), so whoever
 * knew the old one is out.
 */
@Injectable()
export class InitialAdmin implements OnApplicationBootstrap {
  private readonly logger = new Logger(InitialAdmin.name);

  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionStore,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.initialAdmin) return;
    const { username: adminUsername, password: adminPassword } = this.settings.initialAdmin;
    const { outcome, userId } = await this.users.ensureBootstrapAdmin(adminUsername, adminPassword);
    if (outcome === 'created') this.logger.log(`Created the admin user "${adminUsername}"`);
    if (outcome === 'applied') {
      const ended = await this.sessions.endAllOfUser(userId, 'password_changed');
      this.logger.warn(
        `The initial admin's password (ADMIN_PASSWORD) changed since it was last applied: set it as the password of "${adminUsername}" and ended ${ended} of its sessions`,
      );
    }
  }
}
