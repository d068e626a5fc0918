// Profiles the BFF on the command path as the bench's "tracing on vs off" row loads it — keyed
// increments over HTTP, 16 connections, 30 s — once untraced and once with every request traced to
// the stack's Jaeger, each BFF under the V8 CPU profiler. Against the stack from `npm run up`:
//   node --import tsx bench/profile-http.ts
// It prints both runs' throughput, the CPU per request of the BFF, Postgres and the collector, and
// where each BFF spent its time by package; the profiles stay in .local/profiles/ for
// `bench/profile-summary.ts`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuild } from '../cli/build-command.ts';
import { loadStackSettings } from '../cli/stack/settings.ts';
import { repoRoot } from '../test/support/processes.ts';
import { httpCommands } from './command.bench.ts';
import { openBenchContext, tracedEnv } from './context.ts';
import { packageOf, selfTime, shareLines } from './cpu-profile.ts';
import { stackEndpoints } from './endpoints.ts';
import { cpuMs, pidsByCommandLine, postgresPids } from './measure.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
const settings = loadStackSettings('dev', process.env);
const endpoints = await stackEndpoints(settings, say);
await ensureBuild(say);
const dir = join(repoRoot, '.local', 'profiles');
mkdirSync(dir, { recursive: true });
const collector = () => pidsByCommandLine(join(settings.stateDir, 'jaeger.yaml'));
const ctx = await openBenchContext('full', endpoints, say);
try {
  for (const traced of [false, true]) {
    const name = `bff-${traced ? 'traced' : 'untraced'}-${Date.now()}.cpuprofile`;
    const started = await ctx.deployable('bff', {
      env: traced ? tracedEnv(ctx) : {},
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`],
    });
    const bff = started.child.pid!;
    const groups = { bff: () => [bff], postgres: postgresPids, collector };
    const before = Object.fromEntries(Object.entries(groups).map(([group, pids]) => [group, cpuMs(pids())]));
    const measure = await httpCommands(ctx, { concurrency: 16, oneCounter: false });
    const perRequest = Object.entries(groups)
      .map(([group, pids]) => `${group} ${((cpuMs(pids()) - before[group]!) / measure.count!).toFixed(2)}`)
      .join(' · ');
    await ctx.stop('bff'); // the profile is written as the BFF exits
    say(
      `\n${traced ? 'traced' : 'untraced'}: ${Math.round(measure.throughput!)} requests/s, p50 ${measure.p50} ms; ` +
        `CPU ms per request: ${perRequest}\nthe BFF's self time by package (${join(dir, name)}):`,
    );
    process.stdout.write(shareLines(selfTime(join(dir, name), packageOf), 12));
  }
} finally {
  await ctx.close();
}
