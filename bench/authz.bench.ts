// 9. Authorization (issue 16, item 4): the OpenFGA check the BFF makes before a counter write
// (bff/auth.ts `authorize`) — can_write on counter:<tenant>/<counter>, the tuples every tenant and
// counter has sent as contextual tuples, for a user who is a member of the tenant by a stored tuple,
// which OpenFGA resolves as counter#can_write → tenant#can_write → member → the stored tuple —
// against the most trivial check it answers: a relation that is one stored tuple and nothing else
// (tenant#initiator, `[user]` in platform/authz/model.fga). Same client (runtime/authz.ts with
// AUTHZ_CACHE_MS 0, so every call reaches the server), same server, same run; one caller, then as
// many as the command benchmark has. Then what the BFF's decision cache (AUTHZ_CACHE_MS) saves.
import {
  authzEnv,
  counterObject,
  createAuthz,
  structuralTuples,
  tenantObject,
  userObject,
  type Authz,
  type CheckRequest,
} from '../runtime/authz.ts';
import { commandLoad } from './command.bench.ts';
import { runsOf, type BenchContext } from './context.ts';
import { closedLoop, medianOf, openFgaPids, postgresPids, row, withCpu, type Measure, type Row } from './measure.ts';

/** The decision cache the BFF runs with unless told otherwise (its config schema's default). */
const DEFAULT_CACHE_MS = authzEnv.shape.AUTHZ_CACHE_MS.parse(undefined);
/** The counters the checks ask about, in turn: a cache holds one decision per counter. */
const COUNTERS = 16;

export async function authzRows(ctx: BenchContext): Promise<Row[]> {
  const tenantId = `${ctx.tenantPrefix}authz`;
  const member = userObject('bench-member');
  const initiator = userObject('bench-initiator');
  await ctx.authz.grant([
    { user: member, relation: 'member', object: tenantObject(tenantId) },
    { user: initiator, relation: 'initiator', object: tenantObject(tenantId) },
  ]);
  const counterWrite = (call: number): CheckRequest => {
    const counterId = `c${call % COUNTERS}`;
    return {
      user: member,
      relation: 'can_write',
      object: counterObject(tenantId, counterId),
      contextualTuples: structuralTuples(tenantId, counterId),
    };
  };
  const oneTuple = (): CheckRequest => ({ user: initiator, relation: 'initiator', object: tenantObject(tenantId) });

  const durationMs = ctx.mode === 'tiny' ? 1_000 : ctx.mode === 'quick' ? 5_000 : 15_000;
  const serverPids = () => [...openFgaPids(ctx.authzConfig.OPENFGA_API_URL), ...postgresPids()];
  const measure = (
    by: 'p50' | 'p99' | 'throughput',
    label: string,
    concurrency: number,
    authz: Authz,
    request: (call: number) => CheckRequest,
  ): Promise<Measure> =>
    medianOf(runsOf(ctx.mode), by, () =>
      withCpu(serverPids, () => {
        let call = 0;
        return closedLoop(label, concurrency, durationMs, async () => {
          const asked = request(call++);
          // A denial would measure a different path: the bench's tuples are wrong, not the server slow.
          if (!(await authz.check(asked))) throw new Error(`denied: ${asked.user} ${asked.relation} ${asked.object}`);
        });
      }),
    );
  for (let call = 0; call < 2 * COUNTERS; call++) {
    if (!(await ctx.authz.check(counterWrite(call))) || !(await ctx.authz.check(oneTuple())))
      throw new Error('authz bench: a check of its own tuples was denied');
  }

  const { concurrency } = commandLoad(ctx);
  const write = `can_write on a counter, member by a stored tuple (the BFF's check)`;
  const trivial = 'initiator on the tenant: one stored tuple';
  ctx.say(`  authorization: the BFF's check vs a one-tuple check, one at a time and ${concurrency} at a time…`);
  const write1 = await measure('p50', write, 1, ctx.authz, counterWrite);
  const trivial1 = await measure('p50', trivial, 1, ctx.authz, oneTuple);
  const writeN = await measure('p99', write, concurrency, ctx.authz, counterWrite);
  const trivialN = await measure('p99', trivial, concurrency, ctx.authz, oneTuple);
  ctx.say(`  authorization: the same check without and with the decision cache (AUTHZ_CACHE_MS ${DEFAULT_CACHE_MS})…`);
  const uncached = await measure('throughput', write, 1, ctx.authz, counterWrite);
  const cache = createAuthz({ ...ctx.authzConfig, AUTHZ_CACHE_MS: DEFAULT_CACHE_MS });
  const cached = await measure(
    'throughput',
    `the BFF's check through the decision cache (AUTHZ_CACHE_MS ${DEFAULT_CACHE_MS})`,
    1,
    cache,
    counterWrite,
  );

  const same = 'runtime/authz.ts with AUTHZ_CACHE_MS 0, same OpenFGA server; CPU server = OpenFGA + Postgres';
  return [
    row(
      'authz',
      "the BFF's check before a counter write vs a one-tuple check, one at a time",
      'p50',
      'ms',
      write1,
      trivial1,
      `counter#can_write (2 contextual tuples) → tenant#can_write → member → a stored tuple; ${same}`,
    ),
    row(
      'authz',
      `the BFF's check before a counter write vs a one-tuple check, ${concurrency} at a time`,
      'p99',
      'ms',
      writeN,
      trivialN,
      same,
    ),
    row(
      'authz',
      `the BFF's check with its decision cache (${DEFAULT_CACHE_MS.toLocaleString('en')} ms) vs without, one at a time`,
      'throughput',
      'checks/s',
      cached,
      uncached,
      `${COUNTERS} counters in turn, so one miss per counter every ${DEFAULT_CACHE_MS.toLocaleString('en')} ms; ` +
        `${(1e6 / cached.throughput!).toFixed(1)} µs per check on average; an allow is used for up to ` +
        `${DEFAULT_CACHE_MS.toLocaleString('en')} ms after a revocation, a denial is never remembered`,
    ),
  ];
}
