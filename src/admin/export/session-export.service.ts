import { Inject, Injectable, Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Clock } from '../../common/clock';
import { type HttpResponse, takeRawResponse } from '../../platform/http-platform';
import { SESSION_SETTINGS, type SessionSettings, SessionStore } from '../../sessions';
import { ExportSessionsQueryDto } from '../dto/export-query.dto';
import { createChunker, createCsvStream, createJsonArrayStream } from './export-formats';
import { toAdminSessionView } from './admin-session-view';

/** Documents fetched per round trip: the most the export holds in memory at once. */
const CURSOR_BATCH_SIZE = 500;

/**
 * Streams the admin export: a database cursor, newest first, through a JSON-array or CSV
 * formatter into the HTTP response. Each stage pulls only as fast as the next one drains
 * (stream backpressure down to the socket), so memory stays flat whatever the number of
 * sessions; if the client goes away the pipeline is torn down and the cursor closed.
 */
@Injectable()
export class SessionExportService {
  private readonly logger = new Logger(SessionExportService.name);

  constructor(
    private readonly sessions: SessionStore,
    @Inject(SESSION_SETTINGS) private readonly config: SessionSettings,
    private readonly clock: Clock,
  ) {}

  async export(
    query: ExportSessionsQueryDto,
    callerSessionId: string | null,
    reply: HttpResponse,
  ): Promise<void> {
    const now = this.clock.now();
    // By effective state: a stored `active` session past a deadline is listed as expired.
    const cursor = this.sessions.exportCursor(
      { username: query.user, state: query.state },
      now,
      CURSOR_BATCH_SIZE,
    );

    // Fetch the first document before any header goes out, so that a database that cannot be
    // reached still gets a proper 503 rather than a cut-off 200.
    let first: Awaited<ReturnType<typeof cursor.next>>;
    try {
      first = await cursor.next();
    } catch (err) {
      await cursor.close().catch(() => undefined);
      throw err;
    }
    const view = (doc: NonNullable<typeof first>) =>
      toAdminSessionView(doc, callerSessionId, now, this.config.idleTimeoutSeconds);
    async function* views() {
      try {
        for (let doc = first; doc; doc = await cursor.next()) yield view(doc);
      } finally {
        await cursor.close();
      }
    }

    const res = takeRawResponse(reply);
    res.statusCode = 200;
    res.setHeader('Cache-Control', 'no-store');
    let formatter;
    if (query.format === 'csv') {
      const stamp = now.toISOString().replace(/[:.]/g, '-');
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="sessions-${stamp}.csv"`);
      formatter = createCsvStream();
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      formatter = createJsonArrayStream();
    }

    try {
      await pipeline(
        Readable.from(views(), { highWaterMark: CURSOR_BATCH_SIZE }),
        formatter,
        createChunker(),
        res,
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') {
        this.logger.debug('Export cancelled by the client');
        return;
      }
      // Headers are out by now: the exception filter cuts the connection so the client sees
      // a truncated transfer, never a silently short file.
      throw err;
    }
  }
}
