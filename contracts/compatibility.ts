// The event schema compatibility gate: each event's newly generated JSON Schema against the committed
// file of the same version. Events of a committed version are already in outboxes and on the stream,
// and consumers parse them with the current schema of that version, so a new schema must accept
// every payload the committed one accepted. Additive changes (a new optional property, a wider enum,
// a looser bound, another description) pass, and the drift gate asks to regenerate as usual. Anything
// else is breaking: bump the contract's schemaVersion and add an upcaster (contracts/upcasters.ts).
//
// The comparison is our own and covers only the JSON Schema that `z.toJSONSchema` emits for our
// contracts; a keyword it does not know counts as breaking whenever it changes, so nothing slips
// through unexamined. Why not a library: json-schema-diff (npm) compares accepted value sets
// soundly but brings ajv, lodash, convict, verror, commander and a $ref parser, and answers with
// a schema of the removed values rather than a line a reader can act on; and contracts/ may import
// only zod (agent/codemap.yml).
import type { EventContract } from './events.ts';
import { eventSchemaPath, GENERATED_DIR, renderEventSchema } from './generate.ts';
import { eventVersions, type Upcaster } from './upcasters.ts';

type Schema = Record<string, unknown> | boolean;

/** Keywords that never change which payloads are valid. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  '$comment',
]);
/** Keywords compared below; any other keyword that changes is reported as breaking. */
const UNDERSTOOD = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'anyOf',
  'oneOf',
  'pattern',
  'format',
  'multipleOf',
]);
/** Bounds a new schema may lower (first) or raise (second) but not the other way round. */
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];

const show = (value: unknown) => JSON.stringify(value);
const same = (a: unknown, b: unknown) => show(a) === show(b);
const where = (path: string) => (path === '' ? 'payload' : path);

function types(schema: Record<string, unknown>): string[] | undefined {
  const type: unknown = schema.type;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : undefined;
}

function allowed(schema: Record<string, unknown>): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum as unknown[];
  return 'const' in schema ? [schema.const] : undefined;
}

/** The variants of a schema: its anyOf/oneOf branches, each with the keywords beside them. */
function variants(schema: Record<string, unknown>): Schema[] {
  const { anyOf, oneOf, ...rest } = schema;
  const branches = (anyOf ?? oneOf) as Schema[] | undefined;
  if (!branches) return [schema];
  return branches.map((branch) => (typeof branch === 'boolean' ? branch : { ...rest, ...branch }));
}

/**
 * What `after` refuses that `before` accepted, one line per difference, at `path` in the payload.
 * Empty when every payload valid under `before` is valid under `after` (as far as these rules see).
 */
export function breakingChanges(before: Schema, after: Schema, path = ''): string[] {
  if (after === true || before === false) return [];
  if (after === false) return [`${where(path)}: no longer allowed`];
  if (before === true) before = {};
  if ('anyOf' in before || 'oneOf' in before || 'anyOf' in after || 'oneOf' in after) {
    const [oldVariants, newVariants] = [variants(before), variants(after)];
    return oldVariants.flatMap((variant, i) => {
      const per = newVariants.map((candidate) => breakingChanges(variant, candidate, path));
      if (per.some((breaks) => breaks.length === 0)) return [];
      if (oldVariants.length === 1 && per.length === 1) return per[0]!;
      const kind = typeof variant === 'boolean' ? String(variant) : (types(variant)?.join(' | ') ?? 'any');
      return [`${where(path)}: variant ${i + 1} of ${oldVariants.length} (${kind}) no longer accepted`];
    });
  }
  const breaks: string[] = [];
  const at = where(path);

  const [was, is] = [types(before), types(after)];
  if (is && !was) breaks.push(`${at}: type restricted to ${is.join(' | ')}`);
  if (is && was) {
    const lost = was.filter((t) => !is.includes(t) && !(t === 'integer' && is.includes('number')));
    if (lost.length > 0) breaks.push(`${at}: type changed from ${was.join(' | ')} to ${is.join(' | ')}`);
  }

  const [wasValues, isValues] = [allowed(before), allowed(after)];
  if (isValues && !wasValues) breaks.push(`${at}: now limited to ${isValues.map(show).join(', ')}`);
  if (isValues && wasValues) {
    const dropped = wasValues.filter((value) => !isValues.some((kept) => same(kept, value)));
    if (dropped.length > 0) breaks.push(`${at}: enum narrowed, no longer accepts ${dropped.map(show).join(', ')}`);
  }

  for (const bound of LOWER_BOUNDS) {
    const [old, now] = [before[bound], after[bound]];
    if (typeof now !== 'number') continue;
    if (typeof old !== 'number') breaks.push(`${at}: ${bound} ${now} added`);
    else if (now > old) breaks.push(`${at}: ${bound} raised from ${old} to ${now}`);
  }
  for (const bound of UPPER_BOUNDS) {
    const [old, now] = [before[bound], after[bound]];
    if (typeof now !== 'number') continue;
    if (typeof old !== 'number') breaks.push(`${at}: ${bound} ${now} added`);
    else if (now < old) breaks.push(`${at}: ${bound} lowered from ${old} to ${now}`);
  }
  for (const keyword of ['pattern', 'format', 'multipleOf']) {
    if (after[keyword] === undefined || same(before[keyword], after[keyword])) continue;
    breaks.push(
      before[keyword] === undefined
        ? `${at}: ${keyword} ${show(after[keyword])} added`
        : `${at}: ${keyword} changed from ${show(before[keyword])} to ${show(after[keyword])}`,
    );
  }

  const child = (name: string) => (path === '' ? name : `${path}.${name}`);
  const oldProperties = (before.properties ?? {}) as Record<string, Schema>;
  const newProperties = (after.properties ?? {}) as Record<string, Schema>;
  for (const [name, schema] of Object.entries(oldProperties)) {
    const next = newProperties[name];
    if (next === undefined) breaks.push(`${child(name)}: property removed`);
    else breaks.push(...breakingChanges(schema, next, child(name)));
  }
  const oldRequired = (before.required ?? []) as string[];
  for (const name of (after.required ?? []) as string[]) {
    if (oldRequired.includes(name)) continue;
    breaks.push(name in oldProperties ? `${child(name)}: now required` : `${child(name)}: new required property`);
  }
  const nested = [
    ['additionalProperties', '{*}'],
    ['propertyNames', '{key}'],
    ['items', '[]'],
  ] as const;
  for (const [keyword, suffix] of nested) {
    const [old, now] = [(before[keyword] ?? true) as Schema, (after[keyword] ?? true) as Schema];
    if (keyword === 'additionalProperties' && now === false && old !== false) {
      breaks.push(`${at}: additional properties no longer allowed`);
    } else breaks.push(...breakingChanges(old, now, `${at}${suffix}`));
  }

  for (const keyword of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (ANNOTATIONS.has(keyword) || keyword.startsWith('x-') || UNDERSTOOD.has(keyword)) continue;
    if (LOWER_BOUNDS.includes(keyword) || UPPER_BOUNDS.includes(keyword)) continue;
    if (!same(before[keyword], after[keyword])) {
      breaks.push(`${at}: ${keyword} changed (a keyword this gate does not compare; counted as breaking)`);
    }
  }
  return breaks;
}

const committedEvent = new RegExp(`^${GENERATED_DIR}/events/(.+)\\.v(\\d+)\\.schema\\.json$`);

/**
 * The gate: each event version's schema against its committed file, and the upcasters that keep
 * every committed past version readable. `held` are past-version files the drift gate must not call
 * stale (they lack an upcaster, which `problems` reports).
 */
export function checkCompatibility(
  contracts: readonly EventContract[],
  upcasters: readonly Upcaster[],
  committed: ReadonlyMap<string, string>,
): { problems: string[]; held: Set<string> } {
  const problems = upcasterProblems(contracts, upcasters);
  const held = new Set<string>();
  const versions = new Map(eventVersions(contracts, upcasters).map((v) => [eventSchemaPath(v), v]));
  // Committed files are named by event type alone (generate.ts), so event types are unique across aggregates.
  const current = new Map(contracts.map((c) => [c.eventType, c]));
  const steps = new Set(upcasters.map((u) => `${u.eventType}/v${u.fromVersion}`));

  for (const [path, content] of committed) {
    const name = committedEvent.exec(path);
    if (!name) continue;
    const [eventType, committedVersion] = [name[1]!, Number(name[2])];
    const version = versions.get(path);
    if (!version) {
      const contract = current.get(eventType);
      if (!contract || committedVersion >= contract.schemaVersion) continue; // not a past version: drift says stale
      held.add(path);
      const gaps: string[] = [];
      for (let v = committedVersion; v < contract.schemaVersion; v++) {
        if (!steps.has(`${eventType}/v${v}`)) gaps.push(`v${v} → v${v + 1}`);
      }
      problems.push(
        `no upcaster: ${eventType} v${committedVersion} is committed (${path}) and its events are stored, but the contract ` +
          `is at v${contract.schemaVersion} and there is no upcaster ${gaps.join(', ')}: add ` +
          `${gaps.length === 1 ? 'it' : 'them'} to contracts/upcasters.ts, the first reading the v${committedVersion} schema as committed`,
      );
      continue;
    }
    let before: Schema;
    try {
      before = JSON.parse(content) as Schema;
    } catch (error) {
      problems.push(`unreadable: ${path} is not JSON (${(error as Error).message}); restore it from git`);
      continue;
    }
    const breaks = breakingChanges(before, renderEventSchema(version) as Schema);
    if (breaks.length === 0) continue;
    const isPast = version.schemaVersion < (current.get(eventType)?.schemaVersion ?? 0);
    const remedy = isPast
      ? `The upcaster from v${version.schemaVersion} (contracts/upcasters.ts) must read the v${version.schemaVersion} schema as committed: restore its \`from\` schema.`
      : `Events of v${version.schemaVersion} are already stored and published: keep this version as committed, ` +
        `bump schemaVersion to ${version.schemaVersion + 1} in the contract and add an upcaster ` +
        `v${version.schemaVersion} → v${version.schemaVersion + 1} to contracts/upcasters.ts (its \`from\` is the v${version.schemaVersion} schema as it was).`;
    problems.push(
      `breaking: ${eventType} v${version.schemaVersion} (${version.aggregateType}) differs incompatibly from ${path}:\n` +
        `${breaks.map((b) => `    - ${b}`).join('\n')}\n    ${remedy}`,
    );
  }
  return { problems: problems.sort(), held };
}

/** The registry itself: each upcaster belongs to a contract, reads an older version, and chains to the current one. */
function upcasterProblems(contracts: readonly EventContract[], upcasters: readonly Upcaster[]): string[] {
  const problems: string[] = [];
  const stepKey = (u: { aggregateType: string; eventType: string }, version: number) =>
    `${u.aggregateType}/${u.eventType}/v${version}`;
  const steps = new Map<string, Upcaster>();
  for (const u of upcasters) {
    if (steps.has(stepKey(u, u.fromVersion))) {
      problems.push(`upcaster: ${u.eventType} v${u.fromVersion} has two upcasters`);
    }
    steps.set(stepKey(u, u.fromVersion), u);
  }
  for (const u of upcasters) {
    const name = `upcaster: ${u.eventType} v${u.fromVersion} → v${u.fromVersion + 1}`;
    const contract = contracts.find((c) => c.aggregateType === u.aggregateType && c.eventType === u.eventType);
    if (!contract) {
      problems.push(`${name}: no contract ${u.aggregateType}/${u.eventType}`);
      continue;
    }
    if (u.fromVersion >= contract.schemaVersion) {
      problems.push(`${name}: the contract is at v${contract.schemaVersion}; an upcaster reads an older version`);
      continue;
    }
    const next = u.fromVersion + 1;
    const target = next === contract.schemaVersion ? contract.payload : steps.get(stepKey(u, next))?.from;
    if (!target) {
      problems.push(`${name}: the chain to v${contract.schemaVersion} is broken, no upcaster from v${next}`);
      continue;
    }
    const rendered = (payload: EventContract['payload']) =>
      show(renderEventSchema({ ...contract, schemaVersion: next, payload }));
    if (rendered(u.to) !== rendered(target)) {
      problems.push(`${name}: its \`to\` schema is not the v${next} payload schema (the next step reads that)`);
    }
  }
  return problems;
}
