import { ApiProperty, ApiPropertyOptional } from './openapi';
import { ErrorCode } from './error-codes';

/** The contract's error body, as documented in OpenAPI (the filter builds `ErrorBody`). */
export class ErrorResponseDto {
  @ApiProperty({ example: 401 })
  statusCode: number;

  @ApiProperty({ example: 'Unauthorized', description: 'The HTTP reason phrase' })
  error: string;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.SESSION_EXPIRED })
  code: ErrorCode;

  @ApiProperty({ example: 'The session has expired' })
  message: string;

  @ApiPropertyOptional({
    description: 'On 5xx only: the request id to quote when reporting the problem',
    example: '6f1c2a4e-3b7d-4c55-9a0e-2f8b1d9c7e10',
  })
  requestId?: string;
}
