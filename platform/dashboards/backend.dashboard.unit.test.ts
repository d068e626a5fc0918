// Every metric a dashboard panel queries is one the code exports: given the names our registries
// define (the BFF's HTTP and pipeline metrics, the worker gauges, the workflows' own metrics) and the
// Temporal core's documented list, when the panels' PromQL is read, then it names none other — a
// renamed gauge or a misspelled query fails here, not as an empty panel in production.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { Histogram, Registry } from 'prom-client';
import { createHttpMetrics } from '../../bff/metrics.ts';
import { registerPipelineMetrics } from '../../bff/pipeline-metrics.ts';
import { backendDashboard, TEMPORAL_CORE_METRICS } from './backend.dashboard.ts';

const root = join(import.meta.dirname, '..', '..');
const source = (path: string) => readFileSync(join(root, path), 'utf8');

type Kind = 'counter' | 'gauge' | 'histogram';
/** The series Prometheus stores for a metric: a histogram's are its buckets, sum and count. */
const series = (name: string, kind: Kind) =>
  kind === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];

function knownSeries(): Set<string> {
  const known = new Set<string>();
  const add = (name: string, kind: Kind) => series(name, kind).forEach((s) => known.add(s));

  const pipeline = new Registry();
  registerPipelineMetrics(pipeline, () => Promise.reject(new Error('not measured in this test')));
  // A counter or a gauge is one series of its own name (prom-client's counters already end in _total).
  for (const metric of [...createHttpMetrics().registry.getMetricsAsArray(), ...pipeline.getMetricsAsArray()])
    add(metric.name, metric instanceof Histogram ? 'histogram' : 'gauge');

  // The worker's gauges are registered only once a worker runs (runtime/worker.ts), so read from its source.
  for (const [, name] of source('runtime/worker.ts').matchAll(/new Gauge\(\{\s*name: '([\w:]+)'/g)) add(name!, 'gauge');

  // Metrics a workflow creates through its metricMeter: exported by the Temporal core as named, no prefix.
  const kinds = { Counter: 'counter', Histogram: 'histogram', Gauge: 'gauge' } as const;
  for (const file of readdirSync(join(root, 'workflows'), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    for (const [, kind, name] of source(join('workflows', file)).matchAll(
      /metricMeter\.create(Counter|Histogram|Gauge)\(\s*'([\w:]+)'/g,
    ))
      add(name!, kinds[kind as keyof typeof kinds]);
  }

  for (const [name, kind] of Object.entries(TEMPORAL_CORE_METRICS)) add(name, kind);
  return known;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);
/** The metric names of a PromQL expression: identifiers outside label matchers, ranges and groupings, not called. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/\b[a-zA-Z_:][\w:]*\b(?!\s*\()/g)].map(([name]) => name).filter((n) => !KEYWORDS.has(n));
}

const queries = backendDashboard.panels.flatMap((panel) =>
  'targets' in panel ? (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: String(target.expr) })) : [],
);

describe('the backend dashboard (platform/dashboards)', () => {
  it('reads PromQL metric names the way Prometheus does', () => {
    assert.deepEqual(
      metricNames('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m])))'),
      ['http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(metricNames('max by (projection) (projection_lag_events{projection!="x"}) > bool 0'), [
      'projection_lag_events',
    ]);
  });

  it('queries only metrics the code defines, each panel on the chosen Prometheus data source', () => {
    const known = knownSeries();
    assert.ok(queries.length >= 15, `only ${queries.length} queries`);
    for (const { panel, expr } of queries) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${panel}: no metric in ${expr}`);
      for (const name of names) assert.ok(known.has(name), `${panel}: ${name} is defined nowhere (${expr})`);
    }
    for (const panel of backendDashboard.panels)
      if (panel.type !== 'row') assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' });
  });
});
