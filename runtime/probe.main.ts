// An exec probe for pods that share their node's network: replicas cannot all bind one fixed port,
// so a deployable binds any free port, writes it to HEALTH_PORT_FILE (runtime/health.ts), and the
// kubelet runs this inside the container: GET http://127.0.0.1:<that port><path>, exit 0 on 200.
//   node dist/runtime/probe.main.js /readyz
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? '/healthz';
const file = process.env.HEALTH_PORT_FILE ?? '/tmp/health-port';
try {
  const port = Number(readFileSync(file, 'utf8').trim());
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4_000) });
  if (!response.ok) process.stderr.write(`${path} answered ${response.status}: ${await response.text()}\n`);
  process.exitCode = response.ok ? 0 : 1;
} catch (error) {
  process.stderr.write(`probe ${path} failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
