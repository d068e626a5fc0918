// The running stack's endpoints the benchmarks and the profiles use, checked to answer first.
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDevSigningKey } from '../cli/dev-auth.ts';
import { natsUrl } from '../cli/stack/nats.ts';
import { openFgaHealthy, openFgaToken, openFgaUrl } from '../cli/stack/openfga.ts';
import { jaegerHealthy, jaegerUrl, otlpEndpoint } from '../cli/stack/jaeger.ts';
import { databaseUrl } from '../cli/stack/postgres.ts';
import { StackError } from '../cli/stack/processes.ts';
import type { StackSettings } from '../cli/stack/settings.ts';
import { temporalAddress, temporalHealthy } from '../cli/stack/temporal.ts';
import { ensurePostgresBinaries } from '../cli/stack/tools.ts';
import type { StackEndpoints } from './context.ts';

/** The endpoints of the stack `npm run up` started; a StackError names the first one not answering. */
export async function stackEndpoints(settings: StackSettings, say: (line: string) => void): Promise<StackEndpoints> {
  const address = temporalAddress(settings);
  let serverUrl: string;
  try {
    serverUrl = settings.external.databaseUrl ?? databaseUrl(settings);
  } catch {
    throw new StackError('the stack is not up: run `npm run up` first');
  }
  if (!(await temporalHealthy(address)))
    throw new StackError(`Temporal is not answering on ${address}: run \`npm run up\` first`);
  const openFga = settings.external.openfga?.url ?? openFgaUrl(settings);
  if (!(await openFgaHealthy(openFga)))
    throw new StackError(`OpenFGA is not answering on ${openFga}: run \`npm run up\` first`);
  const otlp = settings.external.otlpEndpoint ?? otlpEndpoint(settings);
  if (!settings.external.otlpEndpoint && !(await jaegerHealthy(jaegerUrl(settings))))
    throw new StackError(`Jaeger is not answering on ${jaegerUrl(settings)}: run \`npm run up\` first`);
  return {
    serverUrl,
    natsUrl: settings.external.natsUrl ?? natsUrl(settings),
    temporalAddress: address,
    pgBin: dirname(realpathSync(join(ensurePostgresBinaries(say), 'pg_ctl'))), // pgbench sits beside the server binaries
    keys: await ensureDevSigningKey(settings.paths.secrets),
    openfga: settings.external.openfga ?? { url: openFga, token: openFgaToken(settings) },
    otlpEndpoint: otlp,
  };
}
