import { BadRequestException, type INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { AppConfig } from '../../config';
import { toErrorBody } from '../common/all-exceptions.filter';
import { jsonBodyReviver } from '../common/json-body';
import { GracefulShutdown } from '../operations/graceful-shutdown';
import { REQUEST_ID_HEADER, requestIdOf } from '../operations/logging';
import { answerClientError } from './client-error';
import { fastifyJsonParser, JSON_MEDIA_TYPES, registerRequestDecompression } from './fastify-body';

/** The Nest application on either adapter; only this folder needs to know which. */
export type NestHttpApplication = NestExpressApplication | NestFastifyApplication;

/**
 * The adapter HTTP_PLATFORM names, built with what must be known before the app exists.
 * Fastify reads its proxy trust, body limit and request-id generator at construction; the
 * same settings are applied to Express in `configurePlatform()`.
 */
export function createHttpAdapter(config: AppConfig): ExpressAdapter | FastifyAdapter {
  if (config.httpPlatform === 'express') return new ExpressAdapter();
  const adapter: FastifyAdapter = new FastifyAdapter({
    // TRUST_PROXY is Express's `trust proxy` value (true, an address/subnet list, or a hop
    // count), resolved by proxy-addr on both platforms, so `request.ip` means one thing. A hop
    // count is given as Express's own rule (trust the n nearest hops): Fastify 5.12 would
    // otherwise trust no hop at all for a number (it cannot tell a proxy from a direct
    // client), silently recording the proxy's address for every session.
    trustProxy:
      typeof config.trustProxy === 'number'
        ? trustNearestHops(config.trustProxy)
        : config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    // The request id, kept from a safe X-Request-Id or made fresh (operations/logging.ts);
    // stored on the raw request too, so pino-http's line and the response header use it.
    genReqId: (raw: IncomingMessage) => {
      const id = requestIdOf(raw);
      (raw as IncomingMessage & { id?: string }).id = id;
      return id;
    },
    // Fastify logs through pino on its own; nestjs-pino already writes one line per request.
    logger: false,
    // What Node's parser refuses (an oversized URL or headers), as under Express.
    clientErrorHandler: answerClientError,
    // Express takes a path parameter of any length (up to Node's header limit); Fastify's
    // default (100 characters) would answer 414 where Express answers the route's own 400/404.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router refuses a URL it cannot decode before any Nest layer runs, so Nest's error
    // filter never sees it: answered here in the contract's shape, as Express answers it
    // (400 VALIDATION_FAILED), with the security headers every other response carries.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      try {
        (adapter as unknown as { securityHook?: SecurityHook }).securityHook?.(request, reply.raw);
      } catch {
        // The request is refused either way (as the adapter's own handler does).
      }
      const refused = (error.statusCode ?? 500) < 500;
      const body = toErrorBody(
        refused ? new BadRequestException('The request URL could not be decoded') : error,
      );
      void reply.header(REQUEST_ID_HEADER, request.id).status(body.statusCode).send(body);
    },
  });
  return adapter;
}

const MAX_PARAM_LENGTH = 16 * 1024;

/** Express's `trust proxy` for a number (its compileTrust): the n addresses nearest the socket. */
function trustNearestHops(hops: number) {
  return (_address: string, hop: number) => hop < hops;
}

type SecurityHook = (request: unknown, response: ServerResponse) => unknown;

/**
 * The platform-specific half of `configureApp()`: proxy trust and body parsing (size limit,
 * JSON depth and Unicode checks, the raw bytes the signed remote routes verify), identical
 * in effect on both platforms.
 */
export function configurePlatform(app: INestApplication, config: AppConfig): void {
  if (config.httpPlatform === 'express') {
    const express = app as NestExpressApplication;
    // `trust proxy` decides what `req.ip` (and so the session's recorded IP and the login rate
    // limit key) is: only with TRUST_PROXY set does X-Forwarded-For count.
    express.set('trust proxy', config.trustProxy);
    // Registered before Nest's defaults, which are then skipped (same parser names). The
    // reviver bounds nesting before any pipe or class-transformer sees the body. A JSON merge
    // patch (RFC 7396) is JSON: PATCH /sessions/current/data applies exactly those semantics.
    express.useBodyParser('json', {
      limit: config.bodyLimit,
      reviver: jsonBodyReviver(),
      type: JSON_MEDIA_TYPES,
    });
    express.useBodyParser('urlencoded', { limit: config.bodyLimit, extended: true });
    // What Node's parser refuses (an oversized URL or headers) never reaches Express.
    (app.getHttpServer() as Server).on('clientError', answerClientError);
    return;
  }
  const fastify = app as NestFastifyApplication;
  fastify.useBodyParser(
    JSON_MEDIA_TYPES,
    { bodyLimit: config.bodyLimitBytes },
    fastifyJsonParser(),
  );
  const instance = fastify.getHttpAdapter().getInstance();
  registerRequestDecompression(instance);
  // Every response names its request id, unmatched routes included (Nest middleware, where
  // Express sets it, runs only for matched routes on Fastify).
  instance.addHook('onRequest', (request, reply, done) => {
    reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
    done();
  });
  // While draining (graceful-shutdown.ts), every response, those of requests already in
  // flight included, tells keep-alive clients to let go of the connection, as Node's server
  // does under Express once it is closing.
  // (A test host module built without OperationsModule has no drain to announce.)
  const shutdown = optional(() => app.get(GracefulShutdown));
  if (shutdown) {
    instance.addHook('onSend', (_request, reply, payload, done) => {
      if (shutdown.isDraining) void reply.header('connection', 'close');
      done(null, payload);
    });
  }
}

/** What `@Res()` injects on either platform: Express's response, or Fastify's reply. */
export type HttpResponse = ServerResponse | { raw: ServerResponse; hijack(): unknown };

/**
 * The Node response under `@Res()`, for a handler that writes it itself (a stream). On
 * Fastify the reply is hijacked first, so Fastify leaves the response to the handler; the
 * headers set in `onRequest` hooks (security headers, request id) are already on it.
 */
export function takeRawResponse(res: HttpResponse): ServerResponse {
  if (res instanceof ServerResponse) return res;
  res.hijack();
  return res.raw;
}

/** A provider the app may not have (`app.get` throws for a missing one). */
function optional<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}
