import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';

const errorsDoc: ApiPropertyOptions = {
  type: [String],
  description: 'One message per peer that failed or timed out (only with ?distribute=true)',
  example: [],
};

export class ValidateResultDto {
  @ApiProperty({ description: 'The session that is now the only active one' })
  validated: string;

  @ApiProperty({ description: 'Other active sessions of the user that were expired (superseded)' })
  expired: number;

  @ApiProperty(errorsDoc)
  errors: string[];
}

export class InvalidateResultDto {
  @ApiProperty({ description: 'Sessions that were active and are now expired (admin)' })
  invalidated: number;

  @ApiProperty(errorsDoc)
  errors: string[];
}

export class ValidateAllResultDto {
  @ApiProperty({ description: 'Users holding an active session, each of whom keeps exactly one' })
  users: number;

  @ApiProperty({ description: 'Sessions expired (superseded)' })
  expired: number;
}

export class InvalidateAllResultDto {
  @ApiProperty()
  invalidated: number;
}
