import { ApiProperty } from '@nestjs/swagger';
import { SessionRecord, SessionView, toSessionView } from '../../sessions';

/** The contract's Session object plus the owner's username, as the admin export lists it. */
export class AdminSessionView extends SessionView {
  @ApiProperty({ example: 'alice' })
  username: string;
}

/**
 * Maps a session document to its admin view, with the effective state as of `now`; `current`
 * marks the admin's own session, as everywhere else in the API.
 */
export function toAdminSessionView(
  doc: SessionRecord & { username: string },
  callerSessionId: string | null,
  now: Date,
  idleTimeoutSeconds: number,
): AdminSessionView {
  return {
    ...toSessionView(doc, callerSessionId, { now, idleTimeoutSeconds }),
    username: doc.username,
  };
}
