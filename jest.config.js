/**
 * One run covers unit specs beside the code and e2e specs under test/.
 *
 * The packages listed here are published as ES modules only (@sparticuz/chromium: the browser
 * tests' Chromium, test/support/browser.ts); test/support/esm-to-cjs.transform.js
 * explains why Jest (unlike the built app) needs them compiled to CommonJS.
 */
const ESM_ONLY_PACKAGES = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  '@borewit',
  'uint8array-extras',
  '@sparticuz/chromium',
  // @fastify/static's (Swagger UI on Fastify)
  '@fastify/static/node_modules/content-disposition',
  'content-disposition',
];

/** The e2e suites that run on both HTTP platforms (HTTP_PLATFORM); the rest on the default. */
const BOTH_PLATFORMS = [
  'auth',
  'sessions',
  'session-data',
  'admin',
  'csv-export',
  'platform',
  'operations',
  'health',
  'lifecycle',
  'cookie-transport',
  'sso-strategy',
  'login-flood',
  'admin-users',
  'auth-password',
  'events',
  'login-rate-limit',
  'security/forged-tokens',
  'security/no-store',
  'security/tokens',
  'security/lifecycle',
  'hardening/authorization',
  'hardening/issue-12',
  'session-fields',
  'sessions-paging',
  'remote',
  'account-page',
  'hardening/bad-input',
  'hardening/regressions',
];

const project = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  transform: {
    // Type checking is `npm run typecheck`'s job; with `isolatedModules` ts-jest transpiles each
    // file alone, which keeps the suite fast.
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
    '/node_modules/.+\\.js$': '<rootDir>/test/support/esm-to-cjs.transform.js',
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  testEnvironment: 'node',
};

module.exports = {
  projects: [
    {
      ...project,
      displayName: 'default',
      testRegex: '(src|test|config|packages)/.*\\.(spec|e2e-spec)\\.ts$',
      setupFiles: ['<rootDir>/test/support/express-platform.js'],
    },
    {
      ...project,
      displayName: 'fastify',
      testRegex: `test/(${BOTH_PLATFORMS.join('|')})\\.e2e-spec\\.ts$`,
      setupFiles: ['<rootDir>/test/support/fastify-platform.js'],
    },
  ],
  testTimeout: 30000,
  maxWorkers: 2,
};
