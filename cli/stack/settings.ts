// Where the local stack lives and which ports it uses. Two profiles: `dev` (what `npm run up`
// starts) and `test` (what `npm test` starts), in separate state folders on separate ports so a
// test run never touches your dev data. Every default can be overridden by env.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseEnv } from '../../runtime/config.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Project-local tools (the Temporal CLI virtualenv); shared by both profiles. */
export const toolsDir = join(repoRoot, '.local', 'tools');

export type Profile = 'dev' | 'test';

/** How the deployables and tests reach the servers. */
export interface ServerEndpoints {
  /** The owner's: migrations and tools. */
  databaseUrl: string;
  /** The deployables': a role with row rights only (the same URL when DATABASE_URL is given). */
  serviceDatabaseUrl: string;
  natsUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** The authorization server, its store, and the key to present (none for an external server without one). */
  openfga?: { url: string; storeId: string; token?: string | undefined };
  /** Where the deployables send spans (OTLP/HTTP base URL), and the trace viewer's UI when it is ours. */
  traces: { otlpEndpoint: string; uiUrl?: string };
}

const DEFAULT_PORTS = {
  dev: {
    postgres: 55432,
    nats: 54222,
    natsMonitor: 58222,
    temporal: 57233,
    temporalUi: 58233,
    bff: 58080,
    sagaWorker: 58081,
    relay: 58082,
    projector: 58083,
    openfga: 58380,
    openfgaGrpc: 58381,
    jaeger: 58686,
    jaegerGrpc: 58685,
    otlp: 58318,
  },
  test: {
    postgres: 55442,
    nats: 54232,
    natsMonitor: 58232,
    temporal: 57243,
    temporalUi: 58243,
    bff: 58090,
    sagaWorker: 58091,
    relay: 58092,
    projector: 58093,
    openfga: 58390,
    openfgaGrpc: 58391,
    jaeger: 58696,
    jaegerGrpc: 58695,
    otlp: 58328,
  },
} as const;

const port = z.coerce.number().int().min(1024).max(65535);

/** The env variable that overrides each port; the test profile prefixes them with TEST_. */
export function portEnvNames(profile: Profile) {
  const prefix = profile === 'test' ? 'TEST_' : '';
  return {
    postgres: `${prefix}PG_PORT`,
    nats: `${prefix}NATS_PORT`,
    natsMonitor: `${prefix}NATS_MONITOR_PORT`,
    temporal: `${prefix}TEMPORAL_PORT`,
    temporalUi: `${prefix}TEMPORAL_UI_PORT`,
    bff: `${prefix}BFF_PORT`,
    // The workers' health ports (/healthz, /readyz, /metrics); the deployables read the same names.
    sagaWorker: `${prefix}SAGA_WORKER_HTTP_PORT`,
    relay: `${prefix}RELAY_HTTP_PORT`,
    projector: `${prefix}PROJECTOR_HTTP_PORT`,
    openfga: `${prefix}OPENFGA_PORT`,
    openfgaGrpc: `${prefix}OPENFGA_GRPC_PORT`,
    jaeger: `${prefix}JAEGER_UI_PORT`,
    jaegerGrpc: `${prefix}JAEGER_GRPC_PORT`,
    otlp: `${prefix}OTLP_HTTP_PORT`,
  } as const;
}

export type StackSettings = ReturnType<typeof loadStackSettings>;

export function loadStackSettings(profile: Profile, env: NodeJS.ProcessEnv) {
  const names = portEnvNames(profile);
  const defaults = DEFAULT_PORTS[profile];
  const dirEnv = profile === 'test' ? 'TEST_STACK_DIR' : 'STACK_DIR';
  const schema = z
    .object({
      [dirEnv]: z
        .string()
        .min(1)
        .default(join(repoRoot, '.local', profile)),
      [names.postgres]: port.default(defaults.postgres),
      [names.nats]: port.default(defaults.nats),
      [names.natsMonitor]: port.default(defaults.natsMonitor),
      [names.temporal]: port.default(defaults.temporal),
      [names.temporalUi]: port.default(defaults.temporalUi),
      [names.bff]: port.default(defaults.bff),
      [names.sagaWorker]: port.default(defaults.sagaWorker),
      [names.relay]: port.default(defaults.relay),
      [names.projector]: port.default(defaults.projector),
      [names.openfga]: port.default(defaults.openfga),
      [names.openfgaGrpc]: port.default(defaults.openfgaGrpc),
      [names.jaeger]: port.default(defaults.jaeger),
      [names.jaegerGrpc]: port.default(defaults.jaegerGrpc),
      [names.otlp]: port.default(defaults.otlp),
      DATABASE_URL: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
        .optional(),
      NATS_URL: z
        .string()
        .regex(/^(nats|tls):\/\//, 'must be a nats:// URL')
        .optional(),
      TEMPORAL_ADDRESS: z
        .string()
        .regex(/^[\w.-]+:\d+$/, 'must be host:port')
        .optional(),
      TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
      OPENFGA_API_URL: z.url({ protocol: /^https?$/ }).optional(),
      OPENFGA_STORE_ID: z.string().min(1).optional(),
      OPENFGA_API_TOKEN: z.string().min(1).optional(),
      /** Another OTLP/HTTP collector for the deployables' spans: then no Jaeger is started. */
      OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    })
    .refine((env) => !env.OPENFGA_API_URL || env.OPENFGA_STORE_ID, {
      message: 'an OpenFGA server given by OPENFGA_API_URL needs OPENFGA_STORE_ID (the store to use)',
      path: ['OPENFGA_STORE_ID'],
    });
  const parsed = parseEnv(schema, env, `the ${profile} stack`) as Record<string, string | number | undefined>;
  const stateDir = resolve(String(parsed[dirEnv]));
  return {
    profile,
    stateDir,
    envNames: names,
    ports: {
      postgres: Number(parsed[names.postgres]),
      nats: Number(parsed[names.nats]),
      natsMonitor: Number(parsed[names.natsMonitor]),
      temporal: Number(parsed[names.temporal]),
      temporalUi: Number(parsed[names.temporalUi]),
      bff: Number(parsed[names.bff]),
      sagaWorker: Number(parsed[names.sagaWorker]),
      relay: Number(parsed[names.relay]),
      projector: Number(parsed[names.projector]),
      openfga: Number(parsed[names.openfga]),
      openfgaGrpc: Number(parsed[names.openfgaGrpc]),
      jaeger: Number(parsed[names.jaeger]),
      jaegerGrpc: Number(parsed[names.jaegerGrpc]),
      otlp: Number(parsed[names.otlp]),
    },
    /** Servers given by env are used as they are: not started, not stopped. */
    external: {
      databaseUrl: parsed.DATABASE_URL as string | undefined,
      natsUrl: parsed.NATS_URL as string | undefined,
      temporalAddress: parsed.TEMPORAL_ADDRESS as string | undefined,
      openfga: parsed.OPENFGA_API_URL
        ? {
            url: parsed.OPENFGA_API_URL as string,
            storeId: parsed.OPENFGA_STORE_ID as string,
            token: parsed.OPENFGA_API_TOKEN as string | undefined,
          }
        : undefined,
      otlpEndpoint: parsed.OTEL_EXPORTER_OTLP_ENDPOINT as string | undefined,
    },
    temporalNamespace: String(parsed.TEMPORAL_NAMESPACE),
    paths: {
      logs: join(stateDir, 'logs'),
      secrets: join(stateDir, 'secrets'),
      postgres: join(stateDir, 'postgres'),
      nats: join(stateDir, 'nats'),
      temporal: join(stateDir, 'temporal'),
      app: join(stateDir, 'app'),
      record: join(stateDir, 'stack.json'),
    },
  };
}

const localStack = z.object({
  defaultTopology: z.string(),
  config: z.record(z.string(), z.string()),
  topologies: z.record(z.string(), z.array(z.object({ name: z.string(), deployables: z.array(z.string()) }))),
});

/** The local stack as the platform model declares it (platform/generated/local-stack.json). */
export function localStackModel() {
  const file = join(repoRoot, 'platform', 'generated', 'local-stack.json');
  return localStack.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** A secret of the stack kept in its state folder (`secrets/<name>`, mode 0600), generated on first use. */
export function stateSecret(settings: StackSettings, name: string): string {
  const file = join(settings.paths.secrets, name);
  if (!existsSync(file)) {
    mkdirSync(settings.paths.secrets, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}
