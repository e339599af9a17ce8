import { ApiProperty } from '@nestjs/swagger';
import { SessionRecord, SessionView, toSessionView } from '../../sessions/session.view';

/** The contract's Session object plus the owner's username, as the admin export lists it. */
export class AdminSessionView extends SessionView {
  @ApiProperty({ example: 'alice' })
  username: string;
}

/** Maps a session document to its admin view, with the effective state as of `now`. */
export function toAdminSessionView(
  doc: SessionRecord & { username: string },
  now: Date,
  idleTimeoutSeconds: number,
): AdminSessionView {
  return { ...toSessionView(doc, null, { now, idleTimeoutSeconds }), username: doc.username };
}
