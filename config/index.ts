export * from './configuration';
export { validateEnv, EnvironmentVariables } from './env.validation';
export * from './secrets';
