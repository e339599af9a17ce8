import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../sessions/decorators/roles.decorator';
import { AdminSessionsService } from './admin-sessions.service';
import {
  InvalidateAllResultDto,
  InvalidateResultDto,
  ValidateAllResultDto,
  ValidateResultDto,
} from './dto/admin-results.dto';
import { DistributeQueryDto } from './dto/distribute-query.dto';
import { ExportSessionsQueryDto } from './dto/export-query.dto';
import { SessionTargetDto } from './dto/session-target.dto';
import { AdminSessionView } from './export/admin-session-view';
import { SessionExportService } from './export/session-export.service';
import { PeerDistributor } from './remote/peer-distributor.service';

/** Exactly the contract's body, so peers verify the signature over the same bytes we sign. */
const targetBody = (b: SessionTargetDto) =>
  b.sessionId === undefined
    ? { username: b.username }
    : { username: b.username, sessionId: b.sessionId };

@ApiTags('admin')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No, invalid or expired bearer token' })
@ApiForbiddenResponse({ description: 'FORBIDDEN: the caller is not an admin' })
@Roles('admin')
@Controller('admin/sessions')
export class AdminSessionsController {
  constructor(
    private readonly admin: AdminSessionsService,
    private readonly exporter: SessionExportService,
    private readonly peers: PeerDistributor,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List or export every session (streamed, newest first)',
    description:
      'json: an array of Session objects each with "username"; csv: a spreadsheet-safe attachment ' +
      'with a header row. Cells that a spreadsheet would run as a formula are prefixed with a quote.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: [AdminSessionView] })
  async export(@Query() query: ExportSessionsQueryDto, @Res() res: Response): Promise<void> {
    await this.exporter.export(query, res);
  }

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Make one session of a user the only active one (the named one, else the user's latest)",
  })
  @ApiOkResponse({ type: ValidateResultDto })
  @ApiNotFoundResponse({ description: 'No such user, or the session is not theirs' })
  @ApiConflictResponse({ description: 'The session was signed out or is past its absolute expiry' })
  async validate(
    @Body() body: SessionTargetDto,
    @Query() query: DistributeQueryDto,
  ): Promise<ValidateResultDto> {
    const result = await this.admin.validate(body);
    const errors = query.distribute
      ? await this.peers.distribute('validate', targetBody(body))
      : [];
    return { ...result, errors };
  }

  @Post('invalidate')
  @HttpCode(200)
  @ApiOperation({ summary: "Expire one session of a user, or all of the user's (endReason admin)" })
  @ApiOkResponse({ type: InvalidateResultDto })
  @ApiNotFoundResponse({ description: 'No such user, or the session is not theirs' })
  async invalidate(
    @Body() body: SessionTargetDto,
    @Query() query: DistributeQueryDto,
  ): Promise<InvalidateResultDto> {
    const result = await this.admin.invalidate(body);
    const errors = query.distribute
      ? await this.peers.distribute('invalidate', targetBody(body))
      : [];
    return { ...result, errors };
  }

  @Post('validate-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'For every user, keep the latest active session and expire the others' })
  @ApiOkResponse({ type: ValidateAllResultDto })
  validateAll(): Promise<ValidateAllResultDto> {
    return this.admin.validateAll();
  }

  @Post('invalidate-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Expire every active session (endReason admin)' })
  @ApiOkResponse({ type: InvalidateAllResultDto })
  invalidateAll(): Promise<InvalidateAllResultDto> {
    return this.admin.invalidateAll();
  }
}
