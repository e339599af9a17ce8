// The jest project `default` (jest.config.js) runs on Express, so that both adapters stay
// covered while the service's default is Fastify (the project `fastify` reruns the listed
// suites there). TEST_HTTP_PLATFORM set by hand still wins, for a one-off run on Fastify.
process.env.TEST_HTTP_PLATFORM = process.env.TEST_HTTP_PLATFORM || 'express';
