// Reads agent/codemap.yml, agent/routing.yml and agent/gates.yml into typed objects, with readable
// errors for a malformed file, and answers the questions the gates ask of them: which module owns a
// file, which routes match it, which gates those routes select.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';
import { z } from 'zod';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lowercase words joined by "-"');
const globs = z.array(z.string().min(1)).min(1);

const packageRule = z.union([
  z.object({ only: z.array(z.string()) }).strict(),
  z.object({ not: z.array(z.string()) }).strict(),
]);

const moduleSchema = z
  .object({
    paths: globs,
    purpose: z.string().min(10),
    owner: name,
    may_import: z.array(name),
    may_import_types: z.array(name).optional(),
    packages: packageRule.optional(),
  })
  .strict();

export const codemapSchema = z
  .object({
    version: z.literal(1),
    layers: z
      .array(z.object({ name: z.string(), modules: z.array(name).min(1), isolated: z.boolean().optional() }).strict())
      .min(1),
    generated: z.array(z.object({ paths: globs, written_by: z.string().min(1) }).strict()),
    modules: z.record(name, moduleSchema),
  })
  .strict();

export const routingSchema = z
  .object({
    version: z.literal(1),
    always: z.array(name),
    routes: z.array(z.object({ paths: globs, role: name, gates: z.array(name).min(1) }).strict()).min(1),
  })
  .strict();

export const gatesSchema = z
  .object({
    version: z.literal(1),
    gates: z.record(
      name,
      z
        .object({
          script: z.string().min(1),
          proves: z.string().min(10),
          required: z.boolean(),
          stack: z.boolean(),
        })
        .strict(),
    ),
  })
  .strict();

export type Codemap = z.infer<typeof codemapSchema>;
export type Routing = z.infer<typeof routingSchema>;
export type Gates = z.infer<typeof gatesSchema>;
export type ModuleSpec = Codemap['modules'][string];

export interface AgentFiles {
  codemap: Codemap;
  routing: Routing;
  gates: Gates;
}

/** Thrown for an agent file that does not parse or does not fit its schema; the message says where. */
export class AgentFileError extends Error {
  override readonly name = 'AgentFileError';
}

function load<S extends z.ZodType>(root: string, file: string, schema: S): z.infer<S> {
  const path = join(root, 'agent', file);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgentFileError(`agent/${file}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new AgentFileError(`agent/${file} is not valid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The three agent files of the repository at `root`. */
export function loadAgentFiles(root: string): AgentFiles {
  return {
    codemap: load(root, 'codemap.yml', codemapSchema),
    routing: load(root, 'routing.yml', routingSchema),
    gates: load(root, 'gates.yml', gatesSchema),
  };
}

const matches = (file: string, patterns: string[]) => patterns.some((p) => minimatch(file, p, { dot: true }));

/** The names of every module whose paths match `file` (exactly one in a healthy codemap). */
export function modulesOf(codemap: Codemap, file: string): string[] {
  return Object.entries(codemap.modules)
    .filter(([, spec]) => matches(file, spec.paths))
    .map(([moduleName]) => moduleName);
}

/** The generated-file entry that covers `file`, if any. */
export function generatedEntry(codemap: Codemap, file: string): Codemap['generated'][number] | undefined {
  return codemap.generated.find((entry) => matches(file, entry.paths));
}

/** Every route whose paths match `file`. */
export function routesOf(routing: Routing, file: string): Routing['routes'] {
  return routing.routes.filter((route) => matches(file, route.paths));
}

/** The gates that changes to `files` must pass, in agent/gates.yml order. */
export function selectGates(files: AgentFiles, paths: string[]): string[] {
  const wanted = new Set(files.routing.always);
  for (const path of paths)
    for (const route of routesOf(files.routing, path)) route.gates.forEach((g) => wanted.add(g));
  return Object.keys(files.gates.gates).filter((gate) => wanted.has(gate));
}

/** The layer index of each module (modules outside every layer are leaves: tools, tests, docs). */
export function layerIndex(codemap: Codemap): Map<string, number> {
  const index = new Map<string, number>();
  codemap.layers.forEach((layer, i) => layer.modules.forEach((m) => index.set(m, i)));
  return index;
}
