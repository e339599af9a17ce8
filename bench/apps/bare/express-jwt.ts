/**
 * The stateless upper bound without any framework on top: a bare Express 5 app whose
 * `GET /sessions/current` is protected by passport-jwt with a `KeyObject` secret (its fastest
 * setup). A valid signature is all it checks; nothing can be revoked before expiry.
 */
import express from 'express';
import { createSecretKey, randomUUID } from 'node:crypto';
import passport from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { sign } from 'jsonwebtoken';
import {
  benchIdentity,
  jwtCurrentView,
  type JwtClaims,
  requiredEnv,
} from '../../alternatives/bench-app';

const key = createSecretKey(Buffer.from(requiredEnv('JWT_SECRET')));
passport.use(
  new Strategy(
    {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt's typings say string | Buffer; jsonwebtoken takes a KeyObject as well.
      secretOrKey: key as unknown as string,
      algorithms: ['HS256'],
    },
    (claims: JwtClaims, done: (e: null, u: JwtClaims) => void) => done(null, claims),
  ),
);

const app = express();
app.disable('x-powered-by');
app.use(express.json());
app.use(passport.initialize());
app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
app.post('/auth/login', (req, res) => {
  const identity = benchIdentity(req.body?.username ?? 'bench', randomUUID(), req);
  const accessToken = sign(
    {
      sub: identity.userId,
      sid: identity.sessionId,
      username: identity.username,
      roles: identity.roles,
      groups: identity.groups,
    },
    key,
    { algorithm: 'HS256', expiresIn: 900 },
  );
  res.status(201).json({ accessToken, tokenType: 'Bearer', expiresIn: 900 });
});
app.get('/sessions/current', passport.authenticate('jwt', { session: false }), (req, res) => {
  res.json(jwtCurrentView(req as never));
});
app.listen(Number(requiredEnv('PORT')), '127.0.0.1');
