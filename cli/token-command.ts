// `npm run --silent token -- --tenant <id> --user <id> --roles member` prints a dev token.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ROLES } from '../contracts/roles.ts';
import { resourceId } from '../contracts/ids.ts';
import { ensureDevSigningKey, mintDevToken } from './dev-auth.ts';
import type { StackSettings } from './stack/settings.ts';

const USAGE = `usage: npm run --silent token -- --user <id> [--tenant <id>] [--roles ${ROLES.join('|')},…] [--ttl 1h] [--test]
  Without --tenant the token is a plain user token. Roles are comma-separated or repeated.`;

const options = z.object({
  user: z.string().regex(/^[\w.@:-]{1,128}$/, 'must be 1-128 characters of letters, digits, _ . @ : -'),
  tenant: resourceId.optional(),
  roles: z.array(z.enum(ROLES)),
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
        tenant: { type: 'string' },
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
    tenant: parsed.tenant,
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
  const { user, tenant, roles, ttl } = checked.data;
  const files = await ensureDevSigningKey(settings.paths.secrets);
  const token = await mintDevToken(files, { user, roles, expiresIn: ttl, ...(tenant ? { tenant } : {}) });
  process.stdout.write(`${token}\n`);
  return 0;
}
