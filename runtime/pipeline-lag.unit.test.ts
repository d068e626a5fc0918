import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { formatProgress } from '../cli/rebuild-command.ts';
import { LAG_SLO, sloBreaches } from './pipeline-lag.ts';

describe('lag SLO and progress display', () => {
  it('reports no breach within the SLO and names each breach beyond it', () => {
    const within = {
      relay: { events: 3, seconds: LAG_SLO.relaySeconds },
      projections: { counters: { events: 9, seconds: LAG_SLO.projectionSeconds } },
      deadLetters: {},
    };
    assert.deepEqual(sloBreaches(within), []);
    const behind = {
      relay: { events: 120, seconds: 7.5 },
      projections: { counters: { events: 400, seconds: 12 } },
      deadLetters: {},
    };
    assert.deepEqual(sloBreaches(behind), [
      'relay is 7.5 s behind the outbox (SLO 5 s, 120 events waiting)',
      'projection counters is 12.0 s behind (SLO 10 s, 400 events)',
    ]);
  });

  it('shows done/total, percent, rate and ETA, with a bar on a terminal', () => {
    assert.equal(formatProgress(2_500, 10_000, 1_250, false), '2500/10000 events (25%) 1250 ev/s ETA 6 s');
    assert.equal(formatProgress(0, 10_000, 0, false), '0/10000 events (0%) 0 ev/s ETA ?');
    assert.match(
      formatProgress(5_000, 10_000, 500, true),
      /^\[#{15}\.{15}\] 5000\/10000 events \(50%\) 500 ev\/s ETA 10 s$/,
    );
  });
});
