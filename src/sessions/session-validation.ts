import { createValidationPipe } from '../common/validation';

/**
 * The validation the module's own routes apply themselves (controller-scoped), so a host app
 * without a global ValidationPipe, or with a laxer one, still gets the contract's 400
 * VALIDATION_FAILED for a bad body, query or id. One instance: it holds no per-request state.
 */
export const sessionValidationPipe = createValidationPipe();
