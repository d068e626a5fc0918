// Bench results: one JSON file (everything), a markdown table (committed, quoted in the README), and
// an SVG plot of throughput against outbox size.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GrowthPoint } from './pipeline.bench.ts';
import type { Measure, Row } from './measure.ts';

export interface BenchReport {
  generatedAt: string;
  mode: string;
  machine: Record<string, string | number>;
  rows: Row[];
  growth: GrowthPoint[];
}

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value)
    ? '–'
    : value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function cell(measure: Measure, row: Row): string {
  if (row.compare === 'value') return `${fmt(measure.value, 0)} ${row.unit}`;
  const parts: string[] = [];
  const digits = (v: number) => (row.compare === 'p50' || row.compare === 'p99' || v < 100 ? 1 : 0);
  const spread = measure.spread
    ? ` (${measure.runs} runs: ${fmt(measure.spread[0], digits(measure.spread[0]))}–${fmt(measure.spread[1], digits(measure.spread[1]))})`
    : '';
  if (measure.throughput !== undefined)
    parts.push(
      `${fmt(measure.throughput, measure.throughput < 100 ? 1 : 0)} ${row.compare === 'throughput' ? row.unit : '/s'}`,
    );
  if (measure.p50 !== undefined)
    parts.push(`p50 ${fmt(measure.p50, 1)} · p95 ${fmt(measure.p95, 1)} · p99 ${fmt(measure.p99, 1)} ms`);
  if (measure.cpu) parts.push(`CPU ${fmt(measure.cpu.client, 2)} client + ${fmt(measure.cpu.server, 2)} server ms/op`);
  return `${measure.label}: ${parts.join(', ')}${spread}`;
}

export function markdown(report: BenchReport): string {
  const machine = Object.entries(report.machine)
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
  const lines = [
    `Mode \`${report.mode}\`, ${report.generatedAt}. Machine: ${machine}.`,
    '',
    '| what | project path | baseline (same run) | ratio | note |',
    '| --- | --- | --- | --- | --- |',
    ...report.rows.map(
      (r) =>
        `| **${r.group}**: ${r.name} | ${cell(r.project, r)} | ${cell(r.baseline, r)} | ${r.ratio.toFixed(2)}× ${r.compare === 'throughput' ? 'throughput' : r.compare === 'p50' || r.compare === 'p99' ? `${r.compare} latency` : r.unit} | ${r.note ?? ''} |`,
    ),
  ];
  if (report.growth.length > 0) {
    lines.push(
      '',
      '| outbox rows | relay events/s | rebuild events/s | raw scan events/s | reader uses the (tx_id, position) index |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const p of report.growth)
      lines.push(
        `| ${fmt(p.rows)} | ${fmt(p.relay)} | ${fmt(p.rebuild)} | ${fmt(p.scan)} | ${p.usesIndex ? 'yes' : 'no'} |`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** Throughput against outbox size (log scale), one line per path. */
export function growthSvg(points: GrowthPoint[]): string {
  const width = 640;
  const height = 360;
  const pad = { left: 70, right: 150, top: 20, bottom: 50 };
  const series = [
    { name: 'relay', color: '#1f77b4', values: points.map((p) => p.relay) },
    { name: 'rebuild', color: '#d62728', values: points.map((p) => p.rebuild) },
    { name: 'raw scan', color: '#7f7f7f', values: points.map((p) => p.scan) },
  ];
  const xs = points.map((p) => Math.log10(p.rows));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs) === Math.min(...xs) ? Math.min(...xs) + 1 : Math.max(...xs)];
  const yMax = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => !Number.isNaN(v)))) * 1.1;
  const x = (v: number) => pad.left + ((v - xMin) / (xMax - xMin)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  const lines = series.map((s, i) => {
    const pts = s.values
      .map((v, j) => (Number.isNaN(v) ? null : `${x(xs[j]!).toFixed(1)},${y(v).toFixed(1)}`))
      .filter(Boolean)
      .join(' ');
    return (
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>` +
      `<text x="${width - pad.right + 10}" y="${pad.top + 20 + i * 20}" fill="${s.color}" font-size="13">${s.name}</text>`
    );
  });
  const xTicks = points.map(
    (p, j) =>
      `<text x="${x(xs[j]!)}" y="${height - pad.bottom + 20}" font-size="12" text-anchor="middle">${p.rows.toLocaleString('en')}</text>`,
  );
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map(
    (f) =>
      `<text x="${pad.left - 8}" y="${y(f * yMax) + 4}" font-size="12" text-anchor="end">${Math.round(f * yMax).toLocaleString('en')}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="black"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="black"/>
${xTicks.join('\n')}
${yTicks.join('\n')}
<text x="${(pad.left + width - pad.right) / 2}" y="${height - 10}" font-size="13" text-anchor="middle">rows in event_outbox (log scale)</text>
<text x="16" y="${(pad.top + height - pad.bottom) / 2}" font-size="13" transform="rotate(-90 16 ${(pad.top + height - pad.bottom) / 2})" text-anchor="middle">events/s</text>
${lines.join('\n')}
</svg>
`;
}

export function writeReport(dir: string, report: BenchReport): string[] {
  const files = [join(dir, 'latest.json'), join(dir, 'latest.md')];
  writeFileSync(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files[1]!, markdown(report));
  if (report.growth.length > 1) {
    files.push(join(dir, 'growth.svg'));
    writeFileSync(files[2]!, growthSvg(report.growth));
  }
  return files;
}

const README = join(import.meta.dirname, '..', 'README.md');
export const README_BLOCK = /(<!-- bench-results:start -->\n)([\s\S]*?)(<!-- bench-results:end -->)/;

/** Puts the latest results table into the README's Performance section (between its markers). */
export function syncReadme(table: string): void {
  const readme = readFileSync(README, 'utf8');
  if (!README_BLOCK.test(readme))
    throw new Error('README.md has no <!-- bench-results:start --> … <!-- bench-results:end --> block');
  writeFileSync(
    README,
    readme.replace(README_BLOCK, (_, start: string, _old: string, end: string) => `${start}${table}${end}`),
  );
}
