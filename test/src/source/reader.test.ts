/**
 * SourceReader (src/source/reader.ts): the exact bytes at any offset of a regular file and of a
 * block device (a loop device, root), the descriptors it opens (read-only, O_DIRECT where it
 * should be, as the kernel reports them in /proc/self/fdinfo), a source shorter than asked, the
 * source protected from writes once opened, and bad sectors on a real faulty source (the
 * repository's harness, test/faults: recovered and zero-filled, or failing when recovery is off).
 */
import { spawnSync } from 'node:child_process';
import { constants, readFileSync, readlinkSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CustosError, isCustosError } from '../../../src/errors';
import { assertWritable } from '../../../src/protect';
import { type ReaderOptions, SourceReader } from '../../../src/source/reader';
import { faultSkipReason, FaultySource, stopAll } from '../../faults/faulty-source';
import { hasTool, isRoot, makeTempDir, pseudoRandomBytes } from '../../helpers';

const MiB = 1024 * 1024;
const OPTIONS: ReaderOptions = { retries: 0, sectorSize: 512 };

/** The open flags of one of this process's descriptors, as the kernel reports them (octal in fdinfo). */
function fdFlags(fd: number): number {
  const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (!m) throw new Error(`no flags in /proc/self/fdinfo/${fd}`);
  return Number.parseInt(m[1]!, 8);
}
/** What a descriptor of this process is open on, or undefined when it is closed. */
function openOn(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}
const has = (flags: number, bit: number) => (flags & bit) === bit;
const accessMode = (flags: number) => flags & 3;

/**
 * A view of `length` bytes at an address O_DIRECT reads from `fd` accept. Node cannot ask for
 * aligned memory, so offsets into one buffer are tried until a direct read does not fail with EINVAL.
 */
function alignedView(fd: number, length: number): Uint8Array {
  const buffer = new ArrayBuffer(length + 4096);
  for (let offset = 0; offset < 4096; offset += 16) {
    const view = new Uint8Array(buffer, offset, length);
    try {
      readSync(fd, view, 0, Math.min(length, 8192), 0);
      return view;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
  }
  throw new Error('no address accepted for O_DIRECT');
}

async function rejection(p: Promise<unknown>): Promise<CustosError> {
  try {
    await p;
  } catch (e) {
    if (!isCustosError(e)) throw e;
    return e;
  }
  throw new Error('expected a CustosError');
}

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-reader-');
});
afterAll(() => tmp.cleanup());

describe('a regular file', () => {
  const SIZE = 3 * MiB + 777;
  const content = pseudoRandomBytes(SIZE, 0x7eade7);
  let path = '';
  beforeAll(() => {
    path = join(tmp.dir, 'source.bin');
    writeFileSync(path, content);
  });

  test('reads exactly the bytes at each offset, whatever the offset and length', async () => {
    const r = SourceReader.open(path, OPTIONS);
    try {
      expect(r.kind).toBe('file');
      const cases: [number, number][] = [
        [0, 1],
        [0, 4096],
        [1, 511],
        [511, 1026],
        [4095, 65_536 + 5],
        [MiB - 3, MiB + 7],
        [SIZE - 100, 100],
        [SIZE - 1, 1],
        [0, SIZE],
      ];
      for (const [offset, length] of cases) {
        const view = new Uint8Array(length);
        expect(await r.readFully(view, offset)).toEqual([]);
        expect(Buffer.from(view).equals(content.subarray(offset, offset + length))).toBe(true);
      }
      // A view into a larger buffer is filled in its own bytes only.
      const big = Buffer.alloc(300, 0xee);
      expect(await r.readFully(new Uint8Array(big.buffer, big.byteOffset + 100, 100), 12_345)).toEqual([]);
      expect(big.subarray(0, 100).every((b) => b === 0xee) && big.subarray(200).every((b) => b === 0xee)).toBe(true);
      expect(big.subarray(100, 200).equals(content.subarray(12_345, 12_445))).toBe(true);
    } finally {
      r.close();
    }
  });

  test('a source shorter than asked is an IO_ERROR saying where it ended', async () => {
    const r = SourceReader.open(path, OPTIONS);
    try {
      const e = await rejection(r.readFully(new Uint8Array(1000), SIZE - 10));
      expect(e.code).toBe('IO_ERROR');
      expect(e.message).toBe(`${path}: ended at byte ${SIZE}, before the expected ${SIZE - 10 + 1000}`);
      expect(e.hint).toContain('dmesg');
      expect((await rejection(r.readFully(new Uint8Array(1), SIZE))).message).toBe(`${path}: ended at byte ${SIZE}, before the expected ${SIZE + 1}`);
    } finally {
      r.close();
    }
  });

  test('descriptors: read-only, through the page cache for bulk reads, O_DIRECT for recovery where the file system allows; direct: false never', () => {
    const r = SourceReader.open(path, OPTIONS);
    const d = SourceReader.open(path, { ...OPTIONS, direct: false });
    try {
      const bulk = fdFlags(r.fd);
      expect(accessMode(bulk)).toBe(constants.O_RDONLY);
      expect(has(bulk, constants.O_DIRECT)).toBe(false);
      expect(r.direct).toBe(false);
      // Reading never changes the access time of the evidence where the kernel allows it (the owner, or root).
      expect(has(bulk, constants.O_NOATIME)).toBe(true);
      // Independently: coreutils dd opens the same file with O_DIRECT or cannot.
      const ddDirect = spawnSync('dd', [`if=${path}`, 'of=/dev/null', 'bs=4096', 'count=1', 'iflag=direct', 'status=none']).status === 0;
      expect(r.recoveryDirect).toBe(ddDirect);
      if (ddDirect) {
        expect(r.recoveryFd).not.toBe(r.fd);
        const rec = fdFlags(r.recoveryFd);
        expect(accessMode(rec)).toBe(constants.O_RDONLY);
        expect(has(rec, constants.O_DIRECT)).toBe(true);
        expect(r.directFds).toEqual([r.recoveryFd]);
      }
      expect(d.recoveryFd).toBe(d.fd);
      expect(d.directFds).toEqual([]);
      expect(has(fdFlags(d.fd), constants.O_DIRECT)).toBe(false);
    } finally {
      r.close();
      d.close();
    }
    // close() released both descriptors: neither is open on the source any more.
    for (const fd of [r.fd, r.recoveryFd, d.fd]) expect(openOn(fd)).not.toBe(path);
  });

  test('once opened, the source is evidence: a later write to it, or through a hard link, is refused', () => {
    const other = join(tmp.dir, 'protected.bin');
    writeFileSync(other, 'evidence');
    expect(() => assertWritable(other)).not.toThrow();
    const r = SourceReader.open(other, OPTIONS);
    r.close();
    expect(() => assertWritable(other)).toThrow(`${other} is evidence being read; it is never a write target`);
    const link = join(tmp.dir, 'link-to-protected.bin');
    spawnSync('ln', [other, link]);
    expect(() => assertWritable(link)).toThrow('through a hard link');
    expect(readFileSync(other, 'utf8')).toBe('evidence');
  });

  test('what is not there or not a source is refused before anything is opened', () => {
    expect(() => SourceReader.open(join(tmp.dir, 'absent'), OPTIONS)).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    expect(() => SourceReader.open(tmp.dir, OPTIONS)).toThrow(expect.objectContaining({ code: 'IS_DIRECTORY' }));
  });
});

const skipLoop = isRoot ? (hasTool('losetup') ? undefined : 'losetup missing (util-linux)') : 'not root (loop devices need root; CI runs as root)';
if (skipLoop) test.skip(`block-device reader tests skipped: ${skipLoop}`, () => undefined);

(skipLoop ? describe.skip : describe)('a block device (a read-only loop device, root)', () => {
  const SIZE = 4 * MiB;
  const content = pseudoRandomBytes(SIZE, 0xb10c);
  let backing = '';
  let loop = '';
  beforeAll(() => {
    backing = join(tmp.dir, 'disk.img');
    writeFileSync(backing, content);
    loop = spawnSync('losetup', ['-f', '--show', '-r', backing], { encoding: 'utf8' }).stdout.trim();
    expect(loop).toMatch(/^\/dev\/loop\d+$/);
  });
  afterAll(() => {
    if (loop) spawnSync('losetup', ['-d', loop]);
  });

  test('opened with O_DIRECT for every read; reads from an aligned address give exactly the bytes at each sector offset', async () => {
    const r = SourceReader.open(loop, OPTIONS);
    try {
      expect(r.kind).toBe('block-device');
      expect(r.direct).toBe(true);
      expect(r.recoveryFd).toBe(r.fd);
      expect(r.directFds).toEqual([r.fd]);
      const flags = fdFlags(r.fd);
      expect(accessMode(flags)).toBe(constants.O_RDONLY);
      expect(has(flags, constants.O_DIRECT)).toBe(true);
      const view = alignedView(r.fd, MiB);
      for (const [offset, length] of [
        [0, 512],
        [512, 4096],
        [3 * 4096, MiB],
        [SIZE - MiB, MiB],
        [SIZE - 512, 512],
      ] as const) {
        const part = view.subarray(0, length);
        expect(await r.readFully(part, offset)).toEqual([]);
        expect(Buffer.from(part).equals(content.subarray(offset, offset + length))).toBe(true);
      }
    } finally {
      r.close();
    }
  });

  test('an unaligned address is what O_DIRECT refuses (why callers align for directFds): the read fails, nothing is taken for a bad sector', async () => {
    const r = SourceReader.open(loop, OPTIONS);
    try {
      const aligned = alignedView(r.fd, 8192);
      const misaligned = new Uint8Array(aligned.buffer, aligned.byteOffset + 1, 4096);
      await expect(r.readFully(misaligned, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    } finally {
      r.close();
    }
  });

  test('direct: false reads through the page cache, the same bytes from any address', async () => {
    const r = SourceReader.open(loop, { ...OPTIONS, direct: false });
    try {
      expect(r.directFds).toEqual([]);
      expect(has(fdFlags(r.fd), constants.O_DIRECT)).toBe(false);
      const view = new Uint8Array(1001);
      expect(await r.readFully(view, 77)).toEqual([]);
      expect(Buffer.from(view).equals(content.subarray(77, 1078))).toBe(true);
    } finally {
      r.close();
    }
  });

  test('reading past the end of the device is an IO_ERROR saying where it ended', async () => {
    const r = SourceReader.open(loop, OPTIONS);
    try {
      const view = alignedView(r.fd, 8192);
      const e = await rejection(r.readFully(view, SIZE - 4096));
      expect(e.code).toBe('IO_ERROR');
      expect(e.message).toBe(`${loop}: ended at byte ${SIZE}, before the expected ${SIZE + 4096}`);
    } finally {
      r.close();
    }
  });

  test('once opened, the device and the file behind it are evidence: writes to either are refused', () => {
    const r = SourceReader.open(loop, OPTIONS);
    r.close();
    expect(() => assertWritable(loop)).toThrow('never a write target');
    expect(() => assertWritable(backing)).toThrow(`${backing} is evidence being read`);
  });
});

const skipFaults = faultSkipReason({ loop: true });
if (skipFaults) test.skip(`bad-sector reader tests skipped: ${skipFaults}`, () => undefined);

(skipFaults ? describe.skip : describe)('real unreadable sectors (test/faults: nbdkit, nbdfuse, a direct-I/O loop device)', () => {
  const BAD = { offset: MiB + 512, length: 1024 };
  let source: FaultySource;
  let want: Buffer;
  beforeAll(() => {
    source = FaultySource.start({ size: 2 * MiB, bad: [BAD], loop: true });
    want = source.expectedBytes();
  });
  afterAll(stopAll);

  test('recovered: the sectors that never read are zero-filled and reported exactly, every other byte is the source\'s', async () => {
    const r = SourceReader.open(source.loop!, OPTIONS);
    try {
      const view = alignedView(r.fd, 2 * MiB);
      expect(await r.readFully(view, 0)).toEqual([BAD]);
      expect(Buffer.from(view).equals(want)).toBe(true);
    } finally {
      r.close();
    }
  });

  test('recover: false fails on the media error, naming the source and the offset, instead of zero-filling', async () => {
    const r = SourceReader.open(source.loop!, { ...OPTIONS, recover: false });
    try {
      const view = alignedView(r.fd, 64 * 1024);
      // The sectors before the bad ones read fine (and become the canary that tells the source is alive).
      expect(await r.readFully(view, MiB - 64 * 1024)).toEqual([]);
      expect(Buffer.from(view).equals(want.subarray(MiB - 64 * 1024, MiB))).toBe(true);
      const e = await rejection(r.readFully(view, MiB));
      expect(e.code).toBe('IO_ERROR');
      expect(e.message).toMatch(new RegExp(`^${source.loop}: EIO while reading at byte offset ${MiB}: `));
    } finally {
      r.close();
    }
  });
});
