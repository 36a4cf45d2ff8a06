/**
 * Plain-file images: RawImageWriter (create, resume, finish, commit, partialBytes) judged by cmp
 * against what coreutils split(1) makes of the same bytes; the names of split sets past 999 segments (as split -a names them); segment size bounds.
 */
import { existsSync, linkSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkSegmentSize, imageFileNames, MAX_IMAGE_FILES, MIN_SEGMENT_BYTES, PARTIAL_SUFFIX, RawImageWriter, segmentCount } from '../../../src/formats/files';
import type { ImageLayout } from '../../../src/formats/types';
import { sameBytes } from '../../helpers';
import { splitSetFixture, thrownSync } from '../image-support';

const MiB = 1024 * 1024;
const SIZE = 3.5 * MiB + 123;
const fx = splitSetFixture('files', SIZE, MiB, 51);

const splitLayout = (dir: string, o: Partial<ImageLayout> = {}): ImageLayout => ({ dir, base: 'ev', format: 'split', splitSize: MiB, totalSize: SIZE, ...o });

/** Writes fx.data[from, to) in pieces of `piece` bytes, each awaited (as the pipeline does). */
async function writeRange(w: RawImageWriter, from: number, to: number, piece = 700_001): Promise<void> {
  for (let o = from; o < to; o += piece) await w.write(fx.data.subarray(o, Math.min(o + piece, to)), o);
}

describe('RawImageWriter, split layout', () => {
  test('create makes every part at once under .partial; pieces that cross segment boundaries land byte-exact; commit gives the final names', async () => {
    const dir = fx.folder('split');
    const w = RawImageWriter.create(splitLayout(dir));
    expect(fx.parts.length).toBe(4);
    expect(w.finalPaths).toEqual(['ev.001', 'ev.002', 'ev.003', 'ev.004'].map((x) => join(dir, x)));
    expect(readdirSync(dir).sort()).toEqual(['ev.001.partial', 'ev.002.partial', 'ev.003.partial', 'ev.004.partial']);
    expect(readdirSync(dir).map((f) => statSync(join(dir, f)).size)).toEqual([0, 0, 0, 0]);
    await writeRange(w, 0, SIZE);
    const files = await w.finish();
    expect(files).toEqual(
      w.finalPaths.map((p, i) => ({ name: `ev.00${i + 1}`, path: p, partialPath: p + PARTIAL_SUFFIX, size: i < 3 ? MiB : SIZE - 3 * MiB })),
    );
    // Finished but not committed: still the temporary names.
    expect(readdirSync(dir).every((f) => f.endsWith(PARTIAL_SUFFIX))).toBe(true);
    await w.commit();
    await w.close();
    expect(readdirSync(dir).sort()).toEqual(['ev.001', 'ev.002', 'ev.003', 'ev.004']);
    w.finalPaths.forEach((p, i) => expect(sameBytes(p, fx.parts[i]!)).toBe(true));
  });

  test('a single write spanning all four segments', async () => {
    const dir = fx.folder('one-write');
    const w = RawImageWriter.create(splitLayout(dir));
    await w.write(fx.data, 0);
    await w.finish();
    await w.commit();
    w.finalPaths.forEach((p, i) => expect(sameBytes(p, fx.parts[i]!)).toBe(true));
  });

  test('create refuses when a final or a partial file of the image exists, and says what to do', async () => {
    const dir = fx.folder('exists');
    writeFileSync(join(dir, 'ev.003'), 'x');
    const e1 = thrownSync(() => RawImageWriter.create(splitLayout(dir)));
    expect(e1.code).toBe('OUTPUT_EXISTS');
    expect(e1.message).toBe(`${join(dir, 'ev.003')} already exists; custos never overwrites an image`);
    expect(readFileSync(join(dir, 'ev.003'), 'utf8')).toBe('x');
    const dir2 = fx.folder('exists-partial');
    writeFileSync(join(dir2, 'ev.002.partial'), 'y');
    const e2 = thrownSync(() => RawImageWriter.create(splitLayout(dir2)));
    expect(e2.code).toBe('OUTPUT_EXISTS');
    expect(e2.hint).toContain('--resume');
    // Nothing was created before the refusal.
    expect(readdirSync(dir2)).toEqual(['ev.002.partial']);
  });

  test('resume cuts the partial files back to the offset; writing on from there gives the same files', async () => {
    const dir = fx.folder('resume');
    const layout = splitLayout(dir);
    const first = RawImageWriter.create(layout);
    await writeRange(first, 0, 2 * MiB + 300_000);
    await first.close(); // interrupted: nothing renamed
    expect([1, 2, 3, 4].map((i) => statSync(join(dir, `ev.00${i}.partial`)).size)).toEqual([MiB, MiB, 300_000, 0]);
    expect(RawImageWriter.partialBytes(layout)).toBe(2 * MiB + 300_000);
    // The journal says only 1.5 MiB were safely done: everything after is cut away.
    const resumeAt = 1.5 * MiB;
    const w = RawImageWriter.resume(layout, resumeAt);
    expect([1, 2, 3, 4].map((i) => statSync(join(dir, `ev.00${i}.partial`)).size)).toEqual([MiB, 0.5 * MiB, 0, 0]);
    expect(RawImageWriter.partialBytes(layout)).toBe(resumeAt);
    await writeRange(w, resumeAt, SIZE, 333_333);
    await w.finish();
    await w.commit();
    w.finalPaths.forEach((p, i) => expect(sameBytes(p, fx.parts[i]!)).toBe(true));
  });

  test('resume recreates a partial file that went missing, and refuses once the image was committed', async () => {
    const dir = fx.folder('resume-missing');
    const layout = splitLayout(dir);
    const first = RawImageWriter.create(layout);
    await writeRange(first, 0, MiB + 10);
    await first.close();
    unlinkSync(join(dir, 'ev.004.partial'));
    const w = RawImageWriter.resume(layout, MiB + 10);
    expect(existsSync(join(dir, 'ev.004.partial'))).toBe(true);
    await writeRange(w, MiB + 10, SIZE);
    await w.finish();
    await w.commit();
    w.finalPaths.forEach((p, i) => expect(sameBytes(p, fx.parts[i]!)).toBe(true));
    const e = thrownSync(() => RawImageWriter.resume(layout, 0));
    expect(e.code).toBe('OUTPUT_EXISTS');
    expect(e.message).toBe(`${join(dir, 'ev.001')} already exists, so the acquisition already completed`);
  });

  test('partialBytes counts the parts as one stream, stopping at the first short one', () => {
    const dir = fx.folder('partial-bytes');
    const layout = splitLayout(dir);
    expect(RawImageWriter.partialBytes(layout)).toBe(0); // nothing there: nothing to resume
    writeFileSync(join(dir, 'ev.001.partial'), Buffer.alloc(MiB));
    writeFileSync(join(dir, 'ev.002.partial'), Buffer.alloc(1000));
    writeFileSync(join(dir, 'ev.003.partial'), Buffer.alloc(MiB)); // after a gap: not counted
    expect(RawImageWriter.partialBytes(layout)).toBe(MiB + 1000);
    // A part longer than a segment counts as one segment.
    writeFileSync(join(dir, 'ev.002.partial'), Buffer.alloc(MiB + 7));
    expect(RawImageWriter.partialBytes(layout)).toBe(2 * MiB + MiB);
  });

  test('partialBytes refuses a symbolic link or a hard link planted in place of a partial file', () => {
    const dir = fx.folder('planted');
    const layout = splitLayout(dir);
    writeFileSync(join(dir, 'ev.001.partial'), Buffer.alloc(MiB));
    symlinkSync(fx.media, join(dir, 'ev.002.partial'));
    const e = thrownSync(() => RawImageWriter.partialBytes(layout));
    expect(e.code).toBe('UNSAFE_OUTPUT');
    expect(e.message).toBe(`${join(dir, 'ev.002.partial')} is a symbolic link, not the partial image custos wrote; --resume will not read or write it`);
    unlinkSync(join(dir, 'ev.002.partial'));
    linkSync(fx.media, join(dir, 'ev.002.partial'));
    const e2 = thrownSync(() => RawImageWriter.partialBytes(layout));
    expect(e2.code).toBe('UNSAFE_OUTPUT');
    expect(e2.message).toContain('a file with 2 hard links');
    expect(sameBytes(fx.media, join(dir, 'ev.002.partial'))).toBe(true);
  });
});

describe('RawImageWriter, raw layout', () => {
  test('one file BASE.raw, written in pieces out of any segment logic; equal to the source', async () => {
    const dir = fx.folder('raw');
    const layout: ImageLayout = { dir, base: 'disk', format: 'raw', splitSize: MiB, totalSize: SIZE };
    const w = RawImageWriter.create(layout);
    expect(w.finalPaths).toEqual([join(dir, 'disk.raw')]);
    await writeRange(w, 0, SIZE, 999_999);
    const files = await w.finish();
    expect(files).toEqual([{ name: 'disk.raw', path: join(dir, 'disk.raw'), partialPath: join(dir, 'disk.raw.partial'), size: SIZE }]);
    await w.commit();
    expect(readdirSync(dir)).toEqual(['disk.raw']);
    expect(sameBytes(join(dir, 'disk.raw'), fx.media)).toBe(true);
  });

  test('resume of a raw image keeps the first bytes and continues', async () => {
    const dir = fx.folder('raw-resume');
    const layout: ImageLayout = { dir, base: 'disk', format: 'raw', splitSize: MiB, totalSize: SIZE };
    const first = RawImageWriter.create(layout);
    await writeRange(first, 0, 3 * MiB);
    await first.close();
    expect(RawImageWriter.partialBytes(layout)).toBe(3 * MiB);
    const w = RawImageWriter.resume(layout, 2 * MiB + 5);
    expect(statSync(join(dir, 'disk.raw.partial')).size).toBe(2 * MiB + 5);
    await writeRange(w, 2 * MiB + 5, SIZE);
    await w.finish();
    await w.commit();
    expect(sameBytes(join(dir, 'disk.raw'), fx.media)).toBe(true);
  });
});

describe('names and counts of image files', () => {
  const names = (totalSize: number, splitSize = 1) => imageFileNames({ base: 'b', format: 'split', splitSize, totalSize });
  /** The names split(1) gives `count` one-byte segments with `width` digits, numbered from 1. */
  const coreutilsNames = (count: number, width: number) => {
    const dir = fx.folder(`names-${count}`);
    writeFileSync(join(dir, 'src'), Buffer.alloc(count));
    expect(spawnSync('split', ['-b', '1', '--numeric-suffixes=1', '-a', String(width), join(dir, 'src'), join(dir, 'b.')]).status).toBe(0);
    return readdirSync(dir).filter((f) => f !== 'src').sort();
  };

  test('raw: one file BASE.raw whatever the size', () => {
    expect(imageFileNames({ base: 'b', format: 'raw', splitSize: 1, totalSize: 10 ** 12 })).toEqual(['b.raw']);
    expect(segmentCount({ format: 'raw', splitSize: 1, totalSize: 10 ** 12 })).toBe(1);
  });

  test('split: at least one file; a partial last segment counts', () => {
    expect(names(0)).toEqual(['b.001']);
    expect(segmentCount({ format: 'split', splitSize: MiB, totalSize: 0 })).toBe(1);
    expect(segmentCount({ format: 'split', splitSize: MiB, totalSize: MiB })).toBe(1);
    expect(segmentCount({ format: 'split', splitSize: MiB, totalSize: MiB + 1 })).toBe(2);
  });

  test('999 segments keep three digits, as split -a 3 names them', () => {
    expect(names(999)).toEqual(coreutilsNames(999, 3));
    expect(names(999)[998]).toBe('b.999');
  });

  test('1000 segments take four digits, as split -a 4 names them; 10000 take five', () => {
    expect(names(1000)).toEqual(coreutilsNames(1000, 4));
    expect(names(1000)[0]).toBe('b.0001');
    expect(names(1000)[999]).toBe('b.1000');
    expect(names(9999).length).toBe(9999);
    expect(names(9999)[0]).toBe('b.0001');
    const ten = names(10_000);
    expect([ten[0], ten[9999]]).toEqual(['b.00001', 'b.10000']);
  });
});

describe('checkSegmentSize bounds', () => {
  test('1 MiB is the smallest accepted; below it is a USAGE error naming the flag', () => {
    expect(MIN_SEGMENT_BYTES).toBe(MiB);
    expect(() => checkSegmentSize('--split-size', MiB, 10 * MiB)).not.toThrow();
    const e = thrownSync(() => checkSegmentSize('--split-size', MiB - 1, 10 * MiB));
    expect(e.code).toBe('USAGE');
    expect(e.message).toBe(`--split-size ${MiB - 1} bytes is below the minimum of 1 MiB`);
  });

  test.each([NaN, Infinity, MiB + 0.5, -MiB, 2 ** 53])('%p is refused', (size) => {
    expect(thrownSync(() => checkSegmentSize('--segment-size', size, MiB)).code).toBe('USAGE');
  });

  test('a fraction of a byte is named as such, not as below the minimum', () => {
    expect(thrownSync(() => checkSegmentSize('--segment-size', MiB + 0.5, MiB)).message).toBe(`--segment-size ${MiB + 0.5} is not a whole number of bytes`);
  });

  test(`at most ${MAX_IMAGE_FILES} files: exactly that many is accepted, one more is refused with the smallest size that fits`, () => {
    expect(MAX_IMAGE_FILES).toBe(100_000);
    expect(() => checkSegmentSize('--split-size', MiB, 100_000 * MiB)).not.toThrow();
    const e = thrownSync(() => checkSegmentSize('--split-size', MiB, 100_000 * MiB + 1));
    expect(e.code).toBe('USAGE');
    expect(e.message).toBe(`--split-size ${MiB} would split ${100_000 * MiB + 1} bytes into 100001 files, more than 100000`);
    expect(e.hint).toBe(`Use a --split-size of at least ${Math.ceil((100_000 * MiB + 1) / 100_000)} bytes.`);
    // That size indeed fits.
    expect(() => checkSegmentSize('--split-size', Math.ceil((100_000 * MiB + 1) / 100_000), 100_000 * MiB + 1)).not.toThrow();
  });

  test('empty fx.media is one file, accepted', () => {
    expect(() => checkSegmentSize('--split-size', MiB, 0)).not.toThrow();
  });
});
