/**
 * The split format as a registry module: what it declares and checks, and that open (from any
 * segment of a set split(1) cut), create and describe agree byte for byte with coreutils.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { splitFormat } from '../../../src/formats/split';
import type { ImageLayout } from '../../../src/formats/types';
import { sameBytes } from '../../helpers';
import { splitSetFixture, thrownSync } from '../image-support';

const MiB = 1024 * 1024;
const SIZE = 2 * MiB + 5000;
const fx = splitSetFixture('splitfmt', SIZE, MiB, 71);

const layout = (o: Partial<ImageLayout> = {}): ImageLayout => ({ dir: fx.dir, base: 'ev', format: 'split', splitSize: MiB, totalSize: SIZE, ...o });

test('declares: split, files hold the fx.media, no stored algorithms; each segment hashed on its own; the split size recorded', () => {
  expect(splitFormat.name).toBe('split');
  expect(splitFormat.filesHoldMedia).toBe(true);
  expect(splitFormat.requiredAlgorithms).toEqual([]);
  expect(splitFormat.mediaSegmentSize(layout({ splitSize: 3 * MiB }))).toBe(3 * MiB);
  expect(splitFormat.settings(layout({ splitSize: 3 * MiB }), { compression: 'best', segmentSize: 7 })).toEqual({ splitSize: 3 * MiB });
  const named = (n: string) => splitFormat.extensions.some((e) => e.test(n));
  expect(['a.001', 'a.0000', 'a.aa', 'a.aab'].map(named)).toEqual([true, true, true, true]);
  expect(['a.1', 'a.01'].map(named)).toEqual([false, false]);
});

test('check refuses a split size below 1 MiB or one that makes more than 100000 files (USAGE), and accepts partial sectors', () => {
  expect(thrownSync(() => splitFormat.check(layout({ splitSize: MiB - 512 }), { sectorSize: 512 })).code).toBe('USAGE');
  const e = thrownSync(() => splitFormat.check(layout({ splitSize: MiB, totalSize: 100_001 * MiB }), { sectorSize: 512 }));
  expect(e.code).toBe('USAGE');
  expect(e.message).toContain('into 100001 files');
  expect(() => splitFormat.check(layout({ totalSize: SIZE + 3 }), { sectorSize: 512 })).not.toThrow();
});

test('detect: by name and siblings only', () => {
  expect(splitFormat.detect(fx.parts[1]!, Buffer.alloc(0))).toBe(true);
  expect(splitFormat.detect(fx.media, Buffer.alloc(0))).toBe(false);
});

test.each([0, 1, 2])('open from segment %d: the whole set in order, bytes equal to the source', async (i) => {
  const image = splitFormat.open(fx.parts[i]!);
  try {
    expect(image).toMatchObject({ format: 'split', size: SIZE, sectorSize: 512, storedHashes: {}, caseFields: {}, readErrors: [], path: fx.parts[i] });
    expect(image.parts).toEqual(fx.parts.map((p, k) => ({ path: p, size: k < 2 ? MiB : 5000 })));
    const view = new Uint8Array(SIZE);
    await image.readFully(view, 0);
    expect(Buffer.from(view).equals(fx.data)).toBe(true);
  } finally {
    image.close();
  }
});

test('create: BASE.001… equal to split(1) output, byte for byte', async () => {
  const dir = join(fx.dir, 'out');
  mkdirSync(dir);
  const l = layout({ dir });
  const w = await splitFormat.create(l, { sectorSize: 512, toolVersion: 't', os: 'Linux', acquired: new Date(0), now: new Date(0), utcOffsetMinutes: 0 });
  for (let o = 0; o < SIZE; o += 300_007) await w.write(fx.data.subarray(o, Math.min(SIZE, o + 300_007)), o);
  await w.finish();
  await w.commit();
  expect(readdirSync(dir).sort()).toEqual(['ev.001', 'ev.002', 'ev.003']);
  ['ev.001', 'ev.002', 'ev.003'].forEach((n, i) => expect(sameBytes(join(dir, n), fx.parts[i]!)).toBe(true));
});

test('describe lists the segments and the fx.media size without hashing', () => {
  expect(splitFormat.describe!(fx.parts[2]!)).toEqual({ kind: 'split', segments: fx.parts.map((p, k) => ({ path: p, size: k < 2 ? MiB : 5000 })), mediaSize: SIZE });
});
