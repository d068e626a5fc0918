// Every projection the projector runs, by name (one workflow `projection/<name>` each).
import type { ApplyEvent } from '../projector.activities.ts';
import { applyCounterEvent } from './counters.projection.ts';

export const PROJECTIONS: Record<string, ApplyEvent> = {
  counters: (db, event) => applyCounterEvent(db, event),
};

export const PROJECTION_NAMES = Object.keys(PROJECTIONS);
