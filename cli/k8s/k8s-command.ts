// `npm run k8s -- up | down | status [--json] | check`. up/down/status: a one-node cluster on this
// machine with the app installed by its chart (cli/k8s/cluster.ts), on the servers of `npm run up`.
// check: everything the deployment tier proves, as a person runs it — the platform model, then the
// chart, the Flux overlays and their secrets offline, then a real API server (cli/k8s/*.deploy.test.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureDevSigningKey } from '../dev-auth.ts';
import type { Say } from '../entry.ts';
import { ensurePodman, buildAppImage } from '../image/image-command.ts';
import { httpOk } from '../stack/temporal.ts';
import { loadStackSettings, repoRoot } from '../stack/settings.ts';
import { ensureServers } from '../stack/stack.ts';
import {
  appPods,
  attachLocalCluster,
  installApp,
  localClusterBffPort,
  startLocalCluster,
  stopLocalCluster,
} from './cluster.ts';

const USAGE = `usage: npm run k8s -- up | down | status [--json] | check
  up      a one-node cluster here (kube-apiserver, controller-manager, scheduler, a real kubelet with
          containerd and runc), the app image imported, the app installed with its chart and the
          local-cluster environment, on the servers of \`npm run up\` (started if needed)
  down    stop exactly what up started and unmount what it mounted
  status  the kubeconfig, the node's readiness and the app's pods (--json: one object)
  check   the deployment checks: the platform model, the chart, Flux, SOPS, a real API server`;

const record = z.object({ image: z.string() });

export async function runK8sCommand(args: string[], say: Say): Promise<number> {
  const [action] = args;
  const settings = loadStackSettings('dev', process.env);
  const dir = process.env.K8S_DIR ?? join(repoRoot, '.local', 'k8s');
  const recordFile = join(dir, 'cluster.json');
  switch (action) {
    case 'up': {
      const endpoints = await ensureServers(settings, say);
      const keys = await ensureDevSigningKey(settings.paths.secrets);
      const image = buildAppImage(ensurePodman(say), say).name;
      const running = attachLocalCluster(dir, say);
      const imported = existsSync(recordFile) ? record.parse(JSON.parse(readFileSync(recordFile, 'utf8'))).image : '';
      if (running && imported !== image) {
        say('• the app image changed: restarting the node with the new one');
        await stopLocalCluster(dir, say);
      }
      const cluster = running && imported === image ? undefined : await startLocalCluster(dir, say);
      if (cluster) writeFileSync(recordFile, JSON.stringify({ image: cluster.image }));
      const attached = cluster ?? {
        dir,
        control: attachLocalCluster(dir, say)!,
        image,
        bffUrl: `http://127.0.0.1:${localClusterBffPort()}`,
      };
      say('• installing the app with its chart (helm upgrade --install --wait)');
      const installed = installApp(say, attached, { endpoints, jwksFile: keys.jwks });
      if (!installed.ok) {
        say(`✗ helm upgrade --install failed:\n${installed.output}`);
        return 1;
      }
      say(`✓ the app runs on the cluster: BFF ${attached.bffUrl} (try ${attached.bffUrl}/readyz)`);
      say(`  KUBECONFIG=${attached.control.kubeconfig} (kubectl: npm run --silent tool -- kubectl)`);
      for (const pod of appPods(attached.control)) say(`  ${pod.ready ? '✓' : '✗'} ${pod.name} ${pod.phase}`);
      return 0;
    }
    case 'down':
      await stopLocalCluster(dir, say);
      say(`✓ the local cluster is stopped (state kept in ${dir})`);
      return 0;
    case 'status': {
      const control = attachLocalCluster(dir, say);
      const bffUrl = `http://127.0.0.1:${localClusterBffPort()}`;
      const nodes = control
        ? (
            JSON.parse(control.kubectl(['get', 'nodes', '-o', 'json'])) as {
              items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[];
            }
          ).items.map((n) => ({
            name: n.metadata.name,
            ready: (n.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
          }))
        : [];
      const pods = control ? appPods(control) : [];
      const report = {
        running: Boolean(control),
        kubeconfig: control?.kubeconfig ?? null,
        nodes,
        pods,
        bff: { url: bffUrl, ready: control ? await httpOk(`${bffUrl}/readyz`) : false },
      };
      if (args.includes('--json')) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        say(
          report.running
            ? `✓ cluster running; KUBECONFIG=${report.kubeconfig}`
            : '✗ no local cluster running (npm run k8s -- up)',
        );
        for (const node of nodes) say(`  ${node.ready ? '✓' : '✗'} node ${node.name}`);
        for (const pod of pods) say(`  ${pod.ready ? '✓' : '✗'} ${pod.name} ${pod.phase} (restarts ${pod.restarts})`);
        say(`  ${report.bff.ready ? '✓' : '✗'} BFF ${bffUrl}/readyz`);
      }
      const healthy = report.running && nodes.every((n) => n.ready) && pods.every((p) => p.ready) && report.bff.ready;
      return healthy ? 0 : 3;
    }
    case 'check': {
      const steps: [string, string[]][] = [
        ['platform model', [join(repoRoot, 'tools', 'bootstrap.mjs'), 'platform', 'check']],
        ['deployment tier', [join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js'), 'cli/k8s/*.deploy.test.ts']],
      ];
      for (const [what, command] of steps) {
        say(`▶ ${what}`);
        const run = spawnSync(process.execPath, command, { cwd: repoRoot, stdio: 'inherit' });
        if (run.status !== 0) {
          say(`✗ ${what} failed`);
          return 1;
        }
      }
      say('✓ the deployment checks passed');
      return 0;
    }
    default:
      say(USAGE);
      return action === undefined ? 0 : 64;
  }
}
