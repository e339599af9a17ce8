import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ManualClock } from '../../common/clock';
import { Public } from '../decorators/public.decorator';
import type { SessionSettings } from '../session-module.options';
import type { SessionCheckService } from '../session-check.service';
import type { TokenService } from '../token.service';
import type { TokenTransport } from '../transport/token-transport.service';
import type { BadTokenLimiter } from './bad-token.limiter';
import { SessionGuard } from './session.guard';

class Handlers {
  @Public()
  open() {}
  closed() {}
}

const contextFor = (type: string, handler: keyof Handlers) =>
  ({
    getType: () => type,
    getHandler: () => Handlers.prototype[handler],
    getClass: () => Handlers,
  }) as unknown as ExecutionContext;

describe('SessionGuard outside HTTP', () => {
  const guard = new SessionGuard(
    new Reflector(),
    {} as TokenService,
    {} as SessionCheckService,
    {} as TokenTransport,
    {} as BadTokenLimiter,
    { clock: new ManualClock(), hooks: {} } as unknown as SessionSettings,
  );

  it('denies unmarked RPC and WebSocket handlers and admits @Public() ones', async () => {
    await expect(guard.canActivate(contextFor('rpc', 'closed'))).resolves.toBe(false);
    await expect(guard.canActivate(contextFor('ws', 'closed'))).resolves.toBe(false);
    await expect(guard.canActivate(contextFor('rpc', 'open'))).resolves.toBe(true);
  });
});
