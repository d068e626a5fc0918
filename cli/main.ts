// The project CLI: `node tools/bootstrap.mjs <command>` (through npm scripts). Failures print what
// failed and what to do, never a stack trace.
import { runEntry, say, settingsFor } from './entry.ts';
import { loadStackSettings } from './stack/settings.ts';
import { down, status, up } from './stack/stack.ts';
import { syncContracts } from './contracts.ts';
import { runTokenCommand } from './token-command.ts';
import { runTenantCommand } from './tenant-command.ts';
import { runTraceCommand } from './trace-command.ts';
import { runDlqCommand } from './dlq-command.ts';
import { runRebuildCommand } from './rebuild-command.ts';
import { runFaultCommand } from './fault-command.ts';
import { runHistoryCommand } from './history-command.ts';
import { runTests } from './test-run.ts';
import { build } from './build-command.ts';
import { runImageCommand } from './image/image-command.ts';
import { runPlatformCommand } from './platform-command.ts';
import { runK8sCommand } from './k8s/k8s-command.ts';
import { GO_TOOLS, ensureGoBinary, ensureGoTools, type GoBinary } from './tools/go-tools.ts';
import { ensureOfflineSchemas } from './k8s/schemas.ts';
import { runBoundariesCheck, runCodemapCheck } from './gates/check-commands.ts';
import { runGatesCommand } from './gates/gates-command.ts';

const USAGE = `usage: npm run <command> [-- options]
  up [--dev] [--topology single-vps|kubernetes|split-workers]
                     start the local stack (servers + the compiled deployables, built when sources
                     changed) in the background; --dev runs the TypeScript sources through tsx;
                     --topology: how the deployables share processes (platform/model/topologies)
  build              compile to dist/ and prebuild one workflow bundle per task queue
  image [--save <file.tar>] [--json]
                     the app's OCI image, built with podman from the Containerfile (no registry needed)
  down [--test]      stop what \`up\` (or a kept test stack) started
  status [--json] [--test]
                     every component's URL, port, pid and health
  test [mocha args]  test stack + every gate of agent/gates.yml (or just the given mocha files)
  token --user <id> [--roles platform-admin] [--ttl 1h] [--test]
                     print a local-dev bearer token for the BFF (just the token)
  tenant create <slug> [--plan free|pro|enterprise] [--user <id>] | tenant show <tenantId> [--user <id>]
                     a tenant through the BFF's API (typed client) as a dev user, its onboarding followed step by step
  trace <trace id> [--test]
                     one trace (a response's X-Trace-Id) from the stack's Jaeger, as a tree of spans
  rebuild <projection> [--test]
                     replay the outbox into fresh read-model tables and swap them in, with progress
  dlq list [--json] | dlq redrive <id…>|--all
                     projection dead letters: list them, or apply them again after a fix
  fault steps | fault arm --slug <slug> --step <step> --mode fail|transient [--times N] | fault clear --slug <slug> --step <step>
                     dev/test fault injection for the onboarding saga
  bench [--full | --tiny]
                     benchmarks, each against its baseline in the same run (needs \`up\`)
  history export <workflowId> [--run-id <id>] [--out <file>]
                     a workflow's history as JSON the SDK replays (replay fixtures, offline debugging)
  gates --changed [<base>] | --paths <path…> | --all [--list]
                     the gates agent/routing.yml routes the change to, with a table of results
  boundaries | codemap
                     the two gates that check the code against agent/codemap.yml
  platform check | generate
                     validate the platform model (and that its generated files are current), or regenerate them
  tools              build every pinned Go tool and the offline Kubernetes/CRD schemas into the machine-wide cache
  tool <name>        the path of a pinned Go tool (helm, kubectl, tctl, …), built into the machine-wide cache when missing
  k8s check          the deployment checks: chart, Flux, SOPS, a real API server (README "Deployment")
  contracts [--check]
                     regenerate contracts/generated (OpenAPI, event JSON Schemas); --check only reports drift`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      await up(
        loadStackSettings('dev', process.env),
        (line) => process.stdout.write(`${line}\n`),
        rest.includes('--dev') ? 'dev' : 'compiled',
        optionValue(rest, '--topology'),
      );
      return 0;
    case 'down':
      await down(settingsFor(rest), (line) => process.stdout.write(`${line}\n`));
      return 0;
    case 'status': {
      const report = await status(settingsFor(rest));
      if (rest.includes('--json')) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        for (const [name, c] of Object.entries(report)) {
          const mark = c.healthy ? '✓' : '✗';
          process.stdout.write(
            `${mark} ${name.padEnd(16)} ${String(c.url ?? '-').padEnd(44)} port ${String(c.port ?? '-').padEnd(6)} pid ${c.pid ?? '-'}\n`,
          );
        }
        printLag(report);
      }
      const breaches = (report.projectorWorker?.sloBreaches as string[] | undefined) ?? [];
      return !Object.values(report).every((c) => c.healthy) ? 3 : breaches.length > 0 ? 4 : 0;
    }
    case 'token':
      return runTokenCommand(rest, settingsFor(rest), say);
    case 'tenant':
      return runTenantCommand(rest, settingsFor(rest), say);
    case 'trace':
      return runTraceCommand(rest, settingsFor(rest), say);
    case 'rebuild':
      return runRebuildCommand(rest, settingsFor(rest), say);
    case 'fault':
      return runFaultCommand(rest, settingsFor(rest), say);
    case 'history':
      return runHistoryCommand(rest, settingsFor(rest), say);
    case 'dlq':
      return runDlqCommand(rest, settingsFor(rest), say);
    case 'contracts': {
      const check = rest.includes('--check');
      const drift = await syncContracts({ write: !check });
      if (drift.length === 0) {
        say(check ? '✓ contracts/generated matches the zod contracts' : '✓ contracts/generated written');
        return 0;
      }
      // A breaking event change or a missing upcaster is fixed in the contracts; writing refuses it.
      const incompatible = drift.some((line) => /^(breaking|no upcaster|upcaster):/.test(line));
      say(
        `✗ contracts/generated differs from the zod contracts:\n  ${drift.join('\n  ')}\n  ${
          incompatible
            ? 'fix the event contracts as said above (a new schemaVersion with its upcaster), then run `npm run contracts`'
            : 'run `npm run contracts` and commit the result'
        }`,
      );
      return 1;
    }
    case 'build':
      await build(say);
      return 0;
    case 'image':
      return runImageCommand(rest, say);
    case 'platform':
      return runPlatformCommand(rest, say);
    case 'k8s':
      return runK8sCommand(rest, say);
    case 'tools': {
      // Every pinned Go tool and the offline schemas, built into the machine-wide cache (npm test
      // starts this in the background so the deployment tier finds them ready).
      ensureGoTools([], say);
      ensureOfflineSchemas(say);
      say('✓ every pinned tool and schema is in the cache');
      return 0;
    }
    case 'tool': {
      const known = Object.values(GO_TOOLS).flatMap((t) => Object.keys(t.binaries));
      const [name] = rest;
      if (!name || !known.includes(name)) {
        say(`usage: npm run --silent tool -- <${known.join('|')}>`);
        return name ? 64 : 0;
      }
      process.stdout.write(`${ensureGoBinary(name as GoBinary, say)}\n`);
      return 0;
    }
    case 'test':
      return runTests(rest, process.env, say);
    case 'gates':
      return runGatesCommand(rest, process.env, say);
    case 'boundaries':
      return runBoundariesCheck(say);
    case 'codemap':
      return runCodemapCheck(say);
    default:
      say(USAGE);
      return command === undefined || command === 'help' ? 0 : 64;
  }
}

/** The value after `--name` (or in `--name=value`), if given. */
function optionValue(args: string[], name: string): string | undefined {
  const inline = args.find((a) => a.startsWith(`${name}=`));
  if (inline) return inline.slice(name.length + 1);
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

interface LagView {
  events: number;
  seconds: number;
}

function printLag(report: Record<string, Record<string, unknown>>): void {
  const relay = report.relayWorker?.lag as LagView | undefined;
  const projections = report.projectorWorker?.lag as Record<string, LagView> | undefined;
  if (!relay || !projections) return;
  const line = (what: string, lag: LagView) =>
    `  ${what.padEnd(22)} ${lag.events} events, ${lag.seconds.toFixed(1)} s behind\n`;
  process.stdout.write(`\nlag behind the outbox\n${line('relay', relay)}`);
  for (const [name, lag] of Object.entries(projections)) process.stdout.write(line(`projection ${name}`, lag));
  const parked = Object.entries((report.projectorWorker?.deadLetters as Record<string, number> | undefined) ?? {});
  for (const [name, count] of parked)
    process.stdout.write(
      `  dead letters (${name})${' '.repeat(Math.max(1, 8 - name.length))}${count} (npm run dlq -- list)\n`,
    );
  const breaches = (report.projectorWorker?.sloBreaches as string[] | undefined) ?? [];
  process.stdout.write(
    breaches.length === 0
      ? '✓ within the lag SLO (relay ≤ 5 s, projections ≤ 10 s)\n'
      : breaches.map((b) => `✗ SLO: ${b}\n`).join(''),
  );
}

await runEntry(() => main(process.argv.slice(2)));
