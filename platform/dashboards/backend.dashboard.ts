// The backend's Grafana dashboard as code (issue 18): the event pipeline, the HTTP API, saga outcomes
// and the Temporal workers, on a Prometheus data source picked in the dashboard. It is typed by the
// classic dashboard JSON model of @grafana/schema, so a misspelled field does not compile;
// platform/generate.ts writes it to helm/durable-workflow-backend/dashboards/backend.json, and the
// chart ships it as a Grafana sidecar ConfigMap (templates/dashboards.yaml) when dashboards.enabled.
import type { DataQuery, DataSourceRef, Dashboard, Panel, RowPanel } from '@grafana/schema';

/**
 * The Temporal core's metrics the dashboard reads, by Prometheus name and kind. Checked against the
 * core vendored in node_modules/@temporalio/core-bridge/sdk-core (SDK 1.24.0) and
 * https://docs.temporal.io/references/sdk-metrics:
 * - crates/sdk-core/src/telemetry/metrics.rs and crates/common/src/telemetry/metrics.rs name them
 *   (`workflow_task_schedule_to_start_latency`, `num_pollers` by `poller_type`,
 *   `worker_task_slots_used` by `worker_type`, …), each labelled by `task_queue`;
 * - crates/common/src/telemetry.rs adds the `temporal_` prefix to the core's own metrics only
 *   (get_temporal_metric_meter), not to the ones our code creates through a metricMeter;
 * - crates/common/src/telemetry/prometheus_meter.rs adds `_total` to counters and a unit to histograms
 *   only when asked (countersTotalSuffix, unitSuffix: runtime/deployable.ts leaves both at their
 *   default, off), and measures durations in seconds with useSecondsForDurations (which it sets).
 */
export const TEMPORAL_CORE_METRICS = {
  temporal_workflow_task_schedule_to_start_latency: 'histogram',
  temporal_activity_schedule_to_start_latency: 'histogram',
  temporal_worker_task_slots_available: 'gauge',
  temporal_worker_task_slots_used: 'gauge',
  temporal_num_pollers: 'gauge',
  temporal_workflow_completed: 'counter',
  temporal_workflow_failed: 'counter',
} as const;

/** A Prometheus query of a panel (the schema types only what every data source shares). */
interface PromQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
}

const datasource: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** A time series panel of PromQL queries, each `[expr, legend]`, in `unit` (a Grafana unit id). */
function timeseries(title: string, unit: string, queries: [expr: string, legend: string][], description?: string) {
  const targets = queries.map(
    ([expr, legendFormat], i) =>
      ({ refId: String.fromCharCode(65 + i), datasource, expr, legendFormat }) satisfies PromQuery,
  );
  const panel: Panel = {
    type: 'timeseries',
    title,
    ...(description ? { description } : {}),
    datasource,
    fieldConfig: { defaults: { unit, min: 0 }, overrides: [] },
    targets,
  };
  return panel;
}

/** The p95 of a histogram over 5 minutes, by `label`. */
const p95 = (histogram: string, label: string) =>
  `histogram_quantile(0.95, sum by (le, ${label}) (rate(${histogram}_bucket[5m])))`;

// The pipeline gauges are measured from Postgres and JetStream by every BFF replica (bff/pipeline-metrics.ts):
// the replicas report the same value, so each query takes their max.
const sections: [title: string, panels: Panel[]][] = [
  [
    'Event pipeline',
    [
      timeseries('Outbox relay lag (events)', 'short', [['max(outbox_relay_lag_events)', 'unpublished']]),
      timeseries('Outbox relay lag (age)', 's', [['max(outbox_relay_lag_seconds)', 'oldest unpublished']]),
      timeseries('Pipeline lag SLO breached', 'bool', [['max(pipeline_lag_slo_breached)', 'breached']]),
      timeseries('Projection lag (events)', 'short', [
        ['max by (projection) (projection_lag_events)', '{{projection}}'],
      ]),
      timeseries('Projection lag (age)', 's', [['max by (projection) (projection_lag_seconds)', '{{projection}}']]),
      timeseries(
        'Projection dead letters',
        'short',
        [['max by (projection) (projection_dead_letters)', '{{projection}}']],
        'Events parked for `npm run dlq`',
      ),
    ],
  ],
  [
    'HTTP API',
    [
      timeseries('Requests', 'reqps', [
        ['sum by (route, status) (rate(http_requests_total[5m]))', '{{route}} {{status}}'],
      ]),
      timeseries('Latency p95', 's', [[p95('http_request_duration_seconds', 'route'), '{{route}}']]),
    ],
  ],
  [
    'Sagas',
    [
      // Our own counter, created by the saga workflow through its metricMeter: the core exports it
      // without the `temporal_` prefix (see TEMPORAL_CORE_METRICS), never counting during a replay.
      timeseries(
        'Saga outcomes (last hour)',
        'short',
        [['sum by (outcome) (increase(saga_outcomes[1h]))', '{{outcome}}']],
        'Sagas that ended, by outcome (workflows/tenant-onboarding)',
      ),
      timeseries('Workflows completed and failed', 'ops', [
        ['sum by (workflow_type) (rate(temporal_workflow_completed[5m]))', '{{workflow_type}} completed'],
        ['sum by (workflow_type) (rate(temporal_workflow_failed[5m]))', '{{workflow_type}} failed'],
      ]),
    ],
  ],
  [
    'Workers',
    [
      timeseries('Workflow task schedule-to-start p95', 's', [
        [p95('temporal_workflow_task_schedule_to_start_latency', 'task_queue'), '{{task_queue}}'],
      ]),
      timeseries('Activity schedule-to-start p95', 's', [
        [p95('temporal_activity_schedule_to_start_latency', 'task_queue'), '{{task_queue}}'],
      ]),
      timeseries('Task slots', 'short', [
        ['sum by (task_queue, worker_type) (temporal_worker_task_slots_used)', '{{task_queue}} {{worker_type}} used'],
        [
          'sum by (task_queue, worker_type) (temporal_worker_task_slots_available)',
          '{{task_queue}} {{worker_type}} available',
        ],
      ]),
      timeseries('Pollers', 'short', [
        ['sum by (task_queue, poller_type) (temporal_num_pollers)', '{{task_queue}} {{poller_type}}'],
      ]),
      timeseries('Replicas polling', 'short', [['sum by (task_queue) (temporal_worker_polling)', '{{task_queue}}']]),
      timeseries('Activities in flight', 'short', [
        ['sum by (task_queue) (temporal_worker_in_flight_activities)', '{{task_queue}}'],
      ]),
    ],
  ],
];

/** Each section as a row, then its panels up to three to a line (Grafana's grid is 24 wide). */
function layout(): (Panel | RowPanel)[] {
  const panels: (Panel | RowPanel)[] = [];
  let y = 0;
  for (const [title, members] of sections) {
    panels.push({
      id: panels.length + 1,
      gridPos: { x: 0, y, w: 24, h: 1 },
      type: 'row',
      title,
      collapsed: false,
      panels: [],
    });
    const w = 24 / Math.min(3, members.length);
    members.forEach((panel, i) => {
      const gridPos = { x: (i % 3) * w, y: y + 1 + Math.floor(i / 3) * 8, w, h: 8 };
      panels.push({ id: panels.length + 1, gridPos, ...panel });
    });
    y += 1 + Math.ceil(members.length / 3) * 8;
  }
  return panels;
}

export const backendDashboard = {
  uid: 'durable-workflow-backend',
  title: 'Durable workflow backend',
  description: 'Generated by `npm run platform -- generate` from platform/dashboards/backend.dashboard.ts',
  tags: ['durable-workflow-backend'],
  editable: true,
  graphTooltip: 1,
  refresh: '30s',
  schemaVersion: 42,
  time: { from: 'now-6h', to: 'now' },
  timezone: 'browser',
  templating: {
    list: [{ type: 'datasource', name: 'datasource', label: 'Data source', query: 'prometheus' }],
  },
  panels: layout(),
} satisfies Dashboard;
