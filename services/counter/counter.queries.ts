// Reads of counter state. Until the projector's read model lands (issue 4), reads come from the
// source table.
import type { CounterView } from '../../contracts/counter.contracts.ts';
import type { DatabasePool } from '../kernel/database.ts';
import { loadCounter, type CounterKey } from './counter.store.ts';

export async function getCounter(pool: DatabasePool, key: CounterKey): Promise<CounterView> {
  const state = await loadCounter(pool, key);
  return { tenantId: key.tenantId, counterId: key.counterId, value: state.value, version: state.version };
}
