import {
  Controller,
  Get,
  Header,
  HttpStatus,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../sessions';
import { DatabasePingIndicator } from './database-ping.indicator';
import { HealthDownDto, HealthUpDto } from './health.dto';

/** Express's response and Fastify's reply both set the status this way. */
interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: DatabasePingIndicator,
  ) {}

  /**
   * Terminus answers in its own shape (`{ status, info, error, details }`); the contract wants
   * `{ status, db }`, so the result is mapped here and nothing else of terminus' shape leaks.
   */
  @Get()
  @Public()
  @HealthCheck({ swaggerDocumentation: false, noCache: false })
  // A cached answer would hide an outage from the load balancer.
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Liveness and readiness',
    description:
      'Pings the database (1 s timeout). 200 when it answers, 503 when it does not: a load balancer should stop routing to an instance answering 503.',
  })
  @ApiOkResponse({ type: HealthUpDto })
  @ApiServiceUnavailableResponse({ type: HealthDownDto })
  async check(
    @Res({ passthrough: true }) res: StatusSettable,
  ): Promise<HealthUpDto | HealthDownDto> {
    try {
      await this.health.check([() => this.db.check('db')]);
      return { status: 'ok', db: 'up' };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'error', db: 'down' };
    }
  }
}
