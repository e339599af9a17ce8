/**
 * The stateless upper bound on Fastify: a bare Fastify 5 app with @fastify/jwt (HS256).
 * A valid signature is all it checks; nothing can be revoked before expiry.
 */
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import {
  benchIdentity,
  jwtCurrentView,
  type JwtClaims,
  requiredEnv,
} from '../../alternatives/bench-app';

async function main() {
  const app = Fastify({ logger: false });
  await app.register(fastifyJwt, { secret: requiredEnv('JWT_SECRET') });
  app.get('/health', async () => ({ status: 'ok' }));
  app.post('/auth/login', async (req, reply) => {
    const body = (req.body ?? {}) as { username?: string };
    const identity = benchIdentity(body.username ?? 'bench', randomUUID(), req);
    const accessToken = app.jwt.sign(
      {
        sub: identity.userId,
        sid: identity.sessionId,
        username: identity.username,
        roles: identity.roles,
        groups: identity.groups,
      },
      { expiresIn: 900 },
    );
    return reply.status(201).send({ accessToken, tokenType: 'Bearer', expiresIn: 900 });
  });
  app.get('/sessions/current', async (req, reply) => {
    try {
      await req.jwtVerify();
    } catch {
      return reply.status(401).send({ statusCode: 401 });
    }
    return jwtCurrentView({
      user: req.user as JwtClaims,
      ip: req.ip,
      headers: req.headers,
    } as never);
  });
  await app.listen({ port: Number(requiredEnv('PORT')), host: '127.0.0.1' });
}
void main();
