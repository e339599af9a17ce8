import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import type { AuthUser } from '../session-context';
import { UsersService } from '../../users/users.service';

export const LOCAL_STRATEGY = 'nest-sessions-local';

/** Username and password from the body; unknown user and wrong password answer alike. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, LOCAL_STRATEGY) {
  constructor(private readonly users: UsersService) {
    super({ usernameField: 'username', passwordField: 'password', session: false });
  }

  async validate(username: string, password: string): Promise<AuthUser> {
    const user = await this.users.verifyCredentials(username, password);
    if (!user) throw unauthorized(ErrorCode.INVALID_CREDENTIALS, 'Invalid username or password');
    return user;
  }
}
