// `npm run --silent fault -- steps`, `… fault -- arm --slug <slug> --step <step> --mode fail|transient
// [--times N]` (arm a saga fault for a tenant slug) and `… fault -- clear --slug <slug> --step <step>`
// (remove it again: "the fix" before a `temporal workflow reset`).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { tenantSlug } from '../contracts/tenant.contracts.ts';
import { SAGA_STEPS } from '../contracts/workflow-names.ts';
import { armFault, clearFault, faultMode } from '../services/tenant/faults.ts';
import { withPipeline } from './pipeline-access.ts';
import type { StackSettings } from './stack/settings.ts';

const USAGE = `usage: npm run --silent fault -- steps
       npm run --silent fault -- arm --slug <slug> --step <step> --mode fail|transient [--times N] [--test]
       npm run --silent fault -- clear --slug <slug> --step <step> [--test]
  fail: the step fails non-retryably (N times, default 1); transient: it fails N times (default 2), then succeeds.
  Faults fire only where the saga worker runs with FAULT_INJECTION=enabled (the local stack and tests).`;

const STEPS = SAGA_STEPS;

const clearOptions = z.object({
  slug: tenantSlug,
  step: z.enum(STEPS as [string, ...string[]], { error: `must be one of: ${STEPS.join(', ')}` }),
});
const armOptions = clearOptions.extend({
  mode: faultMode,
  times: z.coerce.number().int().min(1).max(1_000).optional(),
});

export async function runFaultCommand(
  args: string[],
  settings: StackSettings,
  say: (line: string) => void,
): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'steps') {
    process.stdout.write(`${STEPS.join('\n')}\n`);
    return 0;
  }
  if (action !== 'arm' && action !== 'clear') {
    say(USAGE);
    return action === undefined ? 0 : 64;
  }
  if (process.env.FAULT_INJECTION === 'disabled') {
    say('✗ fault injection is disabled here (FAULT_INJECTION=disabled); faults are for dev and test stacks only');
    return 1;
  }
  let values;
  try {
    values = parseArgs({
      args: rest,
      options: {
        slug: { type: 'string' },
        step: { type: 'string' },
        mode: { type: 'string' },
        times: { type: 'string' },
        test: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const problems = (error: z.ZodError) =>
    `✗ ${error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}\n${USAGE}`;
  if (action === 'clear') {
    const parsed = clearOptions.safeParse(values);
    if (!parsed.success) {
      say(problems(parsed.error));
      return 64;
    }
    const { slug, step } = parsed.data;
    const cleared = await withPipeline(settings, ({ pool }) => clearFault(pool, slug, step));
    say(
      cleared
        ? `✓ cleared: ${step} no longer fails for tenant slug ${slug}`
        : `• nothing armed at ${step} for tenant slug ${slug}`,
    );
    return 0;
  }
  const parsed = armOptions.safeParse(values);
  if (!parsed.success) {
    say(problems(parsed.error));
    return 64;
  }
  const { slug, step, mode } = parsed.data;
  const times = parsed.data.times ?? (mode === 'fail' ? 1 : 2);
  await withPipeline(settings, ({ pool }) => armFault(pool, { slug, step, mode, times }));
  say(`✓ armed: ${step} fails ${mode === 'fail' ? 'non-retryably' : 'transiently'} ${times}× for tenant slug ${slug}`);
  return 0;
}
