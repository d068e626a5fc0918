// Entry point of the all-in-one topology: any set of deployables in one process (single VPS).
// Which ones: the arguments, else DEPLOYABLES (comma-separated), else all of them.
//   node --import tsx all-in-one/all-in-one.main.ts bff saga-worker
import { DEPLOYABLE_NAMES, runDeployables, type DeployableName } from '../runtime/deployable.ts';
import { DEPLOYABLES } from './deployables.ts';

const requested = process.argv.slice(2).length > 0 ? process.argv.slice(2) : (process.env.DEPLOYABLES ?? '').split(',');
const names = requested.map((name) => name.trim()).filter(Boolean);
const unknown = names.filter((name) => !(DEPLOYABLE_NAMES as readonly string[]).includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown deployable(s): ${unknown.join(', ')}; choose from ${DEPLOYABLE_NAMES.join(', ')}\n`);
  process.exit(64); // EX_USAGE
}
const chosen = names.length > 0 ? (names as DeployableName[]) : [...DEPLOYABLE_NAMES];

await runDeployables(
  chosen.map((name) => DEPLOYABLES[name]),
  process.env,
);
