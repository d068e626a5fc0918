// `npm run bench [-- --full]`: benchmarks against the stack `npm run up` started (see bench/run.ts).
// Its own entry (tools/bootstrap.mjs runs it), so the CLI does not depend on the bench.
// `--tiny` runs each benchmark once at a tiny size (what `npm test` does) and writes its results to
// --out (default: a temporary folder) instead of bench/results/.
import { accessSync, constants, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stackEndpoints } from './endpoints.ts';
import { RESULTS_DIR, runBench } from './run.ts';
import { ensureBuild } from '../cli/build-command.ts';
import { runEntry, say, settingsFor } from '../cli/entry.ts';
import type { StackSettings } from '../cli/stack/settings.ts';

const USAGE = `usage: npm run bench [-- --full | --tiny [--out <dir>]]
  quick (default, a few minutes): every benchmark at a moderate size → bench/results/
  --full: longer runs and the outbox up to 10^6 rows → bench/results/
  --tiny: each benchmark once at a tiny size, to prove it works → --out or a temporary folder
  Needs the stack from \`npm run up\`.`;

async function runBenchCommand(args: string[], settings: StackSettings, say: (line: string) => void): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        full: { type: 'boolean' },
        tiny: { type: 'boolean' },
        out: { type: 'string' },
        test: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  if (values.full && values.tiny) {
    say(`✗ --full and --tiny exclude each other\n${USAGE}`);
    return 64;
  }
  const endpoints = await stackEndpoints(settings, say);
  const mode = values.full ? 'full' : values.tiny ? 'tiny' : 'quick';
  const out = values.out ?? (mode === 'tiny' ? mkdtempSync(join(tmpdir(), 'bench-results-')) : RESULTS_DIR);
  const unwritable = checkOutDir(out);
  if (unwritable) {
    say(`✗ --out ${out}: ${unwritable} (checked before running anything)\n${USAGE}`);
    return 64;
  }
  say(`• benchmarks (${mode}) against ${endpoints.temporalAddress}; results → ${out}`);
  await ensureBuild(say); // the bench measures the compiled deployables
  Runtime.install({ logger: new DefaultLogger('WARN') }); // the saga benchmark's worker: warnings and errors only
  await runBench(mode, endpoints, out, say);
  return 0;
}

/** Why the results could not be written to `dir`, or undefined when they can. */
function checkOutDir(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return 'not a directory';
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? 'no such directory (create it first)'
      : code === 'EACCES'
        ? 'not writable'
        : String(error);
  }
}

const args = process.argv.slice(2);
await runEntry(() => runBenchCommand(args, settingsFor(args), say));
