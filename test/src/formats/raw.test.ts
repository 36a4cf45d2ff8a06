/**
 * The raw format as a registry module: what it declares, and that open/create/resume give the
 * file's bytes back exactly (judged by cmp and coreutils).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawFormat } from '../../../src/formats/raw';
import type { ImageLayout } from '../../../src/formats/types';
import { openExistingForWrite } from '../../../src/fsutil';
import { digestOf, makeTempDir, pseudoRandomBytes, sameBytes } from '../../helpers';
import { bytesDigest, thrownSync } from '../image-support';

const SIZE = 1024 * 1024 + 777;
let tmp: ReturnType<typeof makeTempDir>;
let media: string;
let data: Buffer;
beforeAll(() => {
  tmp = makeTempDir('custos-raw-');
  media = join(tmp.dir, 'disk.img');
  data = pseudoRandomBytes(SIZE, 61);
  writeFileSync(media, data);
});
afterAll(() => tmp.cleanup());

test('declares: raw, files hold the media, no stored algorithms, no checks, no segments, no settings', () => {
  const layout: ImageLayout = { dir: tmp.dir, base: 'x', format: 'raw', splitSize: 1, totalSize: 12345 };
  expect(rawFormat.name).toBe('raw');
  expect(rawFormat.filesHoldMedia).toBe(true);
  expect(rawFormat.requiredAlgorithms).toEqual([]);
  expect(() => rawFormat.check(layout, { sectorSize: 512, segmentSize: 1 })).not.toThrow();
  expect(rawFormat.mediaSegmentSize(layout)).toBe(0);
  expect(rawFormat.settings(layout, { compression: 'best', segmentSize: 5 })).toEqual({});
  expect(rawFormat.detect('anything', Buffer.from('EVF'))).toBe(true);
  const named = (n: string) => rawFormat.extensions.some((e) => e.test(n));
  expect(['a.raw', 'a.DD', 'a.img', 'a.bin'].map(named)).toEqual([true, true, true, true]);
  expect(['a.E01', 'a.001', 'a.iso'].map(named)).toEqual([false, false, false]);
});

test('open gives a MediaImage whose bytes are the file\'s (md5sum agrees), with nothing stored', async () => {
  const image = rawFormat.open(media);
  try {
    expect(image).toMatchObject({ format: 'raw', size: SIZE, sectorSize: 512, parts: [{ path: media, size: SIZE }], storedHashes: {}, caseFields: {}, readErrors: [], path: media });
    const view = new Uint8Array(SIZE);
    expect(await image.readFully(view, 0)).toEqual([]);
    expect(bytesDigest('md5sum', view)).toBe(digestOf('md5sum', media));
  } finally {
    image.close();
  }
  // Opened as evidence: custos will not write it afterwards.
  expect(thrownSync(() => openExistingForWrite(media)).code).toBe('UNSAFE_OUTPUT');
});

test('open with ownOutput (a partial image read back on --resume) does not make it evidence', () => {
  const own = join(tmp.dir, 'own.raw.partial');
  writeFileSync(own, data.subarray(0, 4096));
  rawFormat.open(own, { ownOutput: true }).close();
  require('node:fs').closeSync(openExistingForWrite(own));
});

test('create, write, finish, commit: BASE.raw equal to the source (cmp)', async () => {
  const dir = join(tmp.dir, 'out');
  mkdirSync(dir);
  const layout: ImageLayout = { dir, base: 'copy', format: 'raw', splitSize: 2 ** 31, totalSize: SIZE };
  const w = await rawFormat.create(layout, { sectorSize: 512, toolVersion: 't', os: 'Linux', acquired: new Date(0), now: new Date(0), utcOffsetMinutes: 0 });
  await w.write(data.subarray(0, 500_000), 0);
  await w.write(data.subarray(500_000), 500_000);
  expect(rawFormat.partialBytes!(layout)).toBe(SIZE);
  await w.finish();
  await w.commit();
  expect(readdirSync(dir)).toEqual(['copy.raw']);
  expect(sameBytes(join(dir, 'copy.raw'), media)).toBe(true);
});

test('resume through the module: cut back, continued, equal to the source', async () => {
  const dir = join(tmp.dir, 'resume');
  mkdirSync(dir);
  const layout: ImageLayout = { dir, base: 'copy', format: 'raw', splitSize: 2 ** 31, totalSize: SIZE };
  const w1 = await rawFormat.create(layout, { sectorSize: 512, toolVersion: 't', os: 'Linux', acquired: new Date(0), now: new Date(0), utcOffsetMinutes: 0 });
  await w1.write(data.subarray(0, 900_000), 0);
  await w1.close();
  const w = rawFormat.resume!(layout, 600_000);
  expect(rawFormat.partialBytes!(layout)).toBe(600_000);
  await w.write(data.subarray(600_000), 600_000);
  await w.finish();
  await w.commit();
  expect(sameBytes(join(dir, 'copy.raw'), media)).toBe(true);
});
