// Config fragments shared by the deployables' schemas, and the one place that turns a failed
// parse of `process.env` into a message a person can act on. Only entry points pass `process.env`.
import { z } from 'zod';

export const logEnv = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `production` (the image sets it): JSON logs even on a terminal, no dev-only modules. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Log to this file, rotated (runtime/logger.ts), instead of stdout: for processes no log collector reads. */
  LOG_FILE: z.string().min(1).optional(),
});

export const databaseEnv = z.object({
  DATABASE_URL: z
    .string({ error: 'is required (postgres://user:password@host:port/database)' })
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
});

export const natsEnv = z.object({
  NATS_URL: z
    .string({ error: 'is required (nats://host:port)' })
    .regex(/^(nats|tls):\/\/\S+$/, 'must be a nats:// URL'),
});

export const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z
    .string({ error: 'is required (host:port of the Temporal frontend)' })
    .regex(/^[\w.-]+:\d+$/, 'must be host:port'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
});

/** Thrown when the environment does not satisfy a deployable's schema; its message lists every problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parse `env` with `schema`, or throw a ConfigError naming each bad variable and what is wrong. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, who: string): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration for ${who}:\n${lines.join('\n')}`);
}

/** Token verification: a JWKS URL in production, or the JWKS file the CLI generates for local dev. */
export const authEnv = z.object({
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().min(1).default('urn:durable-backend:local-dev'),
  AUTH_AUDIENCE: z.string().min(1).default('durable-backend-bff'),
  /** The longest a token may still be valid when it is presented (its exp minus now); 7 days by default. */
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(7 * 24 * 3600),
});

/** Where a deployable writes the port it bound, for exec probes (runtime/probe.main.ts) when the port is chosen at start. */
export const healthEnv = z.object({ HEALTH_PORT_FILE: z.string().min(1).optional() });

/** Where a deployable serves HTTP (the BFF's API, a worker's /healthz, /readyz and /metrics). */
export const httpHost = z.string().min(1).default('127.0.0.1');
export const httpPort = (defaultPort: number) => z.coerce.number().int().min(0).max(65535).default(defaultPort);
