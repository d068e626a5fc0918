// The local stack as a whole: bring servers (and, for `up`, the deployables) up idempotently,
// report their status, and stop exactly what we started.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { discoverMigrations, migrate } from '../../services/kernel/migrations.ts';
import { ensureDevSigningKey } from '../dev-auth.ts';
import { withPipeline } from '../pipeline-access.ts';
import { measureLag, sloBreaches } from '../../runtime/pipeline-lag.ts';
import { PROJECTION_NAMES } from '../../services/read-models/projections.ts';
import {
  APP_MARKER,
  appLogTail,
  appHealthy,
  appProblems,
  startApp,
  topologyProcesses,
  WORKER_QUEUES,
  workerUrl,
  type AppMode,
} from './app.ts';
import { ensureBuild } from '../build-command.ts';
import { natsHealthy, natsMonitorUrl, natsUrl, startNats } from './nats.ts';
import {
  databaseUrl,
  ensureServiceRole,
  redactedUrl,
  postgresHealthy,
  startPostgres,
  stopPostgres,
} from './postgres.ts';
import { assertPortFree, portOwner, StackError, stopPid, tail, waitFor } from './processes.ts';
import { isOurProcess, readRecord, writeRecord, type StackRecord } from './record.ts';
import { localStackModel, repoRoot, type ServerEndpoints, type StackSettings } from './settings.ts';

export type { ServerEndpoints };
import {
  ensureSearchAttributes,
  httpOk,
  startTemporal,
  taskQueuePollers,
  temporalAddress,
  temporalHealthy,
  temporalUiUrl,
} from './temporal.ts';
import { ensureNatsServer, ensurePostgresBinaries, ensureTemporalCli } from './tools.ts';
import { ensureGoBinary } from '../tools/go-tools.ts';
import { authorizationModel } from '../../platform/authz.ts';
import {
  ensureStoreAndModel,
  OPENFGA_STORE,
  openFgaHealthy,
  openFgaToken,
  openFgaUrl,
  startOpenFga,
} from './openfga.ts';
import { jaegerHealthy, jaegerUrl, otlpEndpoint, startJaeger } from './jaeger.ts';

export type Say = (line: string) => void;

const SERVER_START_TIMEOUT_MS = 90_000;

function prepareStateDir(settings: StackSettings): void {
  for (const dir of Object.values(settings.paths)) {
    if (!dir.endsWith('.json')) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
}

/** Starts whichever of Postgres, NATS and Temporal are neither external nor already running; migrates. */
export async function ensureServers(settings: StackSettings, say: Say): Promise<ServerEndpoints> {
  prepareStateDir(settings);
  const record = readRecord(settings.paths.record);
  const save = (update: Partial<StackRecord>) => {
    Object.assign(record, update);
    writeRecord(settings.paths.record, record);
  };
  let adopted: { pid: number; marker: string } | undefined;

  // PostgreSQL
  let dbUrl = settings.external.databaseUrl;
  if (dbUrl) {
    say(`✓ postgres: using DATABASE_URL ${redactedUrl(dbUrl)}`);
  } else if (isOurProcess(record.postgres) && (await postgresHealthy(databaseUrl(settings)))) {
    dbUrl = databaseUrl(settings);
    say(`✓ postgres already up (pid ${record.postgres!.pid}, port ${settings.ports.postgres})`);
  } else if (
    (adopted = restartedOutside(settings.ports.postgres, settings.paths.postgres, 'postgres')) &&
    (await postgresHealthy(databaseUrl(settings)))
  ) {
    save({ postgres: adopted });
    dbUrl = databaseUrl(settings);
    say(`✓ postgres up, restarted outside \`up\` (pid ${adopted.pid}): adopted`);
  } else {
    const bin = ensurePostgresBinaries(say);
    await assertPortFree(settings.ports.postgres, 'postgres', settings.envNames.postgres);
    const pid = await startPostgres(settings, bin, say);
    save({ postgres: { pid, marker: 'postgres' } });
    dbUrl = databaseUrl(settings);
    say(`✓ postgres started (pid ${pid}, port ${settings.ports.postgres})`);
  }
  const report = await migrate(dbUrl, await discoverMigrations(repoRoot));
  say(
    report.applied.length > 0
      ? `✓ migrations applied: ${report.applied.join(', ')}`
      : `✓ migrations up to date (${report.alreadyApplied})`,
  );
  // The deployables' own role, without DDL rights; servers given by env are used as they are.
  const serviceDbUrl = settings.external.databaseUrl ? dbUrl : await ensureServiceRole(settings);

  // OpenFGA, its datastore in our Postgres
  let openfga = settings.external.openfga;
  if (openfga) {
    say(`✓ openfga: using OPENFGA_API_URL ${openfga.url} (store ${openfga.storeId})`);
  } else {
    const url = openFgaUrl(settings);
    if (isOurProcess(record.openfga) && (await openFgaHealthy(url))) {
      say(`✓ openfga already up (pid ${record.openfga!.pid}, port ${settings.ports.openfga})`);
    } else {
      const binary = ensureGoBinary('openfga', say);
      await assertPortFree(settings.ports.openfga, 'openfga', settings.envNames.openfga);
      await assertPortFree(settings.ports.openfgaGrpc, 'openfga gRPC', settings.envNames.openfgaGrpc);
      const pid = await startOpenFga(settings, binary, dbUrl);
      save({ openfga: { pid, marker: 'openfga' } });
      const log = join(settings.paths.logs, 'openfga.log');
      await waitFor('openfga', () => openFgaHealthy(url), SERVER_START_TIMEOUT_MS, `log:\n${tail(log)}`);
      say(`✓ openfga started (pid ${pid}, port ${settings.ports.openfga})`);
    }
    const token = openFgaToken(settings);
    const store = await ensureStoreAndModel(url, token, OPENFGA_STORE, authorizationModel());
    if (store.wroteModel) say(`✓ authorization model written (store ${store.storeId}, model ${store.modelId})`);
    openfga = { url, storeId: store.storeId, token };
  }

  // NATS JetStream
  let nats = settings.external.natsUrl;
  if (nats) {
    say(`✓ nats: using NATS_URL ${redactedUrl(nats)}`);
  } else if (isOurProcess(record.nats) && (await natsHealthy(natsMonitorUrl(settings)))) {
    nats = natsUrl(settings);
    say(`✓ nats already up (pid ${record.nats!.pid}, port ${settings.ports.nats})`);
  } else if (
    (adopted = restartedOutside(settings.ports.nats, settings.paths.nats, 'nats-server')) &&
    (await natsHealthy(natsMonitorUrl(settings)))
  ) {
    save({ nats: adopted });
    nats = natsUrl(settings);
    say(`✓ nats up, restarted outside \`up\` (pid ${adopted.pid}): adopted`);
  } else {
    const binary = ensureNatsServer(say);
    await assertPortFree(settings.ports.nats, 'nats', settings.envNames.nats);
    await assertPortFree(settings.ports.natsMonitor, 'nats monitoring', settings.envNames.natsMonitor);
    const pid = startNats(settings, binary);
    save({ nats: { pid, marker: 'nats-server' } });
    const log = join(settings.paths.logs, 'nats.log');
    await waitFor(
      'nats-server',
      () => natsHealthy(natsMonitorUrl(settings)),
      SERVER_START_TIMEOUT_MS,
      `log:\n${tail(log)}`,
    );
    nats = natsUrl(settings);
    say(`✓ nats started with JetStream (pid ${pid}, port ${settings.ports.nats})`);
  }

  // Temporal
  const address = temporalAddress(settings);
  if (settings.external.temporalAddress) {
    say(`✓ temporal: using TEMPORAL_ADDRESS ${address}`);
  } else if (isOurProcess(record.temporal) && (await temporalHealthy(address))) {
    say(`✓ temporal already up (pid ${record.temporal!.pid}, port ${settings.ports.temporal})`);
  } else if (
    (adopted = restartedOutside(settings.ports.temporal, settings.paths.temporal, 'start-dev')) &&
    (await temporalHealthy(address))
  ) {
    save({ temporal: adopted });
    say(`✓ temporal up, restarted outside \`up\` (pid ${adopted.pid}): adopted`);
  } else {
    const binary = ensureTemporalCli(say);
    await assertPortFree(settings.ports.temporal, 'temporal', settings.envNames.temporal);
    await assertPortFree(settings.ports.temporalUi, 'temporal web UI', settings.envNames.temporalUi);
    const pid = startTemporal(settings, binary);
    save({ temporal: { pid, marker: 'start-dev' } });
    const log = join(settings.paths.logs, 'temporal.log');
    await waitFor('temporal dev server', () => temporalHealthy(address), SERVER_START_TIMEOUT_MS, `log:\n${tail(log)}`);
    say(`✓ temporal started (pid ${pid}, port ${settings.ports.temporal}, web UI ${temporalUiUrl(settings)})`);
  }
  const added = await ensureSearchAttributes(address, settings.temporalNamespace);
  if (added.length > 0) say(`✓ search attributes registered: ${added.join(', ')}`);

  // Jaeger, the trace viewer (or the collector OTEL_EXPORTER_OTLP_ENDPOINT names)
  let traces: ServerEndpoints['traces'];
  if (settings.external.otlpEndpoint) {
    traces = { otlpEndpoint: settings.external.otlpEndpoint };
    say(`✓ traces: sent to OTEL_EXPORTER_OTLP_ENDPOINT ${settings.external.otlpEndpoint}`);
  } else {
    const ui = jaegerUrl(settings);
    if (isOurProcess(record.jaeger) && (await jaegerHealthy(ui))) {
      say(`✓ jaeger already up (pid ${record.jaeger!.pid}, UI ${ui})`);
    } else {
      const binary = ensureGoBinary('jaeger', say);
      await assertPortFree(settings.ports.jaeger, 'jaeger UI', settings.envNames.jaeger);
      await assertPortFree(settings.ports.jaegerGrpc, 'jaeger query gRPC', settings.envNames.jaegerGrpc);
      await assertPortFree(settings.ports.otlp, 'jaeger OTLP receiver', settings.envNames.otlp);
      const pid = startJaeger(settings, binary);
      save({ jaeger: { pid, marker: 'jaeger' } });
      const log = join(settings.paths.logs, 'jaeger.1.log');
      await waitFor('jaeger', () => jaegerHealthy(ui), SERVER_START_TIMEOUT_MS, `log:\n${tail(log)}`);
      say(`✓ jaeger started (pid ${pid}, UI ${ui}, OTLP ${otlpEndpoint(settings)})`);
    }
    traces = { otlpEndpoint: otlpEndpoint(settings), uiUrl: ui };
  }

  return {
    databaseUrl: dbUrl,
    serviceDatabaseUrl: serviceDbUrl,
    natsUrl: nats,
    temporalAddress: address,
    temporalNamespace: settings.temporalNamespace,
    openfga,
    traces,
  };
}

/**
 * `npm run up`: servers, migrations, then the deployables, detached, in the processes of a topology
 * of the platform model — compiled, as production runs them (dist/ rebuilt when a source changed),
 * or with `mode: 'dev'` through tsx.
 */
export async function up(
  settings: StackSettings,
  say: Say,
  mode: AppMode = 'compiled',
  topology = localStackModel().defaultTopology,
): Promise<void> {
  const processes = topologyProcesses(topology);
  if (mode === 'compiled') await ensureBuild(say);
  const endpoints = await ensureServers(settings, say);
  const record = readRecord(settings.paths.record);
  const bffUrl = `http://127.0.0.1:${settings.ports.bff}`;
  const recorded = Object.entries(record.apps ?? {});
  // The same processes as recorded (topology, mode, deployables): a dead one can be restarted alone.
  const sameLayout =
    record.topology === topology &&
    recorded.length === processes.length &&
    processes.every((p) => {
      const app = record.apps?.[p.name];
      return app?.mode === mode && app.deployables.join() === p.deployables.join();
    });
  const alive = processes.filter((p) => isOurProcess(record.apps?.[p.name]));
  const label = `topology ${topology}, ${mode === 'compiled' ? 'compiled, node dist/' : 'dev, tsx'}`;
  if (sameLayout && alive.length === processes.length && (await runningAndHealthy(settings, endpoints, say))) {
    say(`✓ deployables already up (${label}; pids ${recorded.map(([, a]) => a.pid).join(', ')})`);
  } else {
    // A process that died is started again on its own; the healthy ones keep running. Anything
    // else (another topology or mode, or every process running but unready) starts them all afresh.
    const repair = sameLayout && alive.length > 0 && alive.length < processes.length;
    const toStart = repair ? processes.filter((p) => !alive.includes(p)) : processes;
    if (!repair) for (const [, app] of recorded) if (isOurProcess(app)) await stopPid(app.pid);
    const starting = new Set(toStart.flatMap((p) => p.deployables));
    if (starting.has('bff')) await assertPortFree(settings.ports.bff, 'bff', settings.envNames.bff);
    for (const worker of WORKER_QUEUES.filter((w) => starting.has(w.deployable))) {
      await assertPortFree(settings.ports[worker.port], worker.key, settings.envNames[worker.port]);
    }
    const keys = await ensureDevSigningKey(settings.paths.secrets);
    const apps: NonNullable<StackRecord['apps']> = repair ? { ...record.apps } : {};
    for (const process of toStart) {
      const pid = startApp(settings, endpoints, keys.jwks, mode, process);
      apps[process.name] = { pid, marker: APP_MARKER, mode, deployables: process.deployables };
    }
    writeRecord(settings.paths.record, { ...record, apps, topology });

    await waitFor(
      `deployables (${processes.map((p) => `${p.name}: ${p.deployables.join('+')}`).join(', ')})`,
      async () => {
        for (const [name, app] of Object.entries(apps)) {
          if (!isOurProcess(app)) {
            throw new StackError(`process ${name} exited; log:\n${appLogTail(settings, name)}`);
          }
        }
        return appHealthy(settings, endpoints);
      },
      120_000,
      `logs:\n${processes.map((p) => appLogTail(settings, p.name)).join('\n')}`,
    );
    if (repair) {
      for (const process of alive) say(`✓ ${process.name} kept running (pid ${apps[process.name]!.pid})`);
    }
    for (const process of toStart) {
      say(`✓ ${process.name}: ${process.deployables.join(', ')} (pid ${apps[process.name]!.pid})`);
    }
    say(repair ? `✓ restarted what had stopped (${label})` : `✓ deployables started (${label})`);
  }
  say('');
  say(`  BFF             ${bffUrl}   (try ${bffUrl}/readyz)`);
  say(`  Temporal Web UI ${settings.external.temporalAddress ? '(external server)' : temporalUiUrl(settings)}`);
  say(
    endpoints.traces.uiUrl
      ? `  Traces          ${endpoints.traces.uiUrl}   (Jaeger; \`npm run trace -- <X-Trace-Id>\` prints one)`
      : `  Traces          sent to ${endpoints.traces.otlpEndpoint}`,
  );
  say(`  state folder    ${settings.stateDir}   (logs in ${settings.paths.logs})`);
  say(
    '  stop with `npm run down`; inspect with `npm run status`; mint a token with `npm run --silent token -- --help`',
  );
}

/**
 * Whether the running deployables are healthy. A server that restarted leaves them unready for a
 * while (reconnecting, polling again): they are given RECOVERY_WAIT_MS before `up` replaces them,
 * so a healthy process is never killed for a server's restart.
 */
async function runningAndHealthy(settings: StackSettings, endpoints: ServerEndpoints, say: Say): Promise<boolean> {
  let problems = await appProblems(settings, endpoints);
  if (problems.length === 0) return true;
  say(
    `• the deployables are running but not ready (${problems.join('; ')}); waiting up to ${RECOVERY_WAIT_MS / 1000} s…`,
  );
  const deadline = Date.now() + RECOVERY_WAIT_MS;
  while (problems.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    problems = await appProblems(settings, endpoints);
  }
  if (problems.length === 0) {
    say('✓ the deployables recovered by themselves');
    return true;
  }
  say(`✗ still not ready after ${RECOVERY_WAIT_MS / 1000} s (${problems.join('; ')}): restarting them`);
  return false;
}

const RECOVERY_WAIT_MS = 60_000;

/**
 * A server of ours restarted outside `up` (by hand, by systemd): it listens on our port and its
 * command line names our state folder, but its pid is not the recorded one. `up` adopts it.
 */
function restartedOutside(
  port: number,
  stateFolder: string,
  marker: string,
): { pid: number; marker: string } | undefined {
  const owner = portOwner(port);
  return owner?.command.includes(stateFolder) && owner.command.includes(marker)
    ? { pid: owner.pid, marker }
    : undefined;
}

/** Stops what `up` (or a test run) started, newest first; leaves external servers alone. */
export async function down(settings: StackSettings, say: Say, bin?: { postgres?: string }): Promise<void> {
  const record = readRecord(settings.paths.record);
  let stopped = 0;
  for (const [name, app] of Object.entries(record.apps ?? {})) {
    if (isOurProcess(app)) {
      await stopPid(app.pid);
      say(`✓ ${name} (${app.deployables.join(', ')}) stopped (pid ${app.pid})`);
      stopped++;
    }
  }
  delete record.apps;
  delete record.topology;
  writeRecord(settings.paths.record, record);
  for (const name of ['jaeger', 'temporal', 'nats', 'openfga'] as const) {
    const entry = record[name];
    if (entry && isOurProcess(entry)) {
      await stopPid(entry.pid);
      say(`✓ ${name} stopped (pid ${entry.pid})`);
      stopped++;
    }
    delete record[name];
    writeRecord(settings.paths.record, record);
  }
  if (record.postgres && isOurProcess(record.postgres)) {
    stopPostgres(settings, bin?.postgres ?? ensurePostgresBinaries(say));
    say(`✓ postgres stopped (pid ${record.postgres.pid})`);
    stopped++;
  }
  delete record.postgres;
  writeRecord(settings.paths.record, record);
  if (stopped === 0) say('nothing of ours was running');
}

export interface ComponentStatus {
  url: string | null;
  port: number | null;
  pid: number | null;
  healthy: boolean;
}

/** Every component's URL, port, pid and health, checked live. */
export async function status(
  settings: StackSettings,
): Promise<Record<string, ComponentStatus & Record<string, unknown>>> {
  const record = readRecord(settings.paths.record);
  const pidOf = (name: 'postgres' | 'nats' | 'temporal' | 'openfga' | 'jaeger') =>
    isOurProcess(record[name]) ? record[name]!.pid : null;
  /** The pid of the live process that runs a deployable, in whatever topology `up` used. */
  const pidRunning = (deployable: string) => {
    const app = Object.values(record.apps ?? {}).find((a) => a.deployables.includes(deployable) && isOurProcess(a));
    return app?.pid ?? null;
  };
  const dbUrl = settings.external.databaseUrl ?? (pidOf('postgres') ? databaseUrl(settings) : null);
  const nats = settings.external.natsUrl ?? natsUrl(settings);
  const address = temporalAddress(settings);
  const bffUrl = `http://127.0.0.1:${settings.ports.bff}`;
  const uiUrl = temporalUiUrl(settings);
  const portOf = (url: string) => Number(new URL(url.includes('://') ? url : `tcp://${url}`).port) || null;

  const workersReady = await Promise.all(
    WORKER_QUEUES.map((w) =>
      pidRunning(w.deployable) ? httpOk(`${workerUrl(settings, w)}/readyz`) : Promise.resolve(false),
    ),
  );
  const openfga = settings.external.openfga?.url ?? openFgaUrl(settings);
  const tracesUi = settings.external.otlpEndpoint ? null : jaegerUrl(settings);
  const [pgOk, natsOk, temporalOk, uiOk, bffOk, fgaOk, tracesOk, ...pollers] = await Promise.all([
    dbUrl ? postgresHealthy(dbUrl) : Promise.resolve(false),
    settings.external.natsUrl ? Promise.resolve(false) : natsHealthy(natsMonitorUrl(settings)),
    temporalHealthy(address),
    settings.external.temporalAddress ? Promise.resolve(false) : httpOk(uiUrl),
    pidRunning('bff') ? httpOk(`${bffUrl}/readyz`) : Promise.resolve(false),
    openFgaHealthy(openfga),
    tracesUi ? jaegerHealthy(tracesUi) : Promise.resolve(false),
    ...WORKER_QUEUES.map((w) => taskQueuePollers(address, settings.temporalNamespace, w.taskQueue, w.kind)),
  ]);
  const result: Record<string, ComponentStatus & Record<string, unknown>> = {
    bff: { url: bffUrl, port: settings.ports.bff, pid: pidRunning('bff'), healthy: bffOk },
    postgres: {
      url: dbUrl ? redactedUrl(dbUrl) : `postgres://app@127.0.0.1:${settings.ports.postgres}/app`,
      port: dbUrl ? portOf(dbUrl) : settings.ports.postgres,
      pid: pidOf('postgres'),
      healthy: pgOk,
    },
    nats: {
      url: redactedUrl(nats),
      port: portOf(nats),
      pid: pidOf('nats'),
      healthy: natsOk || (!!settings.external.natsUrl && bffOk),
    },
    temporal: { url: address, port: portOf(address), pid: pidOf('temporal'), healthy: temporalOk },
    openfga: { url: openfga, port: portOf(openfga), pid: pidOf('openfga'), healthy: fgaOk },
    // The trace viewer (Jaeger's UI; `otlp` is where spans go); null when spans go to another collector.
    traces: {
      url: tracesUi,
      port: tracesUi ? settings.ports.jaeger : null,
      pid: pidOf('jaeger'),
      healthy: tracesOk,
      otlp: settings.external.otlpEndpoint ?? otlpEndpoint(settings),
    },
    temporalUi: {
      url: settings.external.temporalAddress ? null : uiUrl,
      port: settings.external.temporalAddress ? null : settings.ports.temporalUi,
      pid: pidOf('temporal'),
      healthy: uiOk,
    },
  };
  WORKER_QUEUES.forEach((worker, i) => {
    result[worker.key] = {
      url: workerUrl(settings, worker),
      port: settings.ports[worker.port],
      pid: pidRunning(worker.deployable),
      healthy: workersReady[i] === true && (pollers[i] ?? 0) > 0,
      taskQueue: worker.taskQueue,
    };
  });
  if (pgOk && (natsOk || settings.external.natsUrl)) {
    // Status reports what it can: a failed lag measurement is shown as such, not as "no lag".
    const lag = await withPipeline(settings, ({ pool, jsm, stream }) =>
      measureLag(pool, jsm, stream, PROJECTION_NAMES),
    ).catch((error: unknown) => {
      Object.assign(result.projectorWorker!, { lagError: error instanceof Error ? error.message : String(error) });
      return undefined;
    });
    if (lag) {
      Object.assign(result.relayWorker!, { lag: lag.relay });
      Object.assign(result.projectorWorker!, {
        lag: lag.projections,
        deadLetters: lag.deadLetters,
        sloBreaches: sloBreaches(lag),
      });
    }
  }
  return result;
}
