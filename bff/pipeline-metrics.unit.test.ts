// /metrics answers while a dependency is down: given a lag measurement that fails (Postgres or NATS
// unreachable), the scrape still succeeds, the lag gauges unknown (NaN or absent), and a gauge names the failed
// collector; when the measurement works again, the gauges are back and the failure gauge is 0.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { Registry } from 'prom-client';
import type { PipelineLag } from '../runtime/pipeline-lag.ts';
import { registerPipelineMetrics } from './pipeline-metrics.ts';

describe('pipeline metrics', () => {
  it('a failed lag measurement leaves its gauges out and says so, instead of failing the scrape', async () => {
    const registry = new Registry();
    let down = true;
    const lag: PipelineLag = {
      relay: { events: 3, seconds: 1.5 },
      projections: { counters: { events: 7, seconds: 2 } },
      deadLetters: { counters: 1 },
    };
    registerPipelineMetrics(registry, async () => {
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return lag;
    });

    const during = await registry.metrics();
    assert.match(during, /^metrics_collector_failed\{collector="pipeline_lag"\} 1$/m);
    assert.match(during, /^outbox_relay_lag_events nan$/im, 'unknown (prom-client writes Nan), not a made-up 0');
    assert.doesNotMatch(during, /^projection_lag_events\{/m, 'no per-projection series without a measurement');

    down = false;
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // past the one-second measurement cache
    const after = await registry.metrics();
    assert.match(after, /^metrics_collector_failed\{collector="pipeline_lag"\} 0$/m);
    assert.match(after, /^outbox_relay_lag_events 3$/m);
    assert.match(after, /^projection_lag_events\{projection="counters"\} 7$/m);
    assert.match(after, /^projection_dead_letters\{projection="counters"\} 1$/m);
  });
});
