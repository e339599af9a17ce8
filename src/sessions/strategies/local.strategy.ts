import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Request } from 'express';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-local';
import { UsersService } from '../../users/users.service';
import { DeviceTrust } from '../device-trust';
import { SessionEvents } from '../events/session-events';
import { SESSION_SETTINGS, type SessionSettings } from '../session-module.options';
import type { AuthUser } from '../session-context';
import { invalidCredentials } from '../session-errors';

/** The name PassportStrategy registers every instance under; none is ever looked up by it. */
const SHARED_NAME = 'nest-sessions-local';
let instances = 0;

/**
 * Username and password from the body; unknown user and wrong password answer alike.
 *
 * Registered in passport under a name of its own per module instance (see LoginGuard, which
 * picks it through AuthModuleOptions.defaultStrategy): under one shared name, the last app
 * created in a process (tests, peers, a host with two apps) would log users in against its
 * own database for every app. Unregistered last when the app closes, after requests in
 * flight (a login among them) have been answered.
 */
@Injectable()
export class LocalStrategy
  extends PassportStrategy(Strategy, SHARED_NAME)
  implements OnApplicationShutdown
{
  readonly registeredAs = `nest-sessions-local-${++instances}`;

  constructor(
    private readonly users: UsersService,
    private readonly devices: DeviceTrust,
    private readonly events: SessionEvents,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {
    super({
      usernameField: 'username',
      passwordField: 'password',
      session: false,
      // The request, for the client facts of a `login.failed` event.
      passReqToCallback: true,
    });
    // Not left under the shared name, where it would outlive its app.
    passport.unuse(SHARED_NAME);
    passport.use(this.registeredAs, this);
  }

  async validate(request: Request, username: string, password: string): Promise<AuthUser> {
    const lane = await this.devices.laneFor(request, username);
    const user = await this.users.verifyCredentials(username, password, lane);
    if (!user) {
      const { ip, userAgent } = this.settings.connectionInfo(request);
      this.events.emit('login.failed', { username, operation: 'login', ip, userAgent });
      throw invalidCredentials();
    }
    return user;
  }

  onApplicationShutdown(): void {
    passport.unuse(this.registeredAs);
  }
}
