// `npm run tenant -- create <slug> …` and `npm run tenant -- show <tenantId>`: tenants through the
// BFF's API with the typed client (cli/api-client.ts) as a dev user, the onboarding saga followed
// step by step. The Idempotency-Key of a create is derived from the user and slug, so running the
// same create again follows the same tenant instead of making another.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createTenantBody } from '../contracts/tenant.contracts.ts';
import { bffClient, type BffClient } from './api-client.ts';
import { ensureDevSigningKey, mintDevToken } from './dev-auth.ts';
import type { StackSettings } from './stack/settings.ts';

const USAGE = `usage: npm run tenant -- create <slug> [--name <name>] [--plan free|pro|enterprise] [--user <id>] [--test]
       npm run tenant -- show <tenantId> [--user <id>] [--test]
  create: POST /v1/tenants as <user> (default cli-user), then follow the onboarding saga until it
          completes, waits for approval or fails; running it again follows the same tenant.
  show:   the tenant (read model) and its onboarding.`;

type Say = (line: string) => void;
const SETTLED = new Set(['completed', 'waiting-approval', 'compensated', 'failed']);
const POLL_MS = 300;
const FOLLOW_LIMIT_MS = 120_000;

/** A problem answer as one line: status, code and detail. */
function problemLine(status: number, error: unknown): string {
  const parsed = z.object({ code: z.string(), detail: z.string() }).safeParse(error);
  return parsed.success ? `${status} ${parsed.data.code}: ${parsed.data.detail}` : `HTTP ${status}`;
}

async function follow(api: BffClient, tenantId: string, say: Say) {
  const seen = new Map<string, string>();
  const deadline = Date.now() + FOLLOW_LIMIT_MS;
  for (;;) {
    const { data, error, response } = await api.GET('/v1/tenants/{tenantId}/onboarding', {
      params: { path: { tenantId } },
    });
    if (error) throw new Error(problemLine(response.status, error));
    for (const [step, state] of Object.entries(data.steps)) {
      if (seen.get(step) !== state && state !== 'pending') say(`  • ${step}: ${state}`);
      seen.set(step, state);
    }
    if (SETTLED.has(data.sagaStatus) || Date.now() > deadline) return data;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function runTenantCommand(args: string[], settings: StackSettings, say: Say): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        plan: { type: 'string', default: 'free' },
        user: { type: 'string', default: 'cli-user' },
        test: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const [action, target] = parsed.positionals;
  const { values } = parsed;
  if (values.help || !action || !target || !['create', 'show'].includes(action)) {
    say(USAGE);
    return values.help ? 0 : 64;
  }
  const baseUrl = `http://127.0.0.1:${settings.ports.bff}`;
  const token = await mintDevToken(await ensureDevSigningKey(settings.paths.secrets), {
    user: values.user,
    roles: [],
    expiresIn: '10m',
  });
  const api = bffClient(baseUrl, token);
  try {
    if (action === 'show') {
      const tenant = await api.GET('/v1/tenants/{tenantId}', { params: { path: { tenantId: target } } });
      if (tenant.error) {
        say(`✗ ${problemLine(tenant.response.status, tenant.error)}`);
        return 1;
      }
      say(`${JSON.stringify(tenant.data, null, 2)}`);
      const onboarding = await api.GET('/v1/tenants/{tenantId}/onboarding', { params: { path: { tenantId: target } } });
      if (onboarding.data) say(`onboarding: ${onboarding.data.sagaStatus}`);
      return 0;
    }
    const body = createTenantBody.safeParse({ slug: target, name: values.name ?? target, plan: values.plan });
    if (!body.success) {
      say(`✗ ${body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n${USAGE}`);
      return 64;
    }
    const created = await api.POST('/v1/tenants', {
      params: { header: { 'Idempotency-Key': `cli-create-${target}` } },
      body: body.data,
    });
    if (created.error) {
      say(`✗ ${problemLine(created.response.status, created.error)}`);
      return 1;
    }
    const { tenantId } = created.data;
    const again = created.response.headers.get('idempotent-replayed') === 'true';
    say(`• tenant ${tenantId} (${body.data.plan}) ${again ? 'already created: following it' : 'created'}; onboarding:`);
    const settled = await follow(api, tenantId, say);
    const status = settled?.sagaStatus ?? 'unknown';
    const ok = status === 'completed' || status === 'waiting-approval';
    say(`${ok ? '✓' : '✗'} onboarding ${status}${settled?.failure ? `: ${settled.failure}` : ''}`);
    return ok ? 0 : 1;
  } catch (error) {
    if (error instanceof TypeError) {
      say(
        `✗ the BFF does not answer at ${baseUrl} (${(error.cause as Error | undefined)?.message ?? error.message}); start it with \`npm run up\``,
      );
      return 1;
    }
    throw error;
  }
}
