// The Helm chart's values: their schema (helm/durable-workflow-backend/values.schema.json is
// generated from it, strict) and how the platform model fills them — the chart's defaults from the
// Deployables and the `kubernetes` topology, and each Environment's overrides (Flux values).
import { z } from 'zod';
import type { Doc, PlatformModel } from './model.ts';

const quantity = z.string();
const resources = z
  .object({
    requests: z.object({ cpu: quantity, memory: quantity }).strict(),
    limits: z.object({ cpu: quantity.optional(), memory: quantity }).strict(),
  })
  .strict();
const probe = z
  .object({
    /** http: GET path on the deployable's port; exec: the same check run inside the container (shared host network). */
    type: z.enum(['http', 'exec']),
    liveness: z.string(),
    readiness: z.string(),
  })
  .strict();

const process = z
  .object({
    enabled: z.boolean(),
    replicas: z.number().int().min(0),
    command: z.array(z.string()).min(1),
    /** 0: any free port, announced in HEALTH_PORT_FILE for exec probes (replicas sharing a host network). */
    port: z.number().int().min(0).max(65535),
    portEnv: z.string(),
    hostEnv: z.string(),
    probes: probe,
    /** Above the deployable's own shutdown grace, so a drain is never cut short. */
    terminationGracePeriodSeconds: z.number().int().min(1),
    resources,
    pdb: z.object({ enabled: z.boolean(), maxUnavailable: z.number().int().min(0) }).strict(),
  })
  .strict();

export const chartValuesSchema = z
  .object({
    image: z
      .object({
        repository: z.string().min(1),
        tag: z.string().min(1),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
      })
      .strict(),
    /** Pods on the node's network (a single-node cluster reaching servers on loopback). */
    hostNetwork: z.boolean(),
    /** Files mounted read-only at /etc/app in every pod (e.g. a JWKS for local development). */
    files: z.record(z.string().regex(/^[\w.-]+$/), z.string()),
    /** Plain config (a ConfigMap every pod reads): never secrets. */
    config: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()),
    /** Secret config: environment variables taken from existing Secrets. */
    secretEnv: z.record(
      z.string().regex(/^[A-Z][A-Z0-9_]*$/),
      z
        .object({
          secretName: z.string().min(1),
          /** The key for every process… */
          key: z.string().min(1).optional(),
          /** …or per component (bff, a worker's name, migrations); a component with neither goes without. */
          keys: z.record(z.string(), z.string().min(1)).optional(),
        })
        .strict(),
    ),
    bff: process
      .extend({
        service: z.object({ type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']), port: z.number().int() }).strict(),
        ingress: z
          .object({
            enabled: z.boolean(),
            className: z.string(),
            host: z.string(),
            tlsSecretName: z.string(),
          })
          .strict(),
      })
      .strict(),
    workers: z.record(
      z.string().regex(/^[a-z0-9-]+$/),
      process
        .extend({
          taskQueues: z.array(z.string()).min(1),
          keda: z
            .object({
              enabled: z.boolean(),
              minReplicas: z.number().int().min(0),
              maxReplicas: z.number().int().min(1),
              /** Scale out when this many tasks wait per replica. */
              targetQueueSize: z.number().int().min(1),
            })
            .strict(),
        })
        .strict(),
    ),
    migrations: z
      .object({
        enabled: z.boolean(),
        command: z.array(z.string()).min(1),
        backoffLimit: z.number().int().min(0),
        activeDeadlineSeconds: z.number().int().min(1),
      })
      .strict(),
    keda: z.object({ temporalEndpoint: z.string(), temporalNamespace: z.string() }).strict(),
    serviceMonitor: z.object({ enabled: z.boolean(), interval: z.string() }).strict(),
    /** The Grafana dashboard (dashboards/backend.json) as a ConfigMap for Grafana's dashboard sidecar. */
    dashboards: z
      .object({
        enabled: z.boolean(),
        /** The labels the sidecar selects ConfigMaps by (its `label` and `labelValue`). */
        labels: z.record(z.string(), z.string()),
        /** The namespace the sidecar watches; empty: the release's. */
        namespace: z.string(),
      })
      .strict(),
    podSecurityContext: z.record(z.string(), z.unknown()),
    securityContext: z.record(z.string(), z.unknown()),
  })
  .strict();
export type ChartValues = z.infer<typeof chartValuesSchema>;

const command = (d: Doc<'Deployable'>) => ['node', d.spec.entry];
const processValues = (d: Doc<'Deployable'>, replicas: number) => ({
  enabled: true,
  replicas,
  command: command(d),
  port: d.spec.http.port,
  portEnv: d.spec.http.portEnv,
  hostEnv: d.spec.http.hostEnv,
  probes: { type: 'http' as const, liveness: d.spec.probes.liveness, readiness: d.spec.probes.readiness },
  terminationGracePeriodSeconds: d.spec.shutdownGraceSeconds + 10,
  resources: d.spec.resources,
  pdb: { enabled: true, maxUnavailable: 1 },
});

/** The chart's defaults: every deployable of the `kubernetes` topology at its minimum replicas. */
export function chartDefaults(model: PlatformModel): ChartValues {
  const byName = new Map(model.deployables.map((d) => [d.metadata.name, d]));
  const bff = byName.get('bff');
  if (!bff) throw new Error('the model has no bff Deployable');
  const workers = model.deployables.filter((d) => d.spec.taskQueues.length > 0);
  return {
    image: { repository: 'localhost/durable-workflow-backend', tag: 'latest', pullPolicy: 'IfNotPresent' },
    hostNetwork: false,
    config: { NODE_ENV: 'production', BFF_HOST: '0.0.0.0', ...hostsOf(workers) },
    files: {},
    secretEnv: {},
    bff: {
      ...processValues(bff, bff.spec.replicas.min),
      service: { type: 'ClusterIP', port: 80 },
      ingress: { enabled: false, className: '', host: '', tlsSecretName: '' },
    },
    workers: Object.fromEntries(
      workers.map((d) => [
        d.metadata.name,
        {
          ...processValues(d, d.spec.replicas.min),
          taskQueues: d.spec.taskQueues,
          keda: {
            enabled: false,
            minReplicas: d.spec.replicas.min,
            maxReplicas: d.spec.replicas.max,
            targetQueueSize: 10,
          },
        },
      ]),
    ),
    migrations: {
      enabled: true,
      command: ['node', 'dist/runtime/migrate.main.js'],
      backoffLimit: 1,
      activeDeadlineSeconds: 300,
    },
    keda: { temporalEndpoint: '', temporalNamespace: 'default' },
    serviceMonitor: { enabled: false, interval: '30s' },
    dashboards: { enabled: false, labels: { grafana_dashboard: '1' }, namespace: '' },
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

const hostsOf = (workers: Doc<'Deployable'>[]) =>
  Object.fromEntries(workers.map((d) => [d.spec.http.hostEnv, '0.0.0.0']));

/** What an Environment changes in the chart's defaults (the values Flux hands its HelmRelease). */
export function environmentValues(model: PlatformModel, environment: Doc<'Environment'>) {
  const spec = environment.spec;
  const sizes = spec.sizes ?? {};
  const workers = model.deployables.filter((d) => d.spec.taskQueues.length > 0);
  const temporalAddress = spec.config.TEMPORAL_ADDRESS;
  // On a shared host network the BFF keeps the port its config names; workers take any free one and
  // are probed inside the container (runtime/probe.main.ts), so replicas can share the node.
  const { BFF_PORT, ...config } = spec.config;
  const shared = () => (spec.hostNetwork ? { probes: { type: 'exec' as const } } : {});
  return {
    image: { repository: spec.image.repository, tag: spec.image.tag },
    ...(spec.hostNetwork ? { hostNetwork: true } : {}),
    config: { DEPLOY_ENVIRONMENT: environment.metadata.name, ...config },
    secretEnv: spec.secrets,
    bff: {
      replicas: spec.replicas.bff ?? 1,
      ...(BFF_PORT ? { port: Number(BFF_PORT) } : {}),
      ...shared(),
      ...(sizes.bff ? { resources: sizes.bff } : {}),
    },
    workers: Object.fromEntries(
      workers.map((d) => [
        d.metadata.name,
        {
          replicas: spec.replicas[d.metadata.name] ?? 1,
          ...(spec.hostNetwork ? { port: 0, ...shared() } : {}),
          ...(sizes[d.metadata.name] ? { resources: sizes[d.metadata.name] } : {}),
        },
      ]),
    ),
    ...(temporalAddress
      ? { keda: { temporalEndpoint: temporalAddress, temporalNamespace: spec.config.TEMPORAL_NAMESPACE ?? 'default' } }
      : {}),
  };
}
