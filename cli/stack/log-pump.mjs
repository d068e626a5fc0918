// Copies a detached server's output from a named pipe into rotated files, the way the deployables'
// logs rotate (runtime/logger.ts, pino-roll): `<name>.log` is written as `<name>.1.log`,
// `<name>.2.log`, … of <size> each, and only the newest <files> stay (cli/stack/processes.ts).
//   node cli/stack/log-pump.mjs <fifo> <dir>/<name>.log <size, e.g. 20m> <files>
// It ends when the server closes its output (it exits or is stopped), and ignores the signals a
// terminal sends, so it never takes the server's output away while the server runs.
import { createReadStream } from 'node:fs';
import { join, parse } from 'node:path';
import pinoRoll from 'pino-roll';

const [fifo, file, size, files] = process.argv.slice(2);
if (!fifo || !file || !size || !(Number(files) >= 1)) {
  process.stderr.write('usage: node cli/stack/log-pump.mjs <fifo> <log file> <size> <files>\n');
  process.exit(64);
}
for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM']) process.on(signal, () => undefined);

const { dir, name, ext } = parse(file);
const out = await pinoRoll({
  file: join(dir, name),
  extension: ext || '.log',
  size,
  limit: { count: Number(files) - 1 },
  mkdir: true,
});
// Backpressure: pino-roll rolls a file only when its writer drains (has written everything it was
// given); a server writing without pause would otherwise keep one file growing.
const input = createReadStream(fifo, { encoding: 'utf8' });
input.on('data', (text) => {
  if (!out.write(text)) {
    input.pause();
    out.once('drain', () => input.resume());
  }
});
input.on('end', () => out.end());
