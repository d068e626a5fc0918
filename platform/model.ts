// The platform model: what runs (Deployables, the Workflows they host, the Resources they need),
// in which shapes (Topologies) and where (Environments). One YAML document per entity under
// platform/model/, in the usual apiVersion / kind / metadata / spec shape. These zod schemas are
// the one definition: the loader parses with them and platform/schema/*.schema.json is generated
// from them. Semantic checks are in platform/checks.ts, generators in platform/generate.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

export const API_VERSION = 'platform.durable-workflow-backend.dev/v1';

/** A Kubernetes-style name (RFC 1123 label): lowercase letters, digits and "-", at most 63. */
export const dnsName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be a DNS-1123 label: lowercase letters, digits and "-"');
const envKey = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an environment variable name (UPPER_SNAKE)');
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi)?$/, 'must be a Kubernetes quantity (100m, 256Mi, 1)');
const metadata = z.object({ name: dnsName, description: z.string().min(1) }).strict();

const resourceSizes = z
  .object({
    requests: z.object({ cpu: quantity, memory: quantity }).strict(),
    limits: z.object({ cpu: quantity.optional(), memory: quantity }).strict(),
  })
  .strict();

/** A config key a deployable reads from its environment, and whether it is a secret. */
const configKey = z
  .object({
    key: envKey,
    secret: z.boolean().default(false),
    /** The Resource whose connection this key carries (the environment says where it comes from). */
    resource: dnsName.optional(),
    description: z.string().min(1),
  })
  .strict();

export const deployableSpec = z
  .object({
    /** The compiled entry, relative to the image's working directory. */
    entry: z.string().regex(/^dist\/[\w/.-]+\.main\.js$/, 'must be a compiled entry dist/…/*.main.js'),
    /** The task queues its Temporal worker polls (none for the BFF). */
    taskQueues: z.array(z.string().min(1)),
    /** Workflow types (metadata.name of Workflow documents) it hosts. */
    workflows: z.array(dnsName),
    http: z
      .object({
        port: z.number().int().min(1024).max(65535),
        portEnv: envKey,
        hostEnv: envKey,
        /** Whether other services call it (the API) or only probes and scrapers do. */
        serves: z.enum(['api', 'health']),
      })
      .strict(),
    probes: z.object({ liveness: z.string().startsWith('/'), readiness: z.string().startsWith('/') }).strict(),
    /** How long SIGTERM → drained → exit may take; the pod's grace period is set above it. */
    shutdownGraceSeconds: z.number().int().min(1).max(600),
    config: z.array(configKey),
    resources: resourceSizes,
    replicas: z
      .object({ min: z.number().int().min(1), max: z.number().int().min(1) })
      .strict()
      .refine((r) => r.min <= r.max, 'min must not exceed max'),
    /** Rules the deployment must respect, in words and in a form the checks read. */
    constraints: z.array(
      z
        .object({
          /** A workflow that must never run twice at once: its id is fixed, so any number of workers may poll. */
          singletonWorkflow: dnsName,
          why: z.string().min(1),
        })
        .strict(),
    ),
  })
  .strict();

export const workflowSpec = z
  .object({
    /** The exported function name in workflows/index.ts. */
    type: z.string().regex(/^[a-z][A-Za-z0-9]*$/),
    taskQueue: z.string().min(1),
    /** The workflow id, with <placeholders> for what varies. */
    idScheme: z.string().min(1),
    searchAttributes: z.array(z.string().regex(/^[A-Z][A-Za-z]*$/)),
    deployable: dnsName,
  })
  .strict();

export const resourceSpec = z
  .object({
    kind: z.enum(['postgres', 'nats-jetstream', 'temporal', 'openfga']),
    /** The config keys a deployable gets its connection from. */
    provides: z.array(envKey).min(1),
    /** What each deployable needs of it. */
    needs: z.record(dnsName, z.string().min(1)),
  })
  .strict();

export const topologySpec = z
  .object({
    /** Processes (Deployments on Kubernetes), each running a set of deployables. */
    processes: z.array(z.object({ name: dnsName, deployables: z.array(dnsName).min(1) }).strict()).min(1),
  })
  .strict();

/**
 * A key of a Secret: the same `key` for every process, or per process (`keys`, by process name of the
 * topology, or `migrations` for the migration job), e.g. a NATS user or a database role of its own.
 * A process with neither does not get the variable.
 */
const secretRef = z
  .object({
    secretName: dnsName,
    key: z.string().min(1).optional(),
    keys: z.record(dnsName, z.string().min(1)).optional(),
  })
  .strict()
  .refine((ref) => ref.key || ref.keys, 'needs a key, or keys per process');

export const environmentSpec = z
  .object({
    topology: dnsName,
    image: z.object({ repository: z.string().min(1), tag: z.string().min(1) }).strict(),
    /** Replicas per process of the topology. */
    replicas: z.record(dnsName, z.number().int().min(0)),
    /**
     * Pods on their node's network (a one-node cluster reaching servers on loopback): workers bind any
     * free port and are probed inside the container, so replicas can share the node.
     */
    hostNetwork: z.boolean().default(false),
    /** Resource sizes per deployable, overriding the Deployable's. */
    sizes: z.record(dnsName, resourceSizes).optional(),
    /** Where each Resource comes from. */
    resources: z.record(
      dnsName,
      z
        .object({
          source: z.enum(['local-stack', 'in-cluster', 'managed']),
          /** What provides it: a chart or operator (in-cluster) or a service (managed), in words. */
          via: z.string().min(1),
          /** The Secret that holds its connection keys (in-cluster and managed). */
          secretName: dnsName.optional(),
        })
        .strict(),
    ),
    /** Plain config values (never secrets). */
    config: z.record(envKey, z.string()),
    /** Secret config values: references only, never values. */
    secrets: z.record(envKey, secretRef),
  })
  .strict();

const document = <K extends string, S extends z.ZodType>(kind: K, spec: S) =>
  z.object({ apiVersion: z.literal(API_VERSION), kind: z.literal(kind), metadata, spec }).strict();

export const KINDS = {
  Deployable: document('Deployable', deployableSpec),
  Workflow: document('Workflow', workflowSpec),
  Resource: document('Resource', resourceSpec),
  Topology: document('Topology', topologySpec),
  Environment: document('Environment', environmentSpec),
} as const;
export type Kind = keyof typeof KINDS;
export type Doc<K extends Kind> = z.infer<(typeof KINDS)[K]>;

export interface PlatformModel {
  deployables: Doc<'Deployable'>[];
  workflows: Doc<'Workflow'>[];
  resources: Doc<'Resource'>[];
  topologies: Doc<'Topology'>[];
  environments: Doc<'Environment'>[];
}

const COLLECTION: Record<Kind, keyof PlatformModel> = {
  Deployable: 'deployables',
  Workflow: 'workflows',
  Resource: 'resources',
  Topology: 'topologies',
  Environment: 'environments',
};

/** A model file that does not parse or does not fit its kind; the message names the file and field. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
}

const anyDocument = z.object({ kind: z.enum(Object.keys(KINDS) as [Kind, ...Kind[]]) }).passthrough();

/** Every document under `dir` (YAML files, one entity each), parsed and typed. */
export function loadModel(dir: string): PlatformModel {
  const model: PlatformModel = { deployables: [], workflows: [], resources: [], topologies: [], environments: [] };
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f)).sort();
  const problems: string[] = [];
  for (const file of files) {
    const where = relative(process.cwd(), join(dir, file));
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
    if (docs.length !== 1) {
      problems.push(`${where}: holds ${docs.length} documents; one entity per file`);
      continue;
    }
    const doc = docs[0]!;
    if (doc.errors.length > 0) {
      problems.push(`${where}: ${doc.errors.map((e) => e.message).join('; ')}`);
      continue;
    }
    const raw: unknown = doc.toJS();
    const head = anyDocument.safeParse(raw);
    if (!head.success) {
      problems.push(`${where}: kind must be one of ${Object.keys(KINDS).join(', ')}`);
      continue;
    }
    const parsed = KINDS[head.data.kind].safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`${where}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      continue;
    }
    (model[COLLECTION[head.data.kind]] as unknown[]).push(parsed.data);
  }
  if (problems.length > 0) throw new ModelError(problems.join('\n'));
  return model;
}

/** The JSON Schema of each kind, generated from the zod definitions above. */
export function kindSchemas(): Record<Kind, object> {
  return Object.fromEntries(
    Object.entries(KINDS).map(([kind, schema]) => [
      kind,
      {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: kind,
        ...z.toJSONSchema(schema, { io: 'input' }),
      },
    ]),
  ) as Record<Kind, object>;
}
