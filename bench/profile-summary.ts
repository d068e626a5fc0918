// Summarises a V8 .cpuprofile: self time by function (or with --by-package, by npm package), the top
// entries, and the share spent idle.
//   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top] [--by-package]
import { functionOf, packageOf, selfTime, shareLines } from './cpu-profile.ts';

const args = process.argv.slice(2);
const byPackage = args.includes('--by-package');
const [file, top] = args.filter((arg) => arg !== '--by-package');
process.stdout.write(shareLines(selfTime(file!, byPackage ? packageOf : functionOf), Number(top ?? 15)));
