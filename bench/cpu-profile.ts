// Self time of a V8 .cpuprofile (`node --cpu-prof`), grouped by function or by package.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
}

/** A frame's function and where it is (`name  package/file:line`). */
export function functionOf(frame: CallFrame): string {
  const where = frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(?=[a-z-]+\/)/, '');
  return `${frame.functionName || '(anonymous)'}  ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
}

/**
 * A frame's package: the npm package it runs in, `node` for Node's own JavaScript, `project` for
 * this repository's code, and V8's pseudo-frames as they are named ((idle), (garbage collector), (program)).
 */
export function packageOf(frame: CallFrame): string {
  const inModules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(frame.url);
  if (inModules) return inModules[1]!;
  if (frame.url.startsWith('node:')) return 'node';
  if (frame.url === '') return frame.functionName.startsWith('(') ? frame.functionName : 'native';
  return 'project';
}

/** Each key's share of the samples (0–1), largest first. */
export function selfTime(file: string, keyOf: (frame: CallFrame) => string): [string, number][] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const hits = new Map<string, number>();
  for (const id of profile.samples) {
    const key = keyOf(frames.get(id)!);
    hits.set(key, (hits.get(key) ?? 0) + 1);
  }
  return [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => [key, count / profile.samples.length] as [string, number]);
}

/** `  12.3%  key` lines of the first `top` entries. */
export const shareLines = (shares: [string, number][], top: number): string =>
  shares
    .slice(0, top)
    .map(([key, share]) => `${(share * 100).toFixed(1).padStart(5)}%  ${key}\n`)
    .join('');
