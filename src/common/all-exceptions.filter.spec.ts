import { BadRequestException, NotFoundException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { toErrorBody } from './all-exceptions.filter';
import { unauthorized } from './api.exception';
import { ErrorCode } from './error-codes';

describe('toErrorBody', () => {
  it('keeps the code of an ApiException', () => {
    expect(toErrorBody(unauthorized(ErrorCode.SESSION_ENDED, 'Signed out'))).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'SESSION_ENDED',
      message: 'Signed out',
    });
  });

  it('maps plain HttpExceptions by status', () => {
    expect(toErrorBody(new NotFoundException('Cannot GET /nope'))).toMatchObject({
      statusCode: 404,
      code: 'NOT_FOUND',
    });
    expect(toErrorBody(new BadRequestException(['a must be a string', 'b is bad']))).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'a must be a string; b is bad',
    });
    expect(toErrorBody(new ThrottlerException())).toMatchObject({
      statusCode: 429,
      code: 'RATE_LIMITED',
    });
  });

  it('turns body-parser failures into 400 and 413', () => {
    expect(
      toErrorBody(
        Object.assign(new SyntaxError('x'), { type: 'entity.parse.failed', status: 400 }),
      ),
    ).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(
      toErrorBody(Object.assign(new Error('x'), { type: 'entity.too.large', status: 413 })),
    ).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    // An unsupported charset is a body that cannot be read: 400, the status VALIDATION_FAILED
    // goes with (it was 415 with VALIDATION_FAILED).
    expect(
      toErrorBody(Object.assign(new Error('x'), { type: 'charset.unsupported', status: 415 })),
    ).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'VALIDATION_FAILED',
      message: 'The request body could not be read',
    });
  });

  it('maps database errors without leaking their text', () => {
    expect(toErrorBody(Object.assign(new Error('E11000 dup key users'), { code: 11000 }))).toEqual(
      expect.objectContaining({ statusCode: 409, code: 'CONFLICT' }),
    );
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      name: 'MongoServerSelectionError',
    });
    expect(toErrorBody(down)).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(toErrorBody(down).message).not.toMatch(/127\.0\.0\.1/);
    // bufferCommands: false before the first connection succeeds
    const early = Object.assign(
      new Error(
        'Cannot call `sessions.findOne()` before initial connection is complete if `bufferCommands = false`.',
      ),
      { name: 'MongooseError' },
    );
    expect(toErrorBody(early)).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
  });

  it('hides unknown errors behind a 500', () => {
    expect(toErrorBody(new TypeError('secret internals'))).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      code: 'INTERNAL_ERROR',
      message: 'Internal server error',
    });
  });
});
