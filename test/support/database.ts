/** App tests use the engine's own database fixture: real MongoDB with MONGODB_URI, else the engine. */
export {
  startTestDatabase,
  withDatabase,
  type TestDatabase,
} from '../../packages/embedded-mongo/test/support/database';
