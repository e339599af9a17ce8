import { Controller, Get, Module, Post } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AuthUser,
  CurrentSession,
  CurrentUser,
  Public,
  SessionData,
  SessionModule,
} from '../src/sessions';
import { UsersService } from '../src/users/users.service';
import { bearer, TEST_SESSION_OPTIONS } from './support/app';
import { startTestDatabase, TestDatabase } from './support/database';

/** A feature of the host app, behind the library's global guard. */
@Controller('notes')
class NotesController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('mine')
  mine(@CurrentUser() user: AuthUser, @CurrentSession('id') sessionId: string) {
    return { username: user.username, sessionId };
  }

  @Post('visit')
  visit(@SessionData() data: Record<string, unknown>) {
    data.visits = ((data.visits as number) ?? 0) + 1;
    return data;
  }
}

/** What a Fastify host writes: a connection and the module, nothing from this service's app. */
@Module({ controllers: [NotesController] })
class NotesModule {}

/**
 * SessionModule in a host that runs on Fastify with none of this service's own setup (no
 * configureApp, no global pipe or filter, Fastify's default body parsing): the library's
 * routes, guard, decorators and data interceptor work there as they do on Express.
 */
describe('SessionModule in a Fastify host app (e2e)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    db = await startTestDatabase();
    @Module({
      imports: [
        MongooseModule.forRoot(db.uri),
        SessionModule.forRoot(TEST_SESSION_OPTIONS),
        NotesModule,
      ],
    })
    class FastifyHostModule {}
    const moduleRef = await Test.createTestingModule({ imports: [FastifyHostModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.get(UsersService).create({ username: 'alice', password: 'alice-password' });
  });
  afterAll(async () => {
    await app?.close();
    await db?.stop();
  });

  it('denies by default, lets @Public() through, and shapes its own errors', async () => {
    await http().get('/notes/public').expect(200, { ok: true });
    // On the host's route the host's filter (here Nest's default) writes the body.
    const res = await http().get('/notes/mine');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_MISSING');
    const own = await http().get('/sessions/current');
    expect(own.body).toMatchObject({ statusCode: 401, code: 'TOKEN_MISSING' });
    const bad = await http().post('/auth/login').send({ username: 'alice', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
  });

  it('signs in, serves the host route with user and session, keeps session data, signs out', async () => {
    const login = await http()
      .post('/auth/login')
      .set('User-Agent', 'host-test')
      .send({ username: 'alice', password: 'alice-password' });
    expect(login.status).toBe(201);
    expect(login.headers['cache-control']).toBe('no-store');
    expect(login.body.session).toMatchObject({ ip: '127.0.0.1', userAgent: 'host-test' });
    const auth = bearer(login.body.accessToken);

    const mine = await http().get('/notes/mine').set('Authorization', auth);
    expect(mine.body).toEqual({ username: 'alice', sessionId: login.body.session.id });

    await http().post('/notes/visit').set('Authorization', auth).expect(201, { visits: 1 });
    await http().post('/notes/visit').set('Authorization', auth).expect(201, { visits: 2 });
    const data = await http().get('/sessions/current/data').set('Authorization', auth);
    expect(data.body).toEqual({ visits: 2 });

    const refreshed = await http()
      .post('/auth/refresh')
      .send({ refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.session.id).toBe(login.body.session.id);

    await http().post('/auth/logout').set('Authorization', auth).expect(204);
    const after = await http().get('/notes/mine').set('Authorization', auth);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('SESSION_ENDED');
  });
});
