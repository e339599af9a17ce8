import {
  Header,
  Body,
  Controller,
  HttpCode,
  Inject,
  HttpStatus,
  Post,
  Req,
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
} from '@nestjs/swagger';
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
import { ReauthDto } from './dto/reauth.dto';
import { RefreshDto } from './dto/refresh.dto';
import { TokenResponse } from './dto/token-response.dto';
import { LoginThrottlerGuard } from './guards/login-throttler.guard';
import { LoginGuard } from './guards/login.guard';
import { runWaterfall } from './hooks';
import { OwnSessionsService } from './own-sessions.service';
import type { AuthenticatedRequest, AuthUser } from './session-context';
import {
  SESSION_SETTINGS,
  SessionSettings,
  UpsertSessionErrorContext,
} from './session-module.options';
import { IssueContext, SessionsService } from './sessions.service';
import { TokenService } from './token.service';

// Every answer here carries a token, session data or session details, so each handler says
// `Cache-Control: no-store` (RFC 6749 §5.1, ASVS V3; issue 11 finding 5).
@ApiTags('auth')
@UsePipes(sessionValidationPipe)
@UseFilters(AllExceptionsFilter)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly own: OwnSessionsService,
    private readonly tokens: TokenService,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
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
  @ApiCreatedResponse({ type: TokenResponse })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.INVALID_CREDENTIALS,
    ErrorCode.GROUP_FORBIDDEN,
    ErrorCode.RATE_LIMITED,
  )
  login(
    @Req() request: Request,
    @CurrentUser() user: AuthUser,
    @Body() body: LoginDto,
  ): Promise<TokenResponse> {
    return this.issue(request, 'login', (client) => this.sessions.login(user, body, client));
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
  @ApiOkResponse({ type: TokenResponse })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.REFRESH_TOKEN_INVALID,
    ErrorCode.REFRESH_TOKEN_REUSED,
    ErrorCode.SESSION_EXPIRED,
    ErrorCode.SESSION_ENDED,
  )
  refresh(@Req() request: Request, @Body() body: RefreshDto): Promise<TokenResponse> {
    return this.issue(request, 'refresh', (client) =>
      this.sessions.refresh(body.refreshToken, client),
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
  @ApiOkResponse({ type: TokenResponse })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.INVALID_CREDENTIALS,
    ErrorCode.GROUP_FORBIDDEN,
    ErrorCode.RATE_LIMITED,
  )
  reauth(@Req() request: AuthenticatedRequest, @Body() body: ReauthDto): Promise<TokenResponse> {
    return this.issue(request, 'reauth', (client) =>
      this.sessions.reauth(request.auth, body, client),
    );
  }

  @Header('Cache-Control', 'no-store')
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowExpiredSession()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the current session (endReason: logout)' })
  @ApiNoContentResponse()
  async logout(@CurrentSession('id') sessionId: string): Promise<void> {
    await this.own.logout(sessionId);
  }

  /**
   * The request's facts for the service (client address, signing secret), and the hooks around
   * it: a failed session write goes through `onUpsertSessionError`, the answer through
   * `onRefreshTokens`.
   */
  private async issue(
    request: Request,
    operation: UpsertSessionErrorContext['operation'],
    run: (client: IssueContext) => Promise<TokenResponse>,
  ): Promise<TokenResponse> {
    const { ip, userAgent } = this.settings.connectionInfo(request);
    const [secret] = await this.tokens.secretsFor(request);
    const hooks = this.settings.hooks;
    const body = await run({
      secret,
      ip,
      userAgent,
      onWriteError: (error) =>
        runWaterfall(hooks.onUpsertSessionError, error, { operation, request }),
    });
    return runWaterfall(hooks.onRefreshTokens, body, request);
  }
}
