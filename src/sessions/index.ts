/** What other modules and apps use from the session module. */
export { SessionModule } from './sessions.module';
export {
  resolveSessionOptions,
  SESSION_DEFAULTS,
  SESSION_MODULE_OPTIONS,
  SESSION_SETTINGS,
} from './session-module.options';
export type {
  CacheWatchMode,
  SessionHooks,
  SessionModuleAsyncOptions,
  SessionModuleOptions,
  SessionModuleStaticOptions,
  SessionSettings,
  TokenSecrets,
  TokenTransportMode,
  CookieOptions,
  UpsertSessionErrorContext,
} from './session-module.options';
export type { ConnectionInfo } from './connection-info';
export { SessionsService } from './sessions.service';
export { SessionSignIn } from './sign-in.service';
export { DeviceTrust } from './device-trust';
export type { SignInOptions } from './sign-in.service';
export type { IssueContext } from './sessions.service';
export { SessionCheckService } from './session-check.service';
export { OwnSessionsService } from './own-sessions.service';
export { SessionStore, REVIVABLE_END_REASONS } from './session.store';
export type { NewSession, OverdueSession, SessionLean } from './session.store';
export { toSessionContext, sessionRecordOf } from './session-context';
export { SessionCache } from './session-cache';
export { SessionChangeWatcher } from './session-change.watcher';
export type { WatchState } from './session-change.watcher';
export { TokenService } from './token.service';
export { TokenTransport } from './transport/token-transport.service';
export type { Credential, TokenAnswer } from './transport/token-transport.service';
export { appendSetCookie } from './transport/set-cookie';
export type { HeaderWritable } from './transport/set-cookie';
export type { AccessClaims } from './token.service';
export { TokenResponse, TokenAnswerDto } from './dto/token-response.dto';
export { END_REASONS, SESSION_STATES } from './schemas/session.schema';
export type { EndReason, SessionState } from './schemas/session.schema';
export { SessionGuard } from './guards/session.guard';
export { RolesGuard } from './guards/roles.guard';
export { GroupsGuard } from './guards/groups.guard';
export { SessionDataInterceptor } from './interceptors/session-data.interceptor';
export { Public } from './decorators/public.decorator';
export { Roles } from './decorators/roles.decorator';
export { RequireGroups } from './decorators/require-groups.decorator';
export { RequireRecentAuth } from './decorators/require-recent-auth.decorator';
export { RecentAuthGuard } from './guards/recent-auth.guard';
export { AllowExpiredSession } from './decorators/allow-expired-session.decorator';
export { CurrentUser } from './decorators/current-user.decorator';
export { CurrentSession } from './decorators/current-session.decorator';
export { SessionData } from './decorators/session-data.decorator';
export type { SessionDataRef } from './decorators/session-data.decorator';
export type {
  AuthContext,
  AuthUser,
  AuthenticatedRequest,
  SessionContext,
} from './session-context';
export { toSessionView, SessionView } from './session.view';
export { DeviceView, parseDevice } from './device';
export type { SessionRecord } from './session.view';
export {
  effectiveState,
  liveSessionFilter,
  pastDeadlineFilter,
  absoluteTimeoutFilter,
  idleTimeoutFilter,
} from './session-state';
export { getConnectionInfo } from './connection-info';
export { runWaterfall } from './hooks';
export type { WaterfallHook } from './hooks';
export { SessionEvents, SESSION_EVENT_NAMES } from './events/session-events';
export type {
  SessionEvent,
  SessionEventName,
  SessionEventPayloads,
  SessionRef,
} from './events/session-events';
export { UsersService } from '../users/users.service';
export type { CreateUserInput } from '../users/users.service';
export { PasswordService } from '../users/password.service';
export type { HashingLane } from '../users/hashing-gate';
export type { UserRecord } from '../users/user.view';
export { Clock, ManualClock } from '../common/clock';
// The error shape and validation the module's routes use, for a host's own routes to match.
export { AllExceptionsFilter, toErrorBody } from '../common/all-exceptions.filter';
export { createValidationPipe } from '../common/validation';
export { ErrorCode } from '../common/error-codes';
export type { ErrorBody } from '../common/error-codes';
export { ErrorResponseDto } from '../common/error-response.dto';
export {
  ApiException,
  RateLimitedException,
  badRequest,
  conflict,
  forbidden,
  notFound,
  serviceUnavailable,
  unauthorized,
} from '../common/api.exception';
