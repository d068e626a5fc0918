// The event schema compatibility gate (contracts/compatibility.ts) and upcasting (contracts/upcasters.ts):
// given the committed event schemas, when a contract changes (in memory: no real contract is edited),
// then the gate passes an additive change and names each breaking one, with what to do.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { z } from 'zod';
import { readGenerated, syncContracts } from '../cli/contracts.ts';
import { breakingChanges, checkCompatibility } from './compatibility.ts';
import { counterEvents } from './counter.events.ts';
import { EVENT_CONTRACTS, type EventContract } from './events.ts';
import { PLANS } from './tenant.contracts.ts';
import { tenantEvents } from './tenant.events.ts';
import { defineUpcaster, upcast, UPCASTERS, upcastWith, type Upcaster } from './upcasters.ts';

const repoRoot = join(import.meta.dirname, '..');
const committed = readGenerated(repoRoot);
const eventsDir = 'contracts/generated/events';

/** The real contracts, with one event's payload (and schemaVersion) replaced. */
const withEvent = (eventType: string, payload: z.ZodType, schemaVersion = 1): EventContract[] =>
  EVENT_CONTRACTS.map((c) => (c.eventType === eventType ? { ...c, payload, schemaVersion } : c));

const problemsOf = (contracts: EventContract[], upcasters: Upcaster[] = []) =>
  checkCompatibility(contracts, upcasters, committed).problems;

const int = z.number().int();
const incremented = counterEvents.CounterIncremented.payload;
const reserved = tenantEvents.TenantReserved.payload;

/** A breaking change done right: CounterIncremented v2 needs a `unit`, and v1 events get 'count'. */
const step1 = { aggregateType: 'counter', eventType: 'CounterIncremented', fromVersion: 1 };
const v1 = incremented;
const v2 = incremented.extend({ unit: z.enum(['count', 'percent']) });
const toV2 = defineUpcaster({
  ...step1,
  from: v1,
  to: v2,
  up: (payload) => ({ ...payload, unit: 'count' as const }),
});
const bumped = withEvent('CounterIncremented', v2, 2);

describe('contracts: the event schema compatibility gate', () => {
  it('the committed event schemas and the current contracts are compatible', () => {
    const { problems, held } = checkCompatibility(EVENT_CONTRACTS, UPCASTERS, committed);
    assert.deepEqual(problems, []);
    assert.equal(held.size, 0);
  });

  it('an additive change passes the gate, and the drift gate still asks to regenerate', async () => {
    const events = withEvent(
      'CounterIncremented',
      incremented.extend({ note: z.string().optional(), value: int.describe('Any value, now') }),
    ).map((c) =>
      c.eventType === 'TenantReserved' ? { ...c, payload: reserved.extend({ plan: z.enum([...PLANS, 'trial']) }) } : c,
    );
    assert.deepEqual(problemsOf(events), []);
    assert.deepEqual(await syncContracts({ write: false, events }), [
      'changed: contracts/generated/asyncapi.json', // its messages carry the event schemas
      `changed: ${eventsDir}/CounterIncremented.v1.schema.json`,
      `changed: ${eventsDir}/TenantReserved.v1.schema.json`,
    ]);
  });

  const breaking: { change: string; event: string; payload: z.ZodType; differences: string[] }[] = [
    {
      change: 'a property removed',
      event: 'CounterIncremented',
      payload: incremented.omit({ by: true }),
      differences: ['by: property removed'],
    },
    {
      change: 'a property renamed',
      event: 'CounterIncremented',
      payload: incremented.omit({ by: true }).extend({ amount: int.min(0) }),
      differences: ['by: property removed', 'amount: new required property'],
    },
    {
      change: 'a new required property',
      event: 'CounterIncremented',
      payload: incremented.extend({ unit: z.string() }),
      differences: ['unit: new required property'],
    },
    {
      change: 'a type changed',
      event: 'CounterIncremented',
      payload: incremented.extend({ value: z.string() }),
      differences: ['value: type changed from integer to string'],
    },
    {
      change: 'an enum narrowed',
      event: 'TenantReserved',
      payload: reserved.extend({ plan: z.enum(['free', 'pro']) }),
      differences: ['plan: enum narrowed, no longer accepts "enterprise"'],
    },
    {
      change: 'a bound tightened',
      event: 'CounterIncremented',
      payload: incremented.extend({ version: int.min(2) }),
      differences: ['version: minimum raised from 1 to 2'],
    },
    {
      change: 'a bound added',
      event: 'TenantReserved',
      payload: reserved.extend({ slug: z.string().max(63) }),
      differences: ['slug: maxLength 63 added'],
    },
    {
      change: 'a pattern added',
      event: 'TenantReserved',
      payload: reserved.extend({ slug: z.string().regex(/^[a-z]+$/) }),
      differences: ['slug: pattern "^[a-z]+$" added'],
    },
  ];
  for (const { change, event, payload, differences } of breaking) {
    it(`a breaking change fails the gate, naming event, version, difference and remedy: ${change}`, () => {
      const problems = problemsOf(withEvent(event, payload));
      assert.equal(problems.length, 1);
      const [header, ...lines] = problems[0]!.split('\n');
      assert.match(
        header!,
        new RegExp(`^breaking: ${event} v1 \\(\\w+\\) differs incompatibly from ${eventsDir}/${event}.v1`),
      );
      assert.deepEqual(
        lines.filter((line) => line.startsWith('    - ')).map((line) => line.slice(6)),
        differences,
      );
      assert.match(
        lines.at(-1)!,
        /bump schemaVersion to 2 in the contract and add an upcaster v1 → v2 to contracts\/upcasters\.ts/,
      );
    });
  }

  it('a breaking change with a schemaVersion bump and an upcaster passes; v1 stays generated beside v2', async () => {
    assert.deepEqual(problemsOf(bumped, [toV2]), []);
    assert.deepEqual(await syncContracts({ write: false, events: bumped, upcasters: [toV2] }), [
      'changed: contracts/generated/asyncapi.json', // a message per version: v2 joins v1
      `missing: ${eventsDir}/CounterIncremented.v2.schema.json`,
    ]);
  });

  it('a bump without an upcaster fails, and the committed v1 schema is not called stale', async () => {
    const [problem, ...rest] = await syncContracts({ write: false, events: bumped });
    assert.match(
      problem!,
      /^no upcaster: CounterIncremented v1 is committed .* the contract is at v2 and there is no upcaster v1 → v2: add it to contracts\/upcasters\.ts/,
    );
    assert.deepEqual(rest, [
      'changed: contracts/generated/asyncapi.json',
      `missing: ${eventsDir}/CounterIncremented.v2.schema.json`,
    ]);
  });

  /** Runs `test` on a copy of the committed artefacts. */
  const inCopy = async (test: (root: string) => Promise<void>) => {
    const root = mkdtempSync(join(tmpdir(), 'contracts-'));
    try {
      cpSync(join(repoRoot, 'contracts', 'generated'), join(root, 'contracts', 'generated'), { recursive: true });
      await test(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
  const v1File = `${eventsDir}/CounterIncremented.v1.schema.json`;

  it('npm run contracts refuses to write a breaking change: the committed schema stays and the check keeps failing', async () => {
    const events = withEvent('CounterIncremented', v2);
    await inCopy(async (root) => {
      const before = readFileSync(join(root, v1File), 'utf8');
      const written = await syncContracts({ write: true, root, events });
      assert.match(written[0]!, /^breaking: CounterIncremented v1 .*\n {4}- unit: new required property\n/);
      assert.equal(readFileSync(join(root, v1File), 'utf8'), before);
      assert.deepEqual(await syncContracts({ write: false, root, events }), written);
    });
  });

  it('npm run contracts after a bump with its upcaster writes v2 and keeps the v1 schema as committed', async () => {
    await inCopy(async (root) => {
      const before = readFileSync(join(root, v1File), 'utf8');
      assert.deepEqual(await syncContracts({ write: true, root, events: bumped, upcasters: [toV2] }), []);
      assert.equal(readFileSync(join(root, v1File), 'utf8'), before);
      assert.ok(existsSync(join(root, `${eventsDir}/CounterIncremented.v2.schema.json`)));
      assert.deepEqual(await syncContracts({ write: false, root, events: bumped, upcasters: [toV2] }), []);
    });
  });

  it('an upcaster must read the version as committed, and its chain must reach the current version', () => {
    const wrongFrom = defineUpcaster({
      ...step1,
      from: v1.omit({ by: true }),
      to: v2,
      up: (payload) => ({ ...payload, by: 0, unit: 'count' as const }),
    });
    assert.match(
      problemsOf(bumped, [wrongFrom]).join('\n'),
      /^breaking: CounterIncremented v1 .*\n {4}- by: property removed\n {4}The upcaster from v1 \(contracts\/upcasters\.ts\) must read the v1 schema as committed/,
    );
    const v3 = v2.extend({ note: z.string() });
    const atV3 = withEvent('CounterIncremented', v3, 3);
    assert.deepEqual(problemsOf(atV3, [toV2]), [
      'upcaster: CounterIncremented v1 → v2: the chain to v3 is broken, no upcaster from v2',
    ]);
    assert.deepEqual(problemsOf(atV3), [
      'no upcaster: CounterIncremented v1 is committed (contracts/generated/events/CounterIncremented.v1.schema.json) and its events are stored, but the contract is at v3 and there is no upcaster v1 → v2, v2 → v3: add them to contracts/upcasters.ts, the first reading the v1 schema as committed',
    ]);
    const toWrongV2 = defineUpcaster({ ...step1, from: v1, to: v1, up: (payload) => payload });
    assert.deepEqual(problemsOf(bumped, [toWrongV2]), [
      'upcaster: CounterIncremented v1 → v2: its `to` schema is not the v2 payload schema (the next step reads that)',
    ]);
  });
});

describe('contracts: upcasting stored events to the current schemaVersion', () => {
  const v3 = v2.omit({ by: true }).extend({ amount: int.min(0) });
  const toV3 = defineUpcaster({
    ...step1,
    fromVersion: 2,
    from: v2,
    to: v3,
    up: ({ by, ...rest }) => ({ ...rest, amount: by }),
  });
  const read = upcastWith(withEvent('CounterIncremented', v3, 3), [toV2, toV3]);

  it('a v1 payload is read at the current version through each upcaster in turn', () => {
    assert.deepEqual(read('counter', 'CounterIncremented', 1, { by: 2, value: 5, version: 4 }), {
      schemaVersion: 3,
      payload: { amount: 2, value: 5, version: 4, unit: 'count' },
    });
    assert.deepEqual(read('counter', 'CounterIncremented', 2, { by: 2, value: 5, version: 4, unit: 'percent' }), {
      schemaVersion: 3,
      payload: { amount: 2, value: 5, version: 4, unit: 'percent' },
    });
  });

  it('each step is zod-checked, and a version newer than the contract or an unknown event is refused', () => {
    assert.throws(
      () => read('counter', 'CounterIncremented', 1, { by: 'two', value: 5, version: 4 }),
      /expected number/,
    );
    assert.throws(
      () => read('counter', 'CounterIncremented', 4, {}),
      /CounterIncremented v4 is newer than the contract this code has \(v3\)/,
    );
    assert.throws(() => read('counter', 'CounterFrozen', 1, {}), /no contract for counter event CounterFrozen/);
    assert.throws(() => read('counter', 'CounterIncremented', 0, {}), /CounterIncremented v0 has no upcaster to v1/);
  });

  it('an event at its current version is returned as stored (the caller parses it with the contract)', () => {
    const payload = { by: 1, value: 1, version: 1 };
    assert.deepEqual(upcast('counter', 'CounterIncremented', 1, payload), { schemaVersion: 1, payload });
  });
});

describe('contracts: what the compatibility rules call breaking', () => {
  const schema = (payload: z.ZodType) => z.toJSONSchema(payload, { io: 'output' }) as Record<string, unknown>;
  const diff = (before: z.ZodType, after: z.ZodType) => breakingChanges(schema(before), schema(after));

  it('widening passes: integer to number, a nullable or union variant added, an optional property, extra properties allowed', () => {
    assert.deepEqual(diff(z.object({ n: int }), z.object({ n: z.number() })), []);
    assert.deepEqual(diff(z.object({ n: z.string() }), z.object({ n: z.string().nullable() })), []);
    assert.deepEqual(
      diff(
        z.object({ n: z.object({ a: z.string() }) }),
        z.object({ n: z.union([z.object({ a: z.string() }), z.null()]) }),
      ),
      [],
    );
    assert.deepEqual(
      diff(z.object({ a: z.string() }), z.object({ a: z.string(), b: z.number().optional() }).loose()),
      [],
    );
  });

  it('narrowing fails: number to integer, a variant dropped, optional to required, extra properties refused, an unknown keyword', () => {
    assert.deepEqual(diff(z.object({ n: z.number() }), z.object({ n: int })), [
      'n: type changed from number to integer',
      'n: minimum -9007199254740991 added',
      'n: maximum 9007199254740991 added',
    ]);
    assert.deepEqual(
      diff(z.object({ n: z.object({ a: z.string() }).nullable() }), z.object({ n: z.object({ a: z.string() }) })),
      ['n: variant 2 of 2 (null) no longer accepted'],
    );
    assert.deepEqual(diff(z.object({ a: z.string().optional() }), z.object({ a: z.string() })), ['a: now required']);
    assert.deepEqual(diff(z.object({ a: z.string() }).loose(), z.object({ a: z.string() })), [
      'payload: additional properties no longer allowed',
    ]);
    assert.deepEqual(breakingChanges({ type: 'array', uniqueItems: false }, { type: 'array', uniqueItems: true }), [
      'payload: uniqueItems changed (a keyword this gate does not compare; counted as breaking)',
    ]);
  });
});
