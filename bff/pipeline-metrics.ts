// Prometheus gauges for the event pipeline, measured at scrape time from Postgres and JetStream,
// so they are right whichever process runs the relay and projector workers. A failed measurement
// (Postgres or NATS down) leaves these gauges out of the scrape (NaN where unlabelled) and sets
// metrics_collector_failed{collector="pipeline_lag"} to 1: /metrics still answers with the rest.
import { Gauge, type Registry } from 'prom-client';
import { sloBreaches, type PipelineLag } from '../runtime/pipeline-lag.ts';

export function registerPipelineMetrics(registry: Registry, measure: () => Promise<PipelineLag>): void {
  let cached: { at: number; lag: Promise<PipelineLag> } | undefined;
  // One measurement serves all gauges of a scrape.
  const current = (): Promise<PipelineLag | undefined> => {
    if (!cached || Date.now() - cached.at > 1_000) cached = { at: Date.now(), lag: measure() };
    return cached.lag.catch(() => undefined);
  };
  /**
   * Sets a gauge from the current measurement. Without one, a labelled gauge leaves its series out of
   * this scrape and an unlabelled one reads NaN (never a made-up 0).
   */
  const from = (write: (gauge: Gauge, lag: PipelineLag) => void, labelled = false) =>
    async function (this: Gauge) {
      const lag = await current();
      this.reset();
      if (lag) write(this, lag);
      else if (!labelled) this.set(Number.NaN);
    };
  new Gauge({
    name: 'metrics_collector_failed',
    help: '1 when a collector could not measure at this scrape (its metrics are missing from it)',
    labelNames: ['collector'],
    registers: [registry],
    async collect() {
      this.set({ collector: 'pipeline_lag' }, (await current()) ? 0 : 1);
    },
  });
  new Gauge({
    name: 'outbox_relay_lag_events',
    help: 'Committed outbox events the relay has not published yet',
    registers: [registry],
    collect: from((gauge, lag) => gauge.set(lag.relay.events)),
  });
  new Gauge({
    name: 'outbox_relay_lag_seconds',
    help: 'Age of the oldest outbox event the relay has not published yet',
    registers: [registry],
    collect: from((gauge, lag) => gauge.set(lag.relay.seconds)),
  });
  new Gauge({
    name: 'projection_lag_events',
    help: 'Outbox events not yet applied by the projection',
    labelNames: ['projection'],
    registers: [registry],
    collect: from((gauge, lag) => {
      for (const [projection, behind] of Object.entries(lag.projections)) gauge.set({ projection }, behind.events);
    }, true),
  });
  new Gauge({
    name: 'projection_lag_seconds',
    help: 'Age of the oldest event not yet applied by the projection',
    labelNames: ['projection'],
    registers: [registry],
    collect: from((gauge, lag) => {
      for (const [projection, behind] of Object.entries(lag.projections)) gauge.set({ projection }, behind.seconds);
    }, true),
  });
  new Gauge({
    name: 'projection_dead_letters',
    help: 'Events parked in projection_dead_letters, by projection',
    labelNames: ['projection'],
    registers: [registry],
    collect: from((gauge, lag) => {
      for (const projection of Object.keys(lag.projections))
        gauge.set({ projection }, lag.deadLetters[projection] ?? 0);
    }),
  });
  new Gauge({
    name: 'pipeline_lag_slo_breached',
    help: '1 when the relay or a projection is behind its lag SLO (see runtime/pipeline-lag.ts)',
    registers: [registry],
    collect: from((gauge, lag) => gauge.set(sloBreaches(lag).length > 0 ? 1 : 0)),
  });
}
