import Ajv, { type ValidateFunction } from 'ajv';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './api-types';

/** An openapi-fetch client typed by the types generated from the app's OpenAPI document. */
export type ApiClient = Client<paths>;

type Document = {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components?: object;
};
type ResponseObject = { content?: Record<string, { schema?: object }> };

/**
 * Holds every response to the document it was fetched with: the status must be one the
 * operation documents, and a JSON body must match the documented schema. The types catch drift
 * in what the client sends; this catches drift in what the server answers.
 */
function conformsToDocument(document: Document): Middleware {
  // OpenAPI 3.0 schemas: `nullable` is known to Ajv; examples and formats are not checked.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (key: string, schema: object) => {
    if (!validators.has(key))
      validators.set(key, ajv.compile({ ...schema, components: document.components }));
    return validators.get(key)!;
  };
  return {
    async onResponse({ request, response, schemaPath }) {
      const method = request.method.toLowerCase();
      const where = `${request.method} ${schemaPath} ${response.status}`;
      const operation = document.paths[schemaPath]?.[method];
      if (!operation) throw new Error(`${where}: the operation is not in the document`);
      const documented = operation.responses[String(response.status)];
      if (!documented) {
        const body = await response.clone().text();
        throw new Error(`${where}: status not documented (body: ${body.slice(0, 300)})`);
      }
      const schema = documented.content?.['application/json']?.schema;
      const type = response.headers.get('content-type') ?? '';
      if (!schema || !type.includes('application/json')) return undefined;
      const body: unknown = await response.clone().json();
      const validate = validatorFor(where, schema);
      if (!validate(body)) {
        const errors = ajv.errorsText(validate.errors);
        throw new Error(`${where}: body does not match the documented schema: ${errors}`);
      }
      return undefined;
    },
  };
}

/**
 * A client for the app listening at `baseUrl`, checking each response against `document` (the
 * app's own /docs-json). Pass `accessToken` to send it as the bearer token on every request.
 */
export function createApiClient(
  baseUrl: string,
  document: object,
  accessToken?: string,
): ApiClient {
  const client = createClient<paths>({
    baseUrl,
    headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
  });
  client.use(conformsToDocument(document as Document));
  return client;
}
