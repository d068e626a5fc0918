// Semantic checks of the platform model, beyond the shape its zod schemas check: references
// resolve, the model and the code agree (the exported workflows, the deployables' real config
// schemas, the search attributes), every task queue is polled in every topology, every environment
// provides what each deployable requires, and no secret sits in plain text. Each check returns
// problems as "where: what", never throws; `npm run platform -- check` prints them.
import type { z } from 'zod';
import type { PlatformModel } from './model.ts';

/** What the checks compare the model with: facts read from the code, not copies of it. */
export interface CodeFacts {
  /** Names of the workflow functions workflows/index.ts exports. */
  exportedWorkflows: string[];
  /** Each deployable's real config schema (its zod object over process.env). */
  configSchemas: Record<string, z.ZodType>;
  /** The custom search attributes the workflows may upsert. */
  searchAttributes: string[];
  /** The task queue names defined in contracts/workflow-names.ts. */
  taskQueues: string[];
}

/** Keys whose name says "secret": they may only come from a Secret reference. */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|CREDENTIAL|API_KEY|_KEY$)/;
/** Values that carry a secret whatever their key: credentials in a URL, keys, tokens. */
const SECRET_VALUE = [
  { pattern: /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, what: 'a URL with a password' },
  { pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'a private key' },
  { pattern: /^AGE-SECRET-KEY-/, what: 'an age secret key' },
  { pattern: /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, what: 'a JWT' },
];

/** Every problem of `model` given the code's `facts`; empty when the model is sound. */
export function checkModel(model: PlatformModel, facts: CodeFacts): string[] {
  const problems: string[] = [];
  const add = (where: string, what: string) => problems.push(`${where}: ${what}`);
  const names = <T extends { metadata: { name: string } }>(docs: T[]) => docs.map((d) => d.metadata.name);
  const deployables = new Map(model.deployables.map((d) => [d.metadata.name, d]));
  const workflows = new Map(model.workflows.map((w) => [w.metadata.name, w]));
  const resources = new Map(model.resources.map((r) => [r.metadata.name, r]));
  const topologies = new Map(model.topologies.map((t) => [t.metadata.name, t]));

  for (const [kind, docs] of Object.entries(model) as [string, { metadata: { name: string } }[]][]) {
    const seen = new Set<string>();
    for (const name of names(docs)) {
      if (seen.has(name)) add(`${kind}/${name}`, 'is defined twice');
      seen.add(name);
    }
  }

  // Workflows: references, and the model against workflows/index.ts and the shared names.
  for (const [name, workflow] of workflows) {
    const where = `Workflow/${name}`;
    const host = deployables.get(workflow.spec.deployable);
    if (!host) add(where, `deployable ${workflow.spec.deployable} is not in the model`);
    else if (!host.spec.workflows.includes(name)) add(where, `deployable ${host.metadata.name} does not list it`);
    else if (!host.spec.taskQueues.includes(workflow.spec.taskQueue)) {
      add(where, `runs on task queue ${workflow.spec.taskQueue}, which ${host.metadata.name} does not poll`);
    }
    if (!facts.taskQueues.includes(workflow.spec.taskQueue)) {
      add(where, `task queue ${workflow.spec.taskQueue} is not one of ${facts.taskQueues.join(', ')}`);
    }
    if (!facts.exportedWorkflows.includes(workflow.spec.type)) {
      add(where, `type ${workflow.spec.type} is not exported by workflows/index.ts`);
    }
    for (const attribute of workflow.spec.searchAttributes) {
      if (!facts.searchAttributes.includes(attribute)) add(where, `search attribute ${attribute} is not defined`);
    }
  }
  const modelled = new Set(model.workflows.map((w) => w.spec.type));
  for (const type of facts.exportedWorkflows) {
    if (!modelled.has(type)) add('workflows/index.ts', `exports ${type}, which no Workflow document describes`);
  }

  // Deployables: references, constraints, and the config keys against the real schemas.
  for (const [name, deployable] of deployables) {
    const where = `Deployable/${name}`;
    for (const workflow of deployable.spec.workflows) {
      if (!workflows.has(workflow)) add(where, `hosts workflow ${workflow}, which is not in the model`);
    }
    for (const queue of deployable.spec.taskQueues) {
      if (!facts.taskQueues.includes(queue)) add(where, `polls ${queue}, which is not a task queue`);
    }
    for (const { singletonWorkflow } of deployable.spec.constraints) {
      const workflow = workflows.get(singletonWorkflow);
      if (!workflow || workflow.spec.deployable !== name) {
        add(where, `constraint names singleton workflow ${singletonWorkflow}, which it does not host`);
      } else if (/<(uuid|random|id)>/.test(workflow.spec.idScheme)) {
        add(
          where,
          `singleton workflow ${singletonWorkflow} has a random id (${workflow.spec.idScheme}), so it could run twice`,
        );
      }
    }
    for (const { key, resource } of deployable.spec.config) {
      if (resource && !resources.has(resource))
        add(where, `config key ${key} names resource ${resource}, which is not in the model`);
    }
    const schema = facts.configSchemas[name];
    if (!schema) {
      add(where, 'no deployable of that name in the code (all-in-one/deployables.ts)');
      continue;
    }
    const real = new Set(configKeysOf(schema));
    const declared = new Set(deployable.spec.config.map((c) => c.key));
    for (const key of real)
      if (!declared.has(key)) add(where, `reads ${key} (its config schema), which the model does not declare`);
    for (const key of declared)
      if (!real.has(key)) add(where, `declares ${key}, which its config schema does not read`);
  }
  for (const name of Object.keys(facts.configSchemas)) {
    if (!deployables.has(name)) add(`Deployable/${name}`, 'exists in the code but not in the model');
  }

  // Resources.
  for (const [name, resource] of resources) {
    for (const needer of Object.keys(resource.spec.needs)) {
      if (!deployables.has(needer)) add(`Resource/${name}`, `names deployable ${needer}, which is not in the model`);
    }
  }

  // Topologies: every deployable in exactly one process; every task queue polled.
  for (const [name, topology] of topologies) {
    const where = `Topology/${name}`;
    const placed = topology.spec.processes.flatMap((p) => p.deployables);
    for (const deployable of placed) {
      if (!deployables.has(deployable)) add(where, `runs ${deployable}, which is not in the model`);
      if (placed.filter((d) => d === deployable).length > 1) add(where, `runs ${deployable} in more than one process`);
    }
    const polled = new Set(placed.flatMap((d) => deployables.get(d)?.spec.taskQueues ?? []));
    for (const [workflowName, workflow] of workflows) {
      if (!polled.has(workflow.spec.taskQueue)) {
        add(where, `no process polls ${workflow.spec.taskQueue}, so workflow ${workflowName} would never run`);
      }
    }
  }

  // Environments: references, replicas, what each deployable requires, no plain-text secrets.
  for (const environment of model.environments) {
    const where = `Environment/${environment.metadata.name}`;
    const spec = environment.spec;
    const topology = topologies.get(spec.topology);
    if (!topology) {
      add(where, `topology ${spec.topology} is not in the model`);
      continue;
    }
    const processes = new Map(topology.spec.processes.map((p) => [p.name, p]));
    for (const process of processes.keys()) {
      if (spec.replicas[process] === undefined)
        add(where, `sets no replicas for process ${process} of ${spec.topology}`);
    }
    for (const [process, count] of Object.entries(spec.replicas)) {
      const running = processes.get(process);
      if (!running) {
        add(where, `sets replicas for ${process}, which topology ${spec.topology} does not have`);
      } else if (running.deployables.length === 1 && count > 0) {
        const bounds = deployables.get(running.deployables[0]!)?.spec.replicas;
        if (bounds && (count < bounds.min || count > bounds.max)) {
          add(where, `runs ${count} ${process} replicas; its Deployable allows ${bounds.min}–${bounds.max}`);
        }
      }
    }
    for (const deployable of Object.keys(spec.sizes ?? {})) {
      if (!deployables.has(deployable)) add(where, `sizes ${deployable}, which is not in the model`);
    }
    for (const name of resources.keys()) {
      const source = spec.resources[name];
      if (!source) add(where, `does not say where resource ${name} comes from`);
      else if (source.source !== 'local-stack' && !source.secretName && resourceNeedsSecret(model, name)) {
        add(where, `resource ${name} (${source.source}) needs the secretName that holds its connection`);
      }
    }
    for (const name of Object.keys(spec.resources)) {
      if (!resources.has(name)) add(where, `places resource ${name}, which is not in the model`);
    }

    const secretKeys = new Set(
      model.deployables.flatMap((d) => d.spec.config.filter((c) => c.secret).map((c) => c.key)),
    );
    const knownKeys = new Set(model.deployables.flatMap((d) => d.spec.config.map((c) => c.key)));
    for (const [key, value] of Object.entries(spec.config)) {
      if (!knownKeys.has(key)) add(where, `sets ${key}, which no deployable reads`);
      if (secretKeys.has(key) || SECRET_NAME.test(key)) {
        add(where, `${key} is a secret: give it in secrets (a Secret reference), never as a plain value`);
      }
      for (const { pattern, what } of SECRET_VALUE) {
        if (pattern.test(value)) add(where, `${key} holds ${what} in plain text: move it to a Secret`);
      }
    }
    const components = new Set([...processes.keys(), 'migrations']);
    for (const [key, ref] of Object.entries(spec.secrets)) {
      if (!knownKeys.has(key)) add(where, `references a secret for ${key}, which no deployable reads`);
      for (const component of Object.keys(ref.keys ?? {})) {
        if (!components.has(component)) add(where, `gives ${key} a key for ${component}, which is not a process`);
      }
    }

    // What the environment provides: plain values, secret references, and the local stack's keys.
    const provided: Record<string, string> = { DEPLOY_ENVIRONMENT: environment.metadata.name, ...spec.config };
    const fromLocalStack = new Set<string>();
    for (const [name, resource] of resources) {
      if (spec.resources[name]?.source === 'local-stack')
        for (const key of resource.spec.provides) fromLocalStack.add(key);
    }
    for (const process of topology.spec.processes) {
      const fromSecrets = new Set(fromLocalStack);
      for (const [key, ref] of Object.entries(spec.secrets))
        if (ref.key || ref.keys?.[process.name]) fromSecrets.add(key);
      for (const deployable of process.deployables) {
        const schema = facts.configSchemas[deployable];
        if (!schema) continue;
        const env: Record<string, string> = { ...provided };
        for (const key of fromSecrets) env[key] = SECRET_PLACEHOLDER;
        const parsed = schema.safeParse(env);
        if (parsed.success) continue;
        for (const issue of parsed.error.issues) {
          const key = issue.path.join('.');
          // A value we only know by reference: its presence counts, its form is the secret's business.
          if (fromSecrets.has(key) && env[key] === SECRET_PLACEHOLDER && issue.code !== 'invalid_type') continue;
          add(where, `${deployable} would not start: ${key || '(config)'} ${issue.message}`);
        }
      }
    }
  }
  return problems;
}

const SECRET_PLACEHOLDER = '<from a secret>';

function resourceNeedsSecret(model: PlatformModel, resource: string): boolean {
  return model.deployables.some((d) => d.spec.config.some((c) => c.resource === resource && c.secret));
}

/** The environment variable names a deployable's config schema reads. */
export function configKeysOf(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  if (!shape) throw new Error('a deployable config schema must be a zod object');
  return Object.keys(shape);
}
