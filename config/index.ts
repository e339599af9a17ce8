export * from './configuration';
export { validateEnv, EnvironmentVariables, type HttpPlatform } from './env.validation';
export * from './secrets';
