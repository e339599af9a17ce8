export {
  checkBindAddress,
  IN_MEMORY_NOTICE,
  isLoopbackHost,
  startEmbeddedMongo,
  type EmbeddedMongo,
  type EmbeddedMongoLogger,
  type EmbeddedMongoOptions,
} from './embedded-mongo.server';
