import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { badRequest } from './api.exception';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => m.replace(e.property, path));
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/**
 * Values a pipe from createValidationPipe produced. A route may be covered by two of them (the
 * app's global pipe and a controller's own, or a guard that validates early): the second lets
 * such a value through instead of validating it again. Only a validating transform creates
 * these objects (a request body is plain JSON), so membership means "already validated".
 */
const validated = new WeakSet<object>();

class OnceValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (typeof value === 'object' && value !== null && validated.has(value)) return value;
    const result: unknown = await super.transform(value, metadata);
    // A new object is a validated instance; a value passed through unchanged (no DTO type) is
    // not, and must stay subject to the next pipe that has one.
    if (typeof result === 'object' && result !== null && result !== value) validated.add(result);
    return result;
  }
}

/** The global pipe: unknown properties are refused, not stripped, and messages name the fields. */
export function createValidationPipe(): ValidationPipe {
  return new OnceValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    exceptionFactory: (errors) => badRequest(flatten(errors).join('; ') || 'Validation failed'),
  });
}
