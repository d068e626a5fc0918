// Prometheus gauges for the event pipeline, measured at scrape time from Postgres and JetStream,
// so they are right whichever process runs the relay and projector workers.
import { Gauge, type Registry } from 'prom-client';
import { sloBreaches, type PipelineLag } from '../runtime/pipeline-lag.ts';

export function registerPipelineMetrics(registry: Registry, measure: () => Promise<PipelineLag>): void {
  let cached: { at: number; lag: Promise<PipelineLag> } | undefined;
  // One measurement serves all gauges of a scrape.
  const current = () => {
    if (!cached || Date.now() - cached.at > 1_000) cached = { at: Date.now(), lag: measure() };
    return cached.lag;
  };
  new Gauge({
    name: 'outbox_relay_lag_events',
    help: 'Committed outbox events the relay has not published yet',
    registers: [registry],
    async collect() {
      this.set((await current()).relay.events);
    },
  });
  new Gauge({
    name: 'outbox_relay_lag_seconds',
    help: 'Age of the oldest outbox event the relay has not published yet',
    registers: [registry],
    async collect() {
      this.set((await current()).relay.seconds);
    },
  });
  new Gauge({
    name: 'projection_lag_events',
    help: 'Outbox events not yet applied by the projection',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      for (const [projection, lag] of Object.entries((await current()).projections))
        this.set({ projection }, lag.events);
    },
  });
  new Gauge({
    name: 'projection_lag_seconds',
    help: 'Age of the oldest event not yet applied by the projection',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      for (const [projection, lag] of Object.entries((await current()).projections))
        this.set({ projection }, lag.seconds);
    },
  });
  new Gauge({
    name: 'projection_dead_letters',
    help: 'Events parked in projection_dead_letters, by projection',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      const lag = await current();
      for (const projection of Object.keys(lag.projections)) this.set({ projection }, lag.deadLetters[projection] ?? 0);
    },
  });
  new Gauge({
    name: 'pipeline_lag_slo_breached',
    help: '1 when the relay or a projection is behind its lag SLO (see projector/lag.ts)',
    registers: [registry],
    async collect() {
      this.set(sloBreaches(await current()).length > 0 ? 1 : 0);
    },
  });
}
