import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { jsonBodyReviver } from '../common/json-body';

/** The JSON media types the service reads (a JSON merge patch is JSON). */
export const JSON_MEDIA_TYPES = ['application/json', 'application/merge-patch+json'];

/** body-parser's error shape, so the one error filter answers both platforms alike. */
function bodyError(message: string, type: string, status = 400): Error {
  return Object.assign(new SyntaxError(message), { status, statusCode: status, type });
}

const FIRST_CHAR = /^[ \t\n\r]*([^ \t\n\r])/;

/**
 * The JSON body parser on Fastify, behaving as the Express side's body-parser (`strict`) with
 * the same reviver: an empty body is `{}`, only an object or array is a body, a charset other
 * than UTF-8 is refused, and the depth and lone-surrogate limits apply before anything else
 * sees the value. Fastify's own parser differs on each of those points.
 */
export function fastifyJsonParser() {
  const reviver = jsonBodyReviver();
  return (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      done(bodyError(`unsupported charset "${charset.toUpperCase()}"`, 'charset.unsupported', 415));
      return;
    }
    if (body.length === 0) {
      done(null, {});
      return;
    }
    const text = body.toString('utf8');
    const first = FIRST_CHAR.exec(text)?.[1];
    if (first !== '{' && first !== '[') {
      done(bodyError('The request body is not a JSON object or array', 'entity.parse.failed'));
      return;
    }
    try {
      done(null, JSON.parse(text, reviver));
    } catch (error) {
      // BodyTooDeepError keeps its class (the filter names the limit); anything else is bad JSON.
      const err = error as Error & { type?: string; status?: number; statusCode?: number };
      Object.assign(err, { status: 400, statusCode: 400 });
      if (err.name !== 'BodyTooDeepError') err.type = 'entity.parse.failed';
      done(err);
    }
  };
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * Request bodies sent with `Content-Encoding: gzip | deflate | br` are inflated before parsing,
 * as body-parser does on Express; Fastify's body limit then counts the inflated bytes, so a
 * small compressed bomb still stops at BODY_LIMIT. Undecodable bytes are a 400; an encoding
 * that is not one of these (or a list of several) is refused as body-parser refuses it.
 * (@fastify/compress would do the inflating too, but it also compresses every response,
 * which the Express side leaves to a proxy; a hook of a dozen lines keeps the two alike.)
 */
export function registerRequestDecompression(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', async (request, _reply, payload) => {
    const header = request.headers['content-encoding'];
    if (header === undefined) return payload;
    const encoding = header.trim().toLowerCase();
    if (encoding === 'identity' || encoding === '') return payload;
    const decoder = DECODERS[encoding];
    if (!decoder) {
      throw bodyError(`unsupported content encoding "${encoding}"`, 'encoding.unsupported', 415);
    }
    const inflated = decoder() as NodeJS.ReadWriteStream & { receivedEncodedLength: number };
    // Fastify compares the declared Content-Length with this count (the bytes on the wire).
    inflated.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => (inflated.receivedEncodedLength += chunk.length));
    inflated.on('error', (error: Error & { status?: number }) => {
      // zlib's own codes (Z_DATA_ERROR…) are what the filter reads as "could not decompress".
      error.status = 400;
    });
    return payload.pipe(inflated) as unknown as typeof payload;
  });
}
