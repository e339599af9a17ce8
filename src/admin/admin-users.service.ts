import { Inject, Injectable } from '@nestjs/common';
import { conflict, notFound } from '../common/api.exception';
import {
  type AuthUser,
  SESSION_SETTINGS,
  SessionEvents,
  type SessionSettings,
  SessionStore,
} from '../sessions';
import { refuseUsernameAsPassword } from '../users/password-policy';
import type { AdminUserView } from '../users/user.view';
import { UsersService } from '../users/users.service';

/**
 * What an admin does to users beyond creating them: list, reset a password, disable, delete.
 * Each change that takes a user's access away ends every session of theirs here, in the same
 * request, so an answer of 200/204 means no token of that user still works on this instance
 * (and on others within the session cache's ttl).
 */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionStore,
    private readonly events: SessionEvents,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  list(limit: number, after?: string): Promise<AdminUserView[]> {
    return this.users.list(limit, after);
  }

  /** New password for the user; every session of theirs ends (`password_changed`). */
  async resetPassword(username: string, newPassword: string): Promise<{ ended: number }> {
    refuseUsernameAsPassword(username, newPassword);
    const userId = await this.users.setPassword(username, newPassword);
    if (!userId) throw notFound(`No user named "${username}"`);
    const ended = await this.sessions.endAllOfUser(userId, 'password_changed');
    this.events.emit('user.password_changed', {
      userId: String(userId),
      username,
      by: 'admin',
      sessionId: null,
    });
    return { ended };
  }

  /**
   * Removes the user and ends every session of theirs (`admin`). An admin cannot remove
   * themself: that is how the last admin would go, leaving nobody to undo it.
   */
  async remove(caller: AuthUser, username: string): Promise<void> {
    refuseSelf(caller, username, 'remove');
    const userId = await this.users.remove(username);
    if (!userId) throw notFound(`No user named "${username}"`);
    await this.sessions.endAllOfUser(userId, 'admin');
  }

  /**
   * Disables (every session ends, `admin`; sign-in refused) or enables the user. Not oneself,
   * for the same reason as remove.
   */
  async setDisabled(caller: AuthUser, username: string, disabled: boolean): Promise<AdminUserView> {
    refuseSelf(caller, username, disabled ? 'disable' : 'enable');
    const user = await this.users.setDisabled(username, disabled, this.settings.clock.now());
    if (!user) throw notFound(`No user named "${username}"`);
    if (disabled) await this.sessions.endAllOfUser(user.id, 'admin');
    return user;
  }
}

function refuseSelf(caller: AuthUser, username: string, action: string): void {
  if (caller.username === username) {
    throw conflict(`An admin cannot ${action} their own account; ask another admin`);
  }
}
