import { ApiProperty, ApiPropertyOptional } from '../../common/openapi';
import { IsIn, IsMongoId, IsOptional } from 'class-validator';
import { SESSION_STATES, SessionState } from '../schemas/session.schema';

export const STATE_FILTERS = [...SESSION_STATES, 'all'] as const;

export class ListSessionsQuery {
  @ApiPropertyOptional({ enum: STATE_FILTERS, default: 'active' })
  @IsOptional()
  @IsIn(STATE_FILTERS)
  state: SessionState | 'all' = 'active';
}

export class EndSessionsQuery {
  @ApiProperty({ enum: ['others'], description: 'Only `others` is supported' })
  @IsIn(['others'])
  scope: 'others';
}

export class SessionIdParams {
  @ApiProperty({ description: 'Session id' })
  @IsMongoId({ message: 'id must be a session id' })
  id: string;
}
