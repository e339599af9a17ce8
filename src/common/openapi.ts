/**
 * The OpenAPI decorators the library's routes and DTOs use. `@nestjs/swagger` is an optional
 * peer of the package: a host app that has it gets the session routes in its own OpenAPI
 * document; one without it must still boot, so then every decorator here does nothing. Library code imports these, never
 * `@nestjs/swagger` itself (test/library-surface.spec.ts holds that line).
 */
type Swagger = typeof import('@nestjs/swagger');

function loadSwagger(): Swagger | undefined {
  try {
    // A plain require on purpose: a static import would make the package a hard dependency.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@nestjs/swagger') as Swagger;
  } catch (error) {
    // Only its absence; a broken install of it (a dependency of its own missing) still fails.
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'MODULE_NOT_FOUND' && message.startsWith("Cannot find module '@nestjs/swagger'")) {
      return undefined;
    }
    throw error;
  }
}

const swagger = loadSwagger();

const noop = () => () => undefined;

export const ApiBearerAuth: Swagger['ApiBearerAuth'] = swagger?.ApiBearerAuth ?? noop;
export const ApiBody: Swagger['ApiBody'] = swagger?.ApiBody ?? noop;
export const ApiCreatedResponse: Swagger['ApiCreatedResponse'] =
  swagger?.ApiCreatedResponse ?? noop;
export const ApiExtension: Swagger['ApiExtension'] = swagger?.ApiExtension ?? noop;
export const ApiExtraModels: Swagger['ApiExtraModels'] = swagger?.ApiExtraModels ?? noop;
export const ApiNoContentResponse: Swagger['ApiNoContentResponse'] =
  swagger?.ApiNoContentResponse ?? noop;
export const ApiOkResponse: Swagger['ApiOkResponse'] = swagger?.ApiOkResponse ?? noop;
export const ApiOperation: Swagger['ApiOperation'] = swagger?.ApiOperation ?? noop;
export const ApiProperty: Swagger['ApiProperty'] = swagger?.ApiProperty ?? noop;
export const ApiPropertyOptional: Swagger['ApiPropertyOptional'] =
  swagger?.ApiPropertyOptional ?? noop;
export const ApiResponse: Swagger['ApiResponse'] = swagger?.ApiResponse ?? noop;
export const ApiTags: Swagger['ApiTags'] = swagger?.ApiTags ?? noop;
export const getSchemaPath: Swagger['getSchemaPath'] =
  swagger?.getSchemaPath ??
  ((model) => `#/components/schemas/${typeof model === 'string' ? model : model.name}`);

/** Whether the host has `@nestjs/swagger` (the decorators above then describe the routes). */
export const openApiAvailable = swagger !== undefined;
