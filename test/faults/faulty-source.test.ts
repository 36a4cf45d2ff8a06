/**
 * The fault-injection harness itself, checked with coreutils' dd: exact 512-byte error ranges on
 * the direct-I/O loop device, expected bytes equal to what dd reads with the bad sectors
 * zero-filled, a source that fails or disconnects and comes back, and a stop that ends exactly
 * the processes it started and detaches its loop device. Needs root (skips saying why).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { ddrescueMap, faultSkipReason, FaultySource, isAlive, mergeRanges, stopAll } from './faulty-source';

const skip = faultSkipReason({ loop: true });
if (skip) test.skip(`fault-injection harness tests skipped: ${skip}`, () => undefined);

/** dd of one 512-byte sector with O_DIRECT: true when it reads. */
function readsSector(path: string, sector: number): boolean {
  return spawnSync('dd', [`if=${path}`, 'of=/dev/null', 'bs=512', `skip=${sector}`, 'count=1', 'iflag=direct', 'status=none']).status === 0;
}

/** The whole device through dd with failing 512-byte blocks zero-filled (conv=noerror,sync), as sha256. */
function ddSha256(path: string): string {
  const r = spawnSync('dd', [`if=${path}`, 'bs=512', 'iflag=direct', 'conv=noerror,sync', 'status=none'], { maxBuffer: 64 << 20 });
  return createHash('sha256').update(r.stdout).digest('hex');
}

describe('ranges and mapfile', () => {
  test('ranges are sorted and merged; outside ranges are refused', () => {
    expect(mergeRanges([{ offset: 4096, length: 512 }, { offset: 0, length: 512 }, { offset: 4352, length: 1024 }], 8192)).toEqual([
      { offset: 0, length: 512 },
      { offset: 4096, length: 1280 },
    ]);
    expect(() => mergeRanges([{ offset: 8000, length: 512 }], 8192)).toThrow(/not inside/);
    expect(() => mergeRanges([{ offset: 0, length: 0 }], 8192)).toThrow(/not inside/);
  });

  test('the ddrescue mapfile lists the gaps as + and the ranges as -', () => {
    expect(ddrescueMap([{ offset: 512, length: 1024 }], 4096).split('\n').slice(4)).toEqual(['0x0\t0x200\t+', '0x200\t0x400\t-', '0x600\t0xA00\t+', '']);
  });
});

(skip ? describe.skip : describe)('served through nbdkit, nbdfuse and a loop device', () => {
  afterAll(stopAll);

  test('bad sectors are exact to 512 bytes on the loop device; expected bytes match dd; fail, heal, disconnect, reconnect, stop', () => {
    const MiB = 1 << 20;
    const s = FaultySource.start({ size: 2 * MiB, bad: [{ offset: MiB + 512, length: 1024 }], loop: true });
    const loop = s.loop!;
    expect(loop).toMatch(/^\/dev\/loop\d+$/);
    expect(readFileSync(`/sys/block/${loop.slice(5)}/loop/backing_file`, 'utf8').trim()).toBe(s.file);
    expect([2048, 2049, 2050, 2051].map((n) => readsSector(loop, n))).toEqual([true, false, false, true]);
    expect(readsSector(s.file, 2049)).toBe(false);

    const want = s.expectedBytes();
    expect(want.subarray(MiB + 512, MiB + 1536).every((b) => b === 0)).toBe(true);
    expect(want.subarray(0, 4096).some((b) => b !== 0)).toBe(true);
    expect(ddSha256(loop)).toBe(s.expectedHashes(['sha256']).sha256);
    const head = Buffer.alloc(MiB);
    const fd = openSync(s.file, 'r');
    expect(readSync(fd, head, 0, MiB, 0)).toBe(MiB);
    closeSync(fd);
    expect(head.equals(want.subarray(0, MiB))).toBe(true);

    s.fail();
    expect(readsSector(loop, 7)).toBe(false);
    expect(readsSector(s.file, 7)).toBe(false);
    s.heal();
    expect(readsSector(loop, 7)).toBe(true);

    const first = s.pids;
    expect(first).toHaveLength(2);
    s.disconnect('server');
    expect(readsSector(loop, 9)).toBe(false);
    s.reconnect();
    expect(first.every((p) => !isAlive(p))).toBe(true);
    expect(s.pids).toHaveLength(2);
    expect(s.loop).toMatch(/^\/dev\/loop\d+$/);
    expect(readsSector(s.loop!, 9)).toBe(true);
    expect(readsSector(s.loop!, 2049)).toBe(false);
    expect(ddSha256(s.loop!)).toBe(s.expectedHashes(['sha256']).sha256);

    s.disconnect('fuse');
    const dead = spawnSync('stat', [s.file], { encoding: 'utf8' });
    expect(dead.stderr).toMatch(/Transport endpoint is not connected/);
    s.reconnect();
    expect(readsSector(s.file, 9)).toBe(true);

    const started = s.startedPids;
    const lastLoop = s.loop!;
    expect(started).toHaveLength(6);
    s.stop();
    expect(started.filter(isAlive)).toEqual([]);
    const backing = `/sys/block/${lastLoop.slice(5)}/loop/backing_file`;
    expect(existsSync(backing) ? readFileSync(backing, 'utf8').trim() : '').not.toBe(s.file);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(s.dir);
    expect(existsSync(s.dir)).toBe(false);
  });
});
