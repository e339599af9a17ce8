import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { SessionGuard } from './session.guard';

/** Whether SessionModule registered its guards as APP_GUARDs (the `globalGuards` option). */
export const SESSION_GUARDS_ARE_GLOBAL = Symbol('SESSION_GUARDS_ARE_GLOBAL');

/**
 * On the module's own controllers: their bearer routes (logout, reauth, /sessions/*) need a
 * session whether or not the host registers the guards globally. With `globalGuards: false`
 * this runs SessionGuard for them (which lets `@Public()` routes through); with global guards
 * it has already run, and running it twice would verify every token twice.
 */
@Injectable()
export class ModuleRoutesGuard implements CanActivate {
  constructor(
    @Inject(SESSION_GUARDS_ARE_GLOBAL) private readonly guardsAreGlobal: boolean,
    private readonly sessionGuard: SessionGuard,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    return this.guardsAreGlobal || this.sessionGuard.canActivate(context);
  }
}
