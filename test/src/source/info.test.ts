/**
 * describeSource: what acquisition and `custos info` know of a source before reading it. A regular
 * file (512-byte sectors, no read-only flag, no mounts); a real loop device as root, its numbers
 * compared with blockdev(8) and its mounts with findmnt(8); hidden areas only when asked.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeSource } from '../../../src/source/info';
import { makeTempDir, pseudoRandomBytes } from '../../helpers';
import { Loops, loopSkipReason, sh } from './loop-support';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

describe('a regular file', () => {
  test.each([
    [0, 0],
    [1, 1],
    [511, 1],
    [512, 1],
    [513, 2],
    [1_000_000, 1954],
  ])('%i bytes: %i sectors of 512 bytes (the last may be partial), readOnly null, no mounts', (size, sectors) => {
    const p = join(tmp.dir, `f-${size}.img`);
    writeFileSync(p, pseudoRandomBytes(size, size + 1));
    expect(describeSource(p)).toEqual({
      path: p,
      realPath: realpathSync(p),
      kind: 'file',
      sizeBytes: size,
      logicalSectorSize: 512,
      physicalSectorSize: 512,
      sectors,
      readOnly: null,
      mounts: [],
    });
  });

  test('through a link: path as given, realPath resolved; hidden areas "not applicable" only when asked', () => {
    const p = join(tmp.dir, 'target.img');
    writeFileSync(p, Buffer.alloc(4096));
    const link = join(tmp.dir, 'via-link.img');
    symlinkSync(p, link);
    const info = describeSource(link);
    expect(info).toMatchObject({ path: link, realPath: realpathSync(p), sizeBytes: 4096, sectors: 8 });
    expect('hiddenAreas' in info).toBe(false);
    expect(describeSource(link, { hiddenAreas: true }).hiddenAreas).toEqual({ status: 'not-applicable', summary: 'not applicable (regular file)', reason: 'regular file' });
  });

  test('a missing path, a folder, a FIFO: the errors of the path, named', () => {
    expect(() => describeSource(join(tmp.dir, 'nope'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND', path: join(tmp.dir, 'nope') }));
    expect(() => describeSource(tmp.dir)).toThrow(expect.objectContaining({ code: 'IS_DIRECTORY', path: tmp.dir }));
    const fifo = join(tmp.dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    expect(() => describeSource(fifo)).toThrow(expect.objectContaining({ code: 'NOT_A_FILE', path: fifo }));
  });
});

const skipLoop = loopSkipReason(['losetup', 'blockdev', 'mount', 'mkfs.ext4', 'findmnt', 'sfdisk']);
if (skipLoop) test.skip(`loop-device describeSource tests skipped: ${skipLoop}`, () => undefined);

/** What findmnt(8) says is mounted from `source`: mount point, type and rw/ro. */
function findmnt(source: string): { mountPoint: string; fsType: string; readWrite: boolean }[] {
  const r = spawnSync('findmnt', ['-n', '-r', '-o', 'TARGET,FSTYPE,OPTIONS', '--source', source], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [mountPoint, fsType, options] = l.split(' ');
      return { mountPoint: mountPoint!.replace(/\\x20/g, ' '), fsType: fsType!, readWrite: options!.split(',').includes('rw') };
    });
}

(skipLoop ? describe.skip : describe)('a real loop device (root)', () => {
  const loops = new Loops();
  afterAll(() => loops.cleanup());

  test('4096-byte logical sectors, read-only: size, sector sizes, sectors and flag as blockdev reports them; hidden areas only when asked', () => {
    const backing = join(tmp.dir, 'ss4k.img');
    writeFileSync(backing, pseudoRandomBytes(3 << 20, 5));
    const dev = loops.attach(backing, { readOnly: true, sectorSize: 4096 });
    const info = describeSource(dev);
    const size = Number(sh('blockdev', ['--getsize64', dev]));
    expect(size).toBe(3 << 20);
    expect(info).toMatchObject({
      path: dev,
      realPath: dev,
      kind: 'block-device',
      sizeBytes: size,
      logicalSectorSize: Number(sh('blockdev', ['--getss', dev])),
      physicalSectorSize: Number(sh('blockdev', ['--getpbsz', dev])),
      readOnly: sh('blockdev', ['--getro', dev]) === '1',
      mounts: [],
      device: { name: dev.slice(5), loopBackingFile: backing, isPartition: false },
    });
    expect(info.logicalSectorSize).toBe(4096);
    expect(info.sectors).toBe((3 << 20) / 4096);
    expect(info.readOnly).toBe(true);
    expect('hiddenAreas' in info).toBe(false);
    expect(info.device!.hiddenAreas).toBeUndefined();
    const asked = describeSource(dev, { hiddenAreas: true });
    expect(asked.device!.hiddenAreas).toMatchObject({ status: 'not-applicable', reason: 'loop device' });
    // A device's hidden areas are the device's: no file-style entry at the top.
    expect('hiddenAreas' in asked).toBe(false);
  });

  test('read-write loop devices with file systems mounted read-only and read-write (a space in the mount point): the mounts as findmnt lists them', () => {
    const backing = join(tmp.dir, 'ext4.img');
    sh('truncate', ['-s', '16M', backing]);
    sh('mkfs.ext4', ['-q', '-F', backing]);
    const dev = loops.attach(backing);
    expect(describeSource(dev)).toMatchObject({ readOnly: false, mounts: [], sizeBytes: 16 << 20, logicalSectorSize: 512, sectors: 32768 });
    const ro = join(tmp.dir, 'mnt ro');
    mkdirSync(ro);
    loops.mount(dev, ro, 'ro');
    const rw = join(tmp.dir, 'mnt-rw');
    mkdirSync(rw);
    // A second file system on a second loop device, mounted read-write.
    const other = join(tmp.dir, 'ext4-rw.img');
    sh('truncate', ['-s', '16M', other]);
    sh('mkfs.ext4', ['-q', '-F', other]);
    const again = loops.attach(other);
    expect(again).not.toBe(dev);
    loops.mount(again, rw);
    expect(describeSource(dev).mounts).toEqual([{ device: dev, mountPoint: ro, fsType: 'ext4', readWrite: false }]);
    expect(describeSource(dev).mounts.map(({ device: _d, ...m }) => m)).toEqual(findmnt(dev));
    expect(describeSource(again).mounts).toEqual([{ device: again, mountPoint: rw, fsType: 'ext4', readWrite: true }]);
    expect(describeSource(again).mounts.map(({ device: _d, ...m }) => m)).toEqual(findmnt(again));
  });

  test('a partitioned loop device: a mount of its partition is a mount of the disk', () => {
    const backing = join(tmp.dir, 'parted.img');
    sh('truncate', ['-s', '24M', backing]);
    const p = spawnSync('sfdisk', ['-q', backing], { input: 'label: dos\n,16M,L\n', encoding: 'utf8' });
    expect(p.status).toBe(0);
    const dev = loops.attach(backing, { partitions: true });
    const part = loops.partitionNode(dev, 1);
    sh('mkfs.ext4', ['-q', '-F', part]);
    const mnt = join(tmp.dir, 'mnt-part');
    mkdirSync(mnt);
    loops.mount(part, mnt);
    const info = describeSource(dev);
    expect(info.device!.partitions).toEqual([{ name: part.slice(5), devNumber: sh('cat', [`/sys/class/block/${part.slice(5)}/dev`]), startSector: 2048, sizeBytes: 16 << 20 }]);
    expect(info.mounts).toEqual([{ device: part, mountPoint: mnt, fsType: 'ext4', readWrite: true }]);
    expect(findmnt(part)).toEqual([{ mountPoint: mnt, fsType: 'ext4', readWrite: true }]);
    // The partition itself: its own size, its parent, and its own mount.
    expect(describeSource(part)).toMatchObject({ sizeBytes: 16 << 20, device: { isPartition: true, parent: dev.slice(5) }, mounts: [{ device: part, mountPoint: mnt }] });
  });
});
