// A detached process's output through the log pump (spawnDetached with `rotation`): written as
// numbered files of at most the size, only the newest kept, nothing lost from the newest, and the
// pump ends with the process.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'mocha';
import { until } from '../../test/support/processes.ts';
import { isAlive, newestLog, spawnDetached } from './processes.ts';

describe('server logs through the log pump', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'log-pump-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates at the size, keeps only the newest files, and ends with the process', async () => {
    // 4,000 lines of ~100 bytes (~400 kB) through files of 50 kB, 3 kept.
    const script =
      'BEGIN { pad = sprintf("%88s", ""); gsub(/ /, ".", pad); for (i = 1; i <= 4000; i++) printf "line %05d %s\\n", i, pad }';
    const pid = spawnDetached('awk', [script], {
      logFile: join(dir, 'server.log'),
      rotation: { size: '50k', files: 3 },
    });
    await until('the process to finish', async () => !isAlive(pid), 20_000);
    await until(
      'the last line in the newest file',
      async () => readFileSync(newestLog(join(dir, 'server.log')), 'utf8').includes('line 04000'),
      10_000,
    );
    const files = readdirSync(dir).filter((name) => /^server\.\d+\.log$/.test(name));
    assert.ok(files.length <= 3, `at most 3 files kept: ${files.join(', ')}`);
    const newestNumber = Number(/^server\.(\d+)\.log$/.exec(basename(newestLog(join(dir, 'server.log'))))?.[1]);
    // ~400 kB in files of at most (50 + 64) kB: at least 4 files were written, the first ones deleted.
    assert.ok(newestNumber >= 4, `it rotated (newest file number ${newestNumber})`);
    // A file may pass the size by what one read of the pipe brings (64 kB at most) before it rolls.
    for (const name of files) assert.ok(statSync(join(dir, name)).size <= (50 + 64) * 1024, `${name} near the size`);
    const newest = readFileSync(newestLog(join(dir, 'server.log')), 'utf8')
      .trimEnd()
      .split('\n');
    assert.match(newest.at(-1) ?? '', /^line 04000 \.+$/, 'whole lines, the last one last');
  });
});
