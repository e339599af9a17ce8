import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import type { HttpResponse } from '../platform/http-platform';
import { CurrentSession, Roles } from '../sessions';
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
@ApiErrors(ErrorCode.FORBIDDEN)
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
  @ApiErrors(ErrorCode.VALIDATION_FAILED)
  async export(
    @Query() query: ExportSessionsQueryDto,
    @CurrentSession('id') sessionId: string,
    @Res() res: HttpResponse,
  ): Promise<void> {
    await this.exporter.export(query, sessionId, res);
  }

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Make one session of a user the only active one (the named one, else the user's latest)",
  })
  @ApiOkResponse({ type: ValidateResultDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT)
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
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND)
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
