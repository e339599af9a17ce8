import {
  Header,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Put,
  Query,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '../common/openapi';
import { ApiErrors } from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { sessionValidationPipe } from './session-validation';
import { AllowExpiredSession } from './decorators/allow-expired-session.decorator';
import { CurrentSession } from './decorators/current-session.decorator';
import { CurrentUser } from './decorators/current-user.decorator';
import { SessionData, SessionDataRef } from './decorators/session-data.decorator';
import { EndSessionsQuery, ListSessionsQuery, SessionIdParams } from './dto/sessions.query';
import { CurrentSessionView, EndedCount, UpdateSessionDto } from './dto/update-session.dto';
import type { AuthUser, SessionContext } from './session-context';
import { assertSessionData, mergeSessionData, SessionDataObject } from './session-data';
import { SessionView } from './session.view';
import { OwnSessionsService } from './own-sessions.service';
import { ModuleRoutesGuard } from './guards/module-routes.guard';

const DATA_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  description:
    'Free-form JSON object, at most 16 KiB serialized and 8 levels deep; keys may not start with "$", contain ".", or be __proto__/constructor/prototype',
} as const;

/** The caller's own sessions. Routes with fixed paths come before `:id`. */
@ApiTags('sessions')
@ApiBearerAuth()
// Every answer here carries a token, session data or session details, so each handler says
// `Cache-Control: no-store` (RFC 6749 §5.1, ASVS V3; issue 11 finding 5).
@UsePipes(sessionValidationPipe)
@UseFilters(AllExceptionsFilter)
@UseGuards(ModuleRoutesGuard)
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: OwnSessionsService) {}

  @Header('Cache-Control', 'no-store')
  @Get()
  @ApiOperation({ summary: "List the caller's sessions, newest first" })
  @ApiOkResponse({ type: [SessionView] })
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  list(
    @CurrentUser('id') userId: string,
    @CurrentSession('id') sessionId: string,
    @Query() query: ListSessionsQuery,
  ): Promise<SessionView[]> {
    return this.sessions.list(userId, query.state, sessionId, {
      limit: query.limit,
      before: query.before,
    });
  }

  @Header('Cache-Control', 'no-store')
  @Delete()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'End every other active session of the caller (scope=others)' })
  @ApiOkResponse({ type: EndedCount })
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  async endOthers(
    @CurrentUser('id') userId: string,
    @CurrentSession('id') sessionId: string,
    @Query() _query: EndSessionsQuery,
  ): Promise<EndedCount> {
    return { ended: await this.sessions.endOthers(userId, sessionId) };
  }

  @Header('Cache-Control', 'no-store')
  @Get('current')
  @AllowExpiredSession()
  @ApiOperation({
    summary: 'The current session and its user',
    description: 'An expired (not ended) session may call this; it then shows valid: false.',
  })
  @ApiOkResponse({ type: CurrentSessionView })
  current(
    @CurrentUser() user: AuthUser,
    @CurrentSession() session: SessionContext,
  ): CurrentSessionView {
    const view = this.sessions.viewCurrent(session);
    return { ...view, valid: view.state === 'active', user };
  }

  @Header('Cache-Control', 'no-store')
  @Get('current/data')
  @ApiOperation({ summary: "The current session's data ({} when none)" })
  @ApiOkResponse({ schema: DATA_SCHEMA })
  getData(@SessionData() data: SessionDataObject): SessionDataObject {
    return data;
  }

  @Header('Cache-Control', 'no-store')
  @Patch('current/data')
  @ApiOperation({ summary: 'Merge into the data (JSON Merge Patch: a key set to null is removed)' })
  @ApiBody({ schema: DATA_SCHEMA })
  @ApiOkResponse({ schema: DATA_SCHEMA })
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  patchData(@Body() body: unknown, @SessionData('handle') ref: SessionDataRef): SessionDataObject {
    assertSessionData(body);
    const merged = mergeSessionData(ref.data, body);
    assertSessionData(merged);
    ref.data = merged;
    return merged;
  }

  @Header('Cache-Control', 'no-store')
  @Put('current/data')
  @ApiOperation({ summary: 'Replace the data' })
  @ApiBody({ schema: DATA_SCHEMA })
  @ApiOkResponse({ schema: DATA_SCHEMA })
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  putData(@Body() body: unknown, @SessionData('handle') ref: SessionDataRef): SessionDataObject {
    assertSessionData(body);
    ref.data = body;
    return body;
  }

  @Header('Cache-Control', 'no-store')
  @Get(':id')
  @ApiOperation({ summary: 'One of the caller’s sessions' })
  @ApiOkResponse({ type: SessionView })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND)
  get(
    @CurrentUser('id') userId: string,
    @CurrentSession() session: SessionContext,
    @Param() params: SessionIdParams,
  ): Promise<SessionView> {
    return this.sessions.viewOne(userId, params.id, session);
  }

  @Header('Cache-Control', 'no-store')
  @Patch(':id')
  @ApiOperation({ summary: 'Label one of the caller’s sessions' })
  @ApiOkResponse({ type: SessionView })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND)
  async label(
    @CurrentUser('id') userId: string,
    @CurrentSession('id') sessionId: string,
    @Param() params: SessionIdParams,
    @Body() body: UpdateSessionDto,
  ): Promise<SessionView> {
    return this.sessions.label(userId, params.id, body.label, sessionId);
  }

  @Header('Cache-Control', 'no-store')
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'End one of the caller’s sessions (sign out another device)' })
  @ApiNoContentResponse()
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND)
  async end(@CurrentUser('id') userId: string, @Param() params: SessionIdParams): Promise<void> {
    await this.sessions.end(userId, params.id);
  }
}
