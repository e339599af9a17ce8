import {
  Header,
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Post,
  Req,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { sessionValidationPipe } from './session-validation';
import { AllowExpiredSession } from './decorators/allow-expired-session.decorator';
import { CurrentSession } from './decorators/current-session.decorator';
import { Public } from './decorators/public.decorator';
import { LoginDto } from './dto/login.dto';
import { ReauthDto } from './dto/reauth.dto';
import { RefreshDto } from './dto/refresh.dto';
import { TokenResponse } from './dto/token-response.dto';
import { LoginThrottlerGuard } from './guards/login-throttler.guard';
import { LoginGuard } from './guards/login.guard';
import type { AuthenticatedRequest, AuthUser } from './session-context';
import { SessionsService } from './sessions.service';

// Every answer here carries a token, session data or session details, so each handler says
// `Cache-Control: no-store` (RFC 6749 §5.1, ASVS V3; issue 11 finding 5).
@ApiTags('auth')
@ApiServiceUnavailableResponse({ description: 'SERVICE_UNAVAILABLE: the database is unreachable' })
@UsePipes(sessionValidationPipe)
@UseFilters(AllExceptionsFilter)
@Controller('auth')
export class AuthController {
  constructor(private readonly sessions: SessionsService) {}

  @Public()
  @Header('Cache-Control', 'no-store')
  @Post('login')
  @UseGuards(LoginThrottlerGuard, LoginGuard)
  @ApiOperation({ summary: 'Log in: a new session for this device, with its token pair' })
  @ApiCreatedResponse({ type: TokenResponse })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (unknown user or wrong password)' })
  @ApiForbiddenResponse({ description: 'GROUP_FORBIDDEN: not a member of a requested group' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED' })
  login(@Req() request: Request, @Body() body: LoginDto): Promise<TokenResponse> {
    return this.sessions.login(request.user as AuthUser, body, request);
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
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiUnauthorizedResponse({
    description:
      'REFRESH_TOKEN_INVALID, REFRESH_TOKEN_REUSED (session revoked), SESSION_EXPIRED, SESSION_ENDED',
  })
  refresh(@Req() request: Request, @Body() body: RefreshDto): Promise<TokenResponse> {
    return this.sessions.refresh(body.refreshToken, request);
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
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS, TOKEN_*, SESSION_*' })
  @ApiForbiddenResponse({ description: 'GROUP_FORBIDDEN' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED' })
  reauth(@Req() request: AuthenticatedRequest, @Body() body: ReauthDto): Promise<TokenResponse> {
    return this.sessions.reauth(request.auth, body, request);
  }

  @Header('Cache-Control', 'no-store')
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowExpiredSession()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'End the current session (endReason: logout)' })
  @ApiNoContentResponse()
  @ApiUnauthorizedResponse({ description: 'TOKEN_MISSING, TOKEN_INVALID, SESSION_ENDED' })
  async logout(@CurrentSession('id') sessionId: string): Promise<void> {
    await this.sessions.logout(sessionId);
  }
}
