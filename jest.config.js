/** One run covers unit specs beside the code and e2e specs under test/. */
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  testRegex: '(src|test|config|packages)/.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    // Type checking is `npm run typecheck`'s job; transpiling only keeps the suite fast.
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
  },
  testEnvironment: 'node',
  testTimeout: 30000,
  maxWorkers: 2,
};
