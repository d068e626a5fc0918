// `npm run dlq -- list [--json]` and `npm run dlq -- redrive <id…>|--all`: the projection dead letters.
import { listDeadLetters, redriveDeadLetters } from '../services/read-models/dead-letters.ts';
import { PROJECTIONS } from '../services/read-models/projections.ts';
import { withPipeline } from './pipeline-access.ts';
import type { StackSettings } from './stack/settings.ts';

const USAGE =
  'usage: npm run dlq -- list [--json] | redrive <id> [<id>…] | redrive --all   (add --test for the test stack)';

export async function runDlqCommand(
  args: string[],
  settings: StackSettings,
  say: (line: string) => void,
): Promise<number> {
  const [action, ...rest] = args.filter((a) => a !== '--test');
  if (action === 'list') {
    const rows = await withPipeline(settings, ({ pool }) => listDeadLetters(pool));
    if (rest.includes('--json')) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) say('no parked events');
    else
      for (const r of rows)
        say(
          `#${r.id} ${r.projection} ${r.subject} seq ${r.streamSequence} event ${r.eventId} (${r.attempts} attempts): ${r.error}`,
        );
    return 0;
  }
  if (action === 'redrive') {
    const ids = rest.includes('--all') ? ('all' as const) : rest.map(Number);
    if (ids !== 'all' && (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id <= 0))) {
      say(`✗ give dead-letter ids (from \`npm run dlq -- list\`) or --all\n${USAGE}`);
      return 64;
    }
    const results = await withPipeline(settings, ({ pool }) => redriveDeadLetters(pool, PROJECTIONS, ids));
    for (const r of results)
      say(`${r.outcome === 'failed' ? '✗' : '✓'} #${r.id} ${r.outcome}${r.error ? `: ${r.error}` : ''}`);
    if (results.length === 0) say('nothing to re-drive');
    return results.some((r) => r.outcome === 'failed') ? 1 : 0;
  }
  say(USAGE);
  return action === undefined ? 0 : 64;
}
