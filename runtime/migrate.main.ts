// Entry point of the migration job: applies the SQL migrations of every service (the ones beside
// this code: services/*/migrations in a checkout, dist/services/*/migrations in the image) to
// DATABASE_URL, then exits. Runs before the deployables (a Helm pre-install/pre-upgrade hook).
//   node dist/runtime/migrate.main.js
import { fileURLToPath } from 'node:url';
import { discoverMigrations, migrate } from '../services/kernel/migrations.ts';
import { databaseEnv, logEnv, parseEnv, ConfigError } from './config.ts';
import { createLogger } from './logger.ts';

let config;
try {
  config = parseEnv(logEnv.extend(databaseEnv.shape), process.env, 'migrations');
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78); // EX_CONFIG
}
const logger = createLogger({ level: config.LOG_LEVEL, name: 'migrate', production: config.NODE_ENV === 'production' });
const root = fileURLToPath(new URL('..', import.meta.url));
try {
  const report = await migrate(config.DATABASE_URL, await discoverMigrations(root));
  logger.info({ applied: report.applied, alreadyApplied: report.alreadyApplied }, 'migrations done');
} catch (error) {
  logger.fatal({ err: error }, 'migrations failed');
  process.exitCode = 1;
}
