import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { ErrorCode } from '../../common/error-codes';
import { Public } from '../../sessions';
import { AdminSessionsService } from '../admin-sessions.service';
import { InvalidateResultDto, ValidateResultDto } from '../dto/admin-results.dto';
import { SessionTargetDto } from '../dto/session-target.dto';
import { SignatureGuard } from './signature.guard';

/**
 * The admin's validate/invalidate for peer instances: no bearer token, an HMAC signature under
 * one of the PEER_SECRET secrets, addressed to this instance, instead. These never fan out again (a `distribute` query is ignored), so a
 * misconfigured ring of peers cannot loop.
 */
@ApiTags('remote')
@ApiHeader({
  name: 'X-Signature-Timestamp',
  required: true,
  description: 'Unix time, whole seconds',
})
@ApiHeader({
  name: 'X-Signature-Nonce',
  required: true,
  description: '16 to 64 characters of [A-Za-z0-9_-], fresh for every request',
})
@ApiHeader({
  name: 'X-Signature-Audience',
  required: true,
  description: "The receiver's origin as the sender has it in PEER_HOSTS (one of its PEER_SELF)",
})
@ApiHeader({
  name: 'X-Signature',
  required: true,
  description:
    'Lowercase hex HMAC-SHA256(secret, METHOD + "\\n" + AUDIENCE + "\\n" + PATH + "\\n" + TIMESTAMP + "\\n" + NONCE + "\\n" + BODY)',
})
@ApiErrors(ErrorCode.SIGNATURE_INVALID, ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND)
@Public()
@UseGuards(SignatureGuard)
@Controller('remote/sessions')
export class RemoteSessionsController {
  constructor(private readonly admin: AdminSessionsService) {}

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Signed peer call: same as POST /admin/sessions/validate' })
  @ApiOkResponse({ type: ValidateResultDto })
  @ApiErrors(ErrorCode.CONFLICT)
  async validate(@Body() body: SessionTargetDto): Promise<ValidateResultDto> {
    return { ...(await this.admin.validate(body)), errors: [] };
  }

  @Post('invalidate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Signed peer call: same as POST /admin/sessions/invalidate' })
  @ApiOkResponse({ type: InvalidateResultDto })
  async invalidate(@Body() body: SessionTargetDto): Promise<InvalidateResultDto> {
    return { ...(await this.admin.invalidate(body)), errors: [] };
  }
}
