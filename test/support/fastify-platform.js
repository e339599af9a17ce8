// The jest project `fastify` (jest.config.js): the same e2e suites, on the Fastify adapter.
process.env.TEST_HTTP_PLATFORM = 'fastify';
