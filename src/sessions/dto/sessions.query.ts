import { ApiProperty, ApiPropertyOptional } from '../../common/openapi';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsMongoId, IsOptional, Max, Min } from 'class-validator';
import { SESSION_STATES, SessionState } from '../schemas/session.schema';

export const STATE_FILTERS = [...SESSION_STATES, 'all'] as const;

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
const LIMIT_MESSAGE = `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`;

export class ListSessionsQuery {
  @ApiPropertyOptional({ enum: STATE_FILTERS, default: 'active' })
  @IsOptional()
  @IsIn(STATE_FILTERS)
  state: SessionState | 'all' = 'active';

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    description: 'Sessions per page',
  })
  @IsOptional()
  // Digits only: `1e2`, `0x10`, ` 5` or `5.0` are refused rather than read as numbers.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(MAX_PAGE_SIZE, { message: LIMIT_MESSAGE })
  limit: number = DEFAULT_PAGE_SIZE;

  @ApiPropertyOptional({
    description:
      'The next page: the sessions created before the session with this id (the last id of ' +
      'the previous page). Any session id is a position; only your own sessions are listed.',
    example: '665f1c2e8b3e4a0012345678',
  })
  @IsOptional()
  @IsMongoId({ message: 'before must be a session id' })
  before?: string;
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
