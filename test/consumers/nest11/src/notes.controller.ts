import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  type AuthUser,
  CurrentSession,
  CurrentUser,
  Roles,
  RolesGuard,
  SessionData,
  SessionGuard,
} from 'nest-sessions';

// This app registers SessionModule with `globalGuards: false`, so it applies the guards itself,
// in that order: who you are, then what you may do.
@Controller('notes')
export class NotesController {
  @Get('public')
  open() {
    return { ok: true };
  }

  @UseGuards(SessionGuard, RolesGuard)
  @Get('mine')
  mine(@CurrentUser() user: AuthUser, @CurrentSession('id') sessionId: string) {
    return { username: user.username, roles: user.roles, sessionId };
  }

  @UseGuards(SessionGuard, RolesGuard)
  @Roles('admin')
  @Get('admin')
  admin(@CurrentUser('username') username: string) {
    return { admin: username };
  }

  @UseGuards(SessionGuard, RolesGuard)
  @Post('visits')
  @HttpCode(200)
  visit(@SessionData() data: Record<string, unknown>) {
    data.visits = (typeof data.visits === 'number' ? data.visits : 0) + 1;
    return { visits: data.visits };
  }
}
