/**
 * Telling a source that went away from one with bad sectors (src/source/disconnect.ts): the errno
 * tables (also by Linux number, for errnos Node has no name for), the path no longer leading to
 * what was opened (a file replaced or removed; a loop device detached or resized, root), the canary
 * that read fine before failing now, and the error's hint with and without --resume. End to end,
 * with real disconnections, in test/root/disconnect.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CustosError, isCustosError } from '../../../src/errors';
import { describeErrno, DisconnectWatch, errnoName, isDisconnectError, isMediaError } from '../../../src/source/disconnect';
import { hasTool, isRoot, makeTempDir, pseudoRandomBytes } from '../../helpers';

/** An error as Node's fs gives it: a name it knows, or only the (negative) number. */
const errno = (code: string | undefined, num: number, message = `${code ?? 'Unknown system error'}: ${code ?? num}`) =>
  Object.assign(new Error(message), { ...(code ? { code } : {}), errno: -num });

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
  tmp = makeTempDir('custos-disconnect-');
});
afterAll(() => tmp.cleanup());
let n = 0;
/** A fresh source file, opened read-only; closed after the test. */
const opened: number[] = [];
afterEach(() => opened.splice(0).forEach((fd) => closeSync(fd)));
function source(data: Buffer): { path: string; fd: number } {
  const path = join(tmp.dir, `src-${n++}`);
  writeFileSync(path, data);
  const fd = openSync(path, 'r');
  opened.push(fd);
  return { path, fd };
}

describe('errno tables', () => {
  test('media errors are bad sectors; disconnection errors are a source gone; anything else is neither', () => {
    for (const c of ['EIO', 'ENODATA', 'EBADMSG', 'EILSEQ', 'EREMOTEIO', 'ETIMEDOUT']) expect([c, isMediaError(errno(c, 0)), isDisconnectError(errno(c, 0))]).toEqual([c, true, false]);
    for (const c of ['ENODEV', 'ENXIO', 'ENOMEDIUM', 'ENOTCONN', 'ESHUTDOWN', 'ECONNRESET', 'EPIPE', 'ESTALE', 'ENETDOWN']) {
      expect([c, isMediaError(errno(c, 0)), isDisconnectError(errno(c, 0))]).toEqual([c, false, true]);
    }
    for (const c of ['EINVAL', 'EACCES', 'ENOENT', 'EBADF']) expect([c, isMediaError(errno(c, 0)), isDisconnectError(errno(c, 0))]).toEqual([c, false, false]);
    expect(isMediaError(undefined)).toBe(false);
    expect(isMediaError(new Error('no errno'))).toBe(false);
  });

  test('errnos Node has no name for are known by their Linux number (errno-base.h, errno.h)', () => {
    expect(errnoName(errno(undefined, 123))).toBe('ENOMEDIUM');
    expect(errnoName(errno(undefined, 121))).toBe('EREMOTEIO');
    expect(errnoName(errno(undefined, 108))).toBe('ESHUTDOWN');
    expect(isDisconnectError(errno(undefined, 123))).toBe(true);
    expect(isMediaError(errno(undefined, 61))).toBe(true);
    expect(errnoName(errno(undefined, 9999))).toBe('');
    // A name Node gives wins over the number.
    expect(errnoName(errno('ENOTCONN', 5))).toBe('ENOTCONN');
  });

  test('described for a one-line reason: the name and what the system said', () => {
    expect(describeErrno(errno('ENOTCONN', 107, 'ENOTCONN: socket is not connected, read'))).toBe('ENOTCONN (socket is not connected)');
    expect(describeErrno(errno(undefined, 123, 'Unknown system error -123'))).toBe('ENOMEDIUM');
    expect(describeErrno(new Error('whatever'))).toBe('an error');
  });
});

describe('a regular file', () => {
  const OPTIONS = { sectorSize: 512 };

  test('still there: nothing vanished; replaced by another file, or removed: said so', () => {
    const { path, fd } = source(Buffer.alloc(4096, 1));
    const w = DisconnectWatch.of(path, 'file', fd, fd, OPTIONS);
    expect(w.vanished()).toBeUndefined();
    const other = join(tmp.dir, `other-${n++}`);
    writeFileSync(other, Buffer.alloc(4096, 1));
    renameSync(other, path);
    expect(w.vanished()).toBe(`${path} is now another file (its file system was unmounted or replaced)`);
    rmSync(path);
    expect(w.vanished()).toBe(`${path} can no longer be looked up: ENOENT (no such file or directory)`);
  });

  test('the canary: without one nothing can be told; one that still reads says the source is alive', async () => {
    const data = pseudoRandomBytes(8192, 5);
    const { path, fd } = source(data);
    const w = DisconnectWatch.of(path, 'file', fd, fd, OPTIONS);
    const scratch = new Uint8Array(4096);
    await expect(w.checkCanary(scratch, 0, 100)).resolves.toBeUndefined();
    // A read of bytes 0..1300 read fine: its last whole sector, 512..1024, is the canary.
    w.readFine(0, 1300);
    await expect(w.checkCanary(scratch, 1024, 5000)).resolves.toBeUndefined();
    expect(Buffer.from(scratch.subarray(1024, 1536)).equals(data.subarray(512, 1024))).toBe(true);
    // No room in the scratch space: it cannot tell, and does not pretend to.
    await expect(w.checkCanary(scratch, 4000, 5000)).resolves.toBeUndefined();
  });

  test('a canary that read fine before and now ends early: SOURCE_DISCONNECTED, at the offset that failed', async () => {
    const { path, fd } = source(pseudoRandomBytes(8192, 6));
    const w = DisconnectWatch.of(path, 'file', fd, fd, { sectorSize: 512, recover: true });
    w.readFine(4096, 4096);
    truncateSync(path, 1000);
    const e = await rejection(w.checkAlive(new Uint8Array(512), 0, 6000, errno('EINVAL', 22)));
    expect(e.code).toBe('SOURCE_DISCONNECTED');
    expect(e.message).toBe(`${path}: the source stopped answering at byte 6000: reads fail everywhere, even at byte 7680, which read fine before (it ends early)`);
    expect(e.hint).toContain('--resume');
  });

  test('a disconnection errno is enough, whatever else holds; without --resume the hint says to run again', async () => {
    const { path, fd } = source(Buffer.alloc(1024));
    const hashing = DisconnectWatch.of(path, 'file', fd, fd, { sectorSize: 512, recover: false });
    const e = await rejection(hashing.checkAlive(new Uint8Array(512), 0, 512, errno('ENOTCONN', 107, 'ENOTCONN: socket is not connected, read')));
    expect(e.message).toBe(`${path}: the source stopped answering at byte 512: reads fail with ENOTCONN (socket is not connected)`);
    expect(e.hint).not.toContain('--resume');
    expect(e.hint).toContain('run the same command again');
    const resumable = DisconnectWatch.of(path, 'file', fd, fd, { sectorSize: 512, recover: false, resumable: true });
    expect(resumable.disconnected(0, 'x').hint).toContain('--resume');
    // Not a disconnection, nothing vanished, no canary: it cannot tell, and returns.
    await expect(hashing.checkAlive(new Uint8Array(512), 0, 512, errno('EINVAL', 22))).resolves.toBeUndefined();
  });
});

const skipLoop = isRoot ? (hasTool('losetup') ? undefined : 'losetup missing (util-linux)') : 'not root (loop devices need root; CI runs as root)';
if (skipLoop) test.skip(`block-device disconnection tests skipped: ${skipLoop}`, () => undefined);

(skipLoop ? describe.skip : describe)('a block device (a loop device, root)', () => {
  test("the kernel's size of the device, from sysfs: changed, or no medium once detached", () => {
    const backing = join(tmp.dir, `disk-${n++}.img`);
    writeFileSync(backing, Buffer.alloc(1 << 20));
    const loop = spawnSync('losetup', ['-f', '--show', '-r', backing], { encoding: 'utf8' }).stdout.trim();
    expect(loop).toMatch(/^\/dev\/loop\d+$/);
    try {
      // Opened, as SourceReader opens it, then closed: a device in use is only detached once closed.
      const fd = openSync(loop, 'r');
      const w = DisconnectWatch.of(loop, 'block-device', fd, fd, { sectorSize: 512 });
      closeSync(fd);
      expect(w.vanished()).toBeUndefined();
      truncateSync(backing, 1 << 19);
      expect(spawnSync('losetup', ['-c', loop]).status).toBe(0);
      expect(w.vanished()).toBe(`the device's size changed from ${1 << 20} to ${1 << 19} bytes`);
      expect(spawnSync('losetup', ['-d', loop]).status).toBe(0);
      expect(w.vanished()).toBe('the device now reports no medium (size 0)');
    } finally {
      spawnSync('losetup', ['-d', loop]);
    }
  });
});
