import type { Types } from 'mongoose';

/** The authenticated caller, as guards and `@CurrentUser()` see it. */
export interface AuthUser {
  id: string;
  username: string;
  roles: string[];
  groups: string[];
}

export interface UserRecord {
  _id: Types.ObjectId | string;
  username: string;
  roles?: string[];
  groups?: string[];
}

/** `{ id, username, roles, groups }`: the only shape a user leaves the service in. */
export function toUserView(user: UserRecord): AuthUser {
  return {
    id: String(user._id),
    username: user.username,
    roles: [...(user.roles ?? [])],
    groups: [...(user.groups ?? [])],
  };
}

/** A user as the admin listing shows it: the public shape plus whether it is disabled. */
export interface AdminUserView extends AuthUser {
  disabledAt: string | null;
}

export function toAdminUserView(user: UserRecord & { disabledAt?: Date | null }): AdminUserView {
  return {
    ...toUserView(user),
    disabledAt: user.disabledAt ? user.disabledAt.toISOString() : null,
  };
}
