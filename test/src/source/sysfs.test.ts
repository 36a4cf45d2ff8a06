/**
 * Reading sysfs attributes as untrusted input (src/source/sysfs.ts): bounded to a page, never
 * hanging on a FIFO, never following a link, cleaned of padding and control characters. The same
 * on whole hostile trees through blockDeviceInfo: device.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanText, optional, readBounded, readInt, readText, realpathOrUndefined, safeReaddir, SYSFS_READ_LIMIT } from '../../../src/source/sysfs';
import { makeTempDir } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-sysfs-');
});
afterAll(() => tmp.cleanup());
let n = 0;
function attr(data: string | Buffer): string {
  const p = join(tmp.dir, `a${n++}`);
  writeFileSync(p, data);
  return p;
}

test('an attribute is read up to a page and no further', () => {
  const big = Buffer.alloc(3 * SYSFS_READ_LIMIT, 0x41);
  expect(readBounded(attr(big))).toEqual(big.subarray(0, SYSFS_READ_LIMIT));
  expect(readBounded(attr(big), 10)).toEqual(big.subarray(0, 10));
  expect(readBounded(attr(''))).toEqual(Buffer.alloc(0));
});

test('a FIFO does not hang, a link is not followed, a folder or a missing file is nothing', () => {
  const fifo = join(tmp.dir, 'fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const t0 = Date.now();
  expect(readBounded(fifo)).toBeUndefined();
  expect(Date.now() - t0).toBeLessThan(1000);
  const target = attr('value\n');
  const link = join(tmp.dir, 'link');
  symlinkSync(target, link);
  expect(readText(target)).toBe('value');
  expect(readBounded(link)).toBeUndefined();
  const loop = join(tmp.dir, 'loop');
  symlinkSync('loop', loop);
  expect(readBounded(loop)).toBeUndefined();
  expect(readBounded(tmp.dir)).toBeUndefined();
  expect(readBounded(join(tmp.dir, 'absent'))).toBeUndefined();
});

test('text: padding and NULs trimmed, control characters shown as "?", empty as nothing', () => {
  expect(cleanText('  WDC WD5000\0\0\0\n')).toBe('WDC WD5000');
  expect(cleanText('EVIL\x1b[2J\x07X\n')).toBe('EVIL?[2J?X');
  expect(cleanText('\0\0 \n')).toBeUndefined();
  expect(readText(attr('   \n'))).toBeUndefined();
  expect(readText(attr(Buffer.from([0x53, 0xe9, 0x0a])))).toBe('S\u00e9');
});

test('counts: decimal digits only, at most 15 of them', () => {
  expect(readInt(attr('976773168\n'))).toBe(976773168);
  expect(readInt(attr('0x200\n'))).toBeUndefined();
  expect(readInt(attr('-1\n'))).toBeUndefined();
  expect(readInt(attr(`${'9'.repeat(15)}\n`))).toBe(999_999_999_999_999);
  expect(readInt(attr(`${'9'.repeat(16)}\n`))).toBeUndefined();
  expect(readInt(join(tmp.dir, 'absent'))).toBeUndefined();
});

test('folders and links that are not there are nothing, not errors; absent attributes stay absent', () => {
  const dir = join(tmp.dir, 'holders');
  mkdirSync(dir);
  writeFileSync(join(dir, 'dm-0'), '');
  expect(safeReaddir(dir)).toEqual(['dm-0']);
  expect(safeReaddir(join(tmp.dir, 'absent'))).toEqual([]);
  expect(realpathOrUndefined(join(tmp.dir, 'absent'))).toBeUndefined();
  const loop = join(tmp.dir, 'loop2');
  symlinkSync('loop2', loop);
  expect(realpathOrUndefined(loop)).toBeUndefined();
  expect(optional('serial', undefined)).toEqual({});
  expect(optional('serial', '')).toEqual({ serial: '' });
});
