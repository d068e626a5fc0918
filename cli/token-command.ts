// `npm run --silent token -- --user <id> [--roles platform-admin]` prints a dev token. A token says
// who the caller is; what they may do in a tenant is a relation in OpenFGA, not a claim.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { PLATFORM_ADMIN } from '../contracts/roles.ts';
import { ensureDevSigningKey, mintDevToken } from './dev-auth.ts';
import type { StackSettings } from './stack/settings.ts';

const USAGE = `usage: npm run --silent token -- --user <id> [--roles ${PLATFORM_ADMIN}] [--ttl 1h] [--test]
  Access to a tenant comes from its membership (create one with POST /v1/tenants, or be added with
  POST /v1/tenants/{id}/members), not from the token.`;

const options = z.object({
  user: z.string().regex(/^[\w.@:-]{1,128}$/, 'must be 1-128 characters of letters, digits, _ . @ : -'),
  roles: z.array(z.literal(PLATFORM_ADMIN)),
  ttl: z.string().regex(/^\d+\s?(s|m|h|d)$/, 'must look like 30m, 1h or 7d'),
});

export async function runTokenCommand(
  args: string[],
  settings: StackSettings,
  say: (line: string) => void,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        user: { type: 'string' },
        roles: { type: 'string', multiple: true },
        ttl: { type: 'string', default: '1h' },
        test: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  if (parsed.help) {
    say(USAGE);
    return 0;
  }
  const checked = options.safeParse({
    user: parsed.user,
    roles: (parsed.roles ?? [])
      .flatMap((r) => r.split(','))
      .map((r) => r.trim())
      .filter(Boolean),
    ttl: parsed.ttl,
  });
  if (!checked.success) {
    say(
      `✗ ${checked.error.issues.map((i) => `--${i.path[0] === undefined ? '' : String(i.path[0])}: ${i.message}`).join('; ')}\n${USAGE}`,
    );
    return 64;
  }
  const { user, roles, ttl } = checked.data;
  const files = await ensureDevSigningKey(settings.paths.secrets);
  const token = await mintDevToken(files, { user, roles, expiresIn: ttl });
  process.stdout.write(`${token}\n`);
  return 0;
}
