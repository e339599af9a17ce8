import {
  Header,
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '../common/openapi';
import type { Request } from 'express';
import { ApiErrors } from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { sessionValidationPipe } from './session-validation';
import { AllowExpiredSession } from './decorators/allow-expired-session.decorator';
import { CurrentSession } from './decorators/current-session.decorator';
import { CurrentUser } from './decorators/current-user.decorator';
import { Public } from './decorators/public.decorator';
import { LoginDto } from './dto/login.dto';
import { ChangePasswordDto } from './dto/change-password.dto';
import { ReauthDto } from './dto/reauth.dto';
import { RefreshDto } from './dto/refresh.dto';
import { TokenAnswerDto } from './dto/token-response.dto';
import { LoginThrottlerGuard } from './guards/login-throttler.guard';
import { LoginGuard } from './guards/login.guard';
import { badRequest, unauthorized } from '../common/api.exception';
import { OwnSessionsService } from './own-sessions.service';
import type { AuthenticatedRequest, AuthUser, SessionContext } from './session-context';
import { SessionsService } from './sessions.service';
import { SessionSignIn } from './sign-in.service';
import type { HeaderWritable } from './transport/set-cookie';
import { TokenAnswer, TokenTransport } from './transport/token-transport.service';
import { ModuleRoutesGuard } from './guards/module-routes.guard';
import { DeviceTrust } from './device-trust';

// Every answer here carries a token, session data or session details, so each handler says
// `Cache-Control: no-store` (RFC 6749 §5.1, ASVS V3; issue 11 finding 5).
@ApiTags('auth')
@UsePipes(sessionValidationPipe)
@UseFilters(AllExceptionsFilter)
@UseGuards(ModuleRoutesGuard)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly own: OwnSessionsService,
    private readonly signIn: SessionSignIn,
    private readonly transport: TokenTransport,
    private readonly devices: DeviceTrust,
  ) {}

  @Public()
  @Header('Cache-Control', 'no-store')
  @Post('login')
  @UseGuards(LoginThrottlerGuard, LoginGuard)
  @ApiOperation({
    summary: 'Log in: a new session for this device, with its token pair',
    description:
      'An unknown user and a wrong password get the same INVALID_CREDENTIALS; GROUP_FORBIDDEN when a requested group is not one of the user’s.',
  })
  @ApiCreatedResponse({ type: TokenAnswerDto })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.INVALID_CREDENTIALS,
    ErrorCode.GROUP_FORBIDDEN,
    ErrorCode.RATE_LIMITED,
  )
  async login(
    @Req() request: Request,
    @Res({ passthrough: true }) response: HeaderWritable,
    @CurrentUser() user: AuthUser,
    @Body() body: LoginDto,
  ): Promise<TokenAnswer> {
    const answer = await this.signIn.login(request, response, user, body);
    await this.devices.remember(request, response, user.username);
    return answer;
  }

  @Public()
  @Header('Cache-Control', 'no-store')
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Rotate the refresh token',
    description:
      'The presented token is replaced. Presented again within REFRESH_REUSE_GRACE_SECONDS it answers with the same new pair; later, the session is revoked.',
  })
  @ApiOkResponse({ type: TokenAnswerDto })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.REFRESH_TOKEN_INVALID,
    ErrorCode.REFRESH_TOKEN_REUSED,
    ErrorCode.SESSION_EXPIRED,
    ErrorCode.SESSION_ENDED,
  )
  refresh(
    @Req() request: Request,
    @Res({ passthrough: true }) response: HeaderWritable,
    @Body() body: RefreshDto = {},
  ): Promise<TokenAnswer> {
    // The body's token wins; the refresh cookie stands in for an empty body (cookie modes).
    const presented = body.refreshToken ?? this.transport.refreshToken(request);
    if (!presented) {
      if (!this.transport.usesCookies) {
        throw badRequest('refreshToken must be a string; refreshToken should not be empty');
      }
      throw unauthorized(
        ErrorCode.REFRESH_TOKEN_INVALID,
        'No refresh token: send refreshToken in the body or the refresh cookie',
      );
    }
    return this.signIn.issue(request, response, 'refresh', (client) =>
      this.sessions.refresh(presented, client),
    );
  }

  @Header('Cache-Control', 'no-store')
  @Post('reauth')
  @HttpCode(HttpStatus.OK)
  @UseGuards(LoginThrottlerGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Confirm the password on the current session',
    description: 'Same session id; fresh tokens; groups replaced when given.',
  })
  @ApiOkResponse({ type: TokenAnswerDto })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.INVALID_CREDENTIALS,
    ErrorCode.GROUP_FORBIDDEN,
    ErrorCode.RATE_LIMITED,
  )
  reauth(
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: HeaderWritable,
    @Body() body: ReauthDto,
  ): Promise<TokenAnswer> {
    return this.signIn.issue(request, response, 'reauth', (client) =>
      this.sessions.reauth(request.auth, body, client),
    );
  }

  @Header('Cache-Control', 'no-store')
  @Post('password')
  @HttpCode(HttpStatus.OK)
  @UseGuards(LoginThrottlerGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Change the password',
    description:
      'Same session id, fresh tokens; every other session of the user ends (password_changed) ' +
      'and tokens issued before the change are refused.',
  })
  @ApiOkResponse({ type: TokenAnswerDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.INVALID_CREDENTIALS, ErrorCode.RATE_LIMITED)
  changePassword(
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: HeaderWritable,
    @Body() body: ChangePasswordDto,
  ): Promise<TokenAnswer> {
    return this.signIn.issue(request, response, 'password', (client) =>
      this.sessions.changePassword(request.auth, body, client),
    );
  }

  @Header('Cache-Control', 'no-store')
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowExpiredSession()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the current session (endReason: logout)' })
  @ApiNoContentResponse()
  async logout(
    @CurrentSession() session: SessionContext,
    @Res({ passthrough: true }) response: HeaderWritable,
  ): Promise<void> {
    await this.own.logout(session.userId, session.id);
    this.transport.clear(response);
  }
}
