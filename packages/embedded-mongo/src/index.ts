export {
  IN_MEMORY_NOTICE,
  startEmbeddedMongo,
  type EmbeddedMongo,
  type EmbeddedMongoLogger,
  type EmbeddedMongoOptions,
} from './embedded-mongo.server';
