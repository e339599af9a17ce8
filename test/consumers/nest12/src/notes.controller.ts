import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  type AuthUser,
  CurrentSession,
  CurrentUser,
  Public,
  Roles,
  SessionData,
} from 'nest-sessions';

// SessionModule's guards are global here (the default): every route needs a live session
// unless it is @Public().
@Controller('notes')
export class NotesController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('mine')
  mine(@CurrentUser() user: AuthUser, @CurrentSession('id') sessionId: string) {
    return { username: user.username, roles: user.roles, sessionId };
  }

  @Roles('admin')
  @Get('admin')
  admin(@CurrentUser('username') username: string) {
    return { admin: username };
  }

  @Post('visits')
  @HttpCode(200)
  visit(@SessionData() data: Record<string, unknown>) {
    data.visits = (typeof data.visits === 'number' ? data.visits : 0) + 1;
    return { visits: data.visits };
  }
}
