import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { authConfig, AuthConfig } from '../../config';

/**
 * Says loudly at start what validateEnv let through only because it is safe on one development
 * process: the refusals themselves live in config/env.validation.ts.
 */
@Injectable()
export class SecurityWarnings implements OnApplicationBootstrap {
  private readonly logger = new Logger('Security');

  constructor(@Inject(authConfig.KEY) private readonly auth: AuthConfig) {}

  onApplicationBootstrap(): void {
    if (this.auth.jwtSecretGenerated) {
      this.logger.warn(
        'JWT_SECRET is not set: access tokens are signed with a random secret made for this process only. ' +
          'They stop working when it restarts and no other instance accepts them. ' +
          'Set JWT_SECRET (32+ random characters, e.g. `openssl rand -base64 32`) for anything but local development; ' +
          'production and MONGODB_URI refuse to start without it.',
      );
    }
  }
}
