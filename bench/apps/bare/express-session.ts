/**
 * The usual stateful setup without any framework on top: bare Express 5 with express-session
 * and connect-mongo on the same engine (`touchAfter: 60`, as nest-sessions writes lastSeenAt at
 * most once a minute). express-session reads the store on every request.
 */
import express from 'express';
import {
  currentSessionView,
  expressSessionLogin,
  expressSessionMiddleware,
  requiredEnv,
} from '../../alternatives/bench-app';

const app = express();
app.disable('x-powered-by');
app.use(express.json());
app.use(expressSessionMiddleware('bench_bare_express_session'));
app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
app.post('/auth/login', (req, res, next) => {
  expressSessionLogin(req, req.body?.username).then((r) => res.status(201).json(r), next);
});
app.get('/sessions/current', (req, res) => {
  if (!req.session?.identity) return void res.status(401).json({ statusCode: 401 });
  res.json(currentSessionView(req.session.identity, new Date().toISOString()));
});
app.listen(Number(requiredEnv('PORT')), '127.0.0.1');
