import express from 'express';
import request from 'supertest';
import { appendSetCookie } from './set-cookie';

describe('appendSetCookie', () => {
  it('adds to what an Express response already holds, one line per cookie', async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.cookie('host', '1');
      appendSetCookie(res, ['a=1; Path=/', 'b=2; Path=/auth']);
      appendSetCookie(res, ['c=3']);
      res.end();
    });
    const res = await request(app).get('/');
    expect(res.headers['set-cookie']).toEqual([
      'host=1; Path=/',
      'a=1; Path=/',
      'b=2; Path=/auth',
      'c=3',
    ]);
  });

  it('passes every value to a Fastify-style reply.header, which appends set-cookie itself', () => {
    const calls: [string, string | string[]][] = [];
    appendSetCookie({ header: (name, value) => calls.push([name, value]) }, ['a=1', 'b=2']);
    expect(calls).toEqual([['set-cookie', ['a=1', 'b=2']]]);
  });

  it('keeps earlier lines on a bare Node response', () => {
    const headers: Record<string, string | string[]> = { 'set-cookie': 'x=0' };
    appendSetCookie(
      {
        getHeader: (name) => headers[name],
        setHeader: (name, value) => (headers[name] = value),
      },
      ['a=1'],
    );
    expect(headers['set-cookie']).toEqual(['x=0', 'a=1']);
  });

  it('refuses an object that cannot carry headers', () => {
    expect(() => appendSetCookie({}, ['a=1'])).toThrow(TypeError);
  });
});
