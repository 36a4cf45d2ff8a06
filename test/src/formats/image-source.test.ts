/**
 * ImageSource: the files of a raw or split image read as one stream, judged against the bytes
 * coreutils split(1) cut; parts opened as they are reached (a few at a time), a part that shrank
 * or was replaced refused, the files read protected as evidence.
 */
import { closeSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageSource } from '../../../src/formats/image-source';
import { openExistingForWrite } from '../../../src/fsutil';
import { splitSetFixture, splitWithCoreutils, thrown, thrownSync } from '../image-support';

const MiB = 1024 * 1024;
const SIZE = 3.5 * MiB + 123;
const fx = splitSetFixture('image-source', SIZE, MiB, 51);

describe('ImageSource', () => {
  test('reads across parts as one stream: every position and length equals the source bytes', async () => {
    const s = ImageSource.ofFiles(fx.parts[1]!, fx.parts, 'split', { ownOutput: true });
    try {
      expect(s.size).toBe(SIZE);
      expect(s.parts).toEqual(fx.parts.map((p, i) => ({ path: p, size: i < 3 ? MiB : SIZE - 3 * MiB })));
      expect(s).toMatchObject({ format: 'split', sectorSize: 512, storedHashes: {}, caseFields: {}, readErrors: [], directFds: [] });
      for (const [position, length] of [
        [0, 10],
        [MiB - 5, 10],
        [MiB - 5, MiB + 10], // three parts in one read
        [3 * MiB, SIZE - 3 * MiB],
        [SIZE - 1, 1],
        [0, SIZE],
      ] as const) {
        const view = new Uint8Array(length);
        expect(await s.readFully(view, position)).toEqual([]);
        expect(Buffer.from(view).equals(fx.data.subarray(position, position + length))).toBe(true);
      }
      const e = await thrown(() => s.readFully(new Uint8Array(10), SIZE - 5));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toBe(`${fx.parts[1]}: read past the end of the image at byte ${SIZE}`);
    } finally {
      s.close();
    }
  });

  test('a part that shrinks after opening is an IO_ERROR naming it', async () => {
    const dir = fx.folder('shrink');
    const parts = splitWithCoreutils(fx.media, dir, 's', MiB);
    const s = ImageSource.ofFiles(parts[0]!, parts, 'split', { ownOutput: true });
    try {
      truncateSync(parts[2]!, 1000);
      const e = await thrown(() => s.readFully(new Uint8Array(MiB), 2 * MiB));
      expect(e.code).toBe('IO_ERROR');
      expect(e.message).toBe(`${parts[2]}: shorter than when it was opened (ends at byte 1000)`);
    } finally {
      s.close();
    }
  });

  test('a part replaced by another file after opening is refused (IO_ERROR naming it), never read', async () => {
    const dir = fx.folder('replaced');
    const parts = splitWithCoreutils(fx.media, dir, 'r', MiB);
    const s = ImageSource.ofFiles(parts[0]!, parts, 'split', { ownOutput: true });
    try {
      const other = join(dir, 'other');
      writeFileSync(other, Buffer.alloc(MiB, 0x41));
      renameSync(other, parts[2]!);
      const e = await thrown(() => s.readFully(new Uint8Array(MiB), 2 * MiB));
      expect(e.code).toBe('IO_ERROR');
      expect(e.message).toBe(`${parts[2]}: replaced by another file since the image was opened`);
    } finally {
      s.close();
    }
  });

  test('a set of many parts is read with a few files open at a time, and close() closes them all', async () => {
    const dir = fx.folder('many-parts');
    const parts = splitWithCoreutils(fx.media, dir, 'm', 64 << 10);
    expect(parts.length).toBeGreaterThan(40);
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const s = ImageSource.ofFiles(parts[0]!, parts, 'split', { ownOutput: true });
    const view = new Uint8Array(SIZE);
    expect(await s.readFully(view, 0)).toEqual([]);
    expect(Buffer.from(view).equals(fx.data)).toBe(true);
    expect(openFds() - before).toBeLessThanOrEqual(8);
    s.close();
    expect(openFds()).toBe(before);
  });

  test('files it reads are evidence: writing them is refused (UNSAFE_OUTPUT), unless they are custos\'s own output', () => {
    const dir = fx.folder('protect');
    const parts = splitWithCoreutils(fx.media, dir, 'p', MiB);
    const own = ImageSource.ofFiles(parts[0]!, parts.slice(0, 2), 'split', { ownOutput: true });
    own.close();
    const fd = openExistingForWrite(parts[0]!);
    closeSync(fd);
    const s = ImageSource.ofFiles(parts[0]!, parts, 'split');
    s.close();
    const e = thrownSync(() => openExistingForWrite(parts[1]!));
    expect(e.code).toBe('UNSAFE_OUTPUT');
    expect(e.message).toBe(`${parts[1]} is evidence being read; it is never a write target`);
  });

  test('a folder or a missing file among the parts is refused with its code', () => {
    const dir = fx.folder('bad-parts');
    expect(thrownSync(() => ImageSource.ofFiles(dir, [fx.parts[0]!, dir], 'split')).code).toBe('IS_DIRECTORY');
    const missing = join(dir, 'nope.002');
    const e = thrownSync(() => ImageSource.ofFiles(missing, [fx.parts[0]!, missing], 'split'));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toBe(`${missing}: no such file or directory`);
  });
});

