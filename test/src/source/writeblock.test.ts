import { CustosError } from '../../../src/errors';
import type { SourceInfo } from '../../../src/source/info';
import { applyWriteBlock, type Blockdev } from '../../../src/source/writeblock';

const device = (mounts: SourceInfo['mounts'] = []): SourceInfo => ({
  path: '/dev/sdb',
  realPath: '/dev/sdb',
  kind: 'block-device',
  sizeBytes: 1 << 20,
  logicalSectorSize: 512,
  physicalSectorSize: 512,
  sectors: 2048,
  readOnly: false,
  mounts,
  device: {
    name: 'sdb',
    devNumber: '8:16',
    isPartition: false,
    sizeBytes: 1 << 20,
    logicalSectorSize: 512,
    physicalSectorSize: 512,
    removable: true,
    rotational: false,
    readOnly: false,
    partitions: [{ name: 'sdb1', devNumber: '8:17', startSector: 2048, sizeBytes: 1 << 19 }],
    holders: [],
  },
});

/** A fake blockdev(8) holding the flags, recording every call. */
function fakeBlockdev(options: { failSet?: boolean; ignoreSet?: boolean } = {}) {
  const ro = new Map<string, boolean>();
  const calls: string[] = [];
  const run: Blockdev = (args) => {
    calls.push(args.join(' '));
    const [op, dev] = args as [string, string];
    if (op === '--setro') {
      if (options.failSet) throw Object.assign(new Error('fail'), { stderr: 'blockdev: ioctl error on BLKROSET: Permission denied' });
      if (!options.ignoreSet) ro.set(dev, true);
      return '';
    }
    return ro.get(dev) ? '1\n' : '0\n';
  };
  return { run, calls, ro };
}

const opts = { allowMounted: false, openFlags: ['O_RDONLY', 'O_DIRECT'] };

test('a block device gets the read-only flag on itself and its partitions, confirmed by reading it back', () => {
  const bd = fakeBlockdev();
  const r = applyWriteBlock(device(), opts, bd.run);
  expect(bd.calls).toEqual(['--getro /dev/sdb', '--setro /dev/sdb', '--setro /dev/sdb1', '--getro /dev/sdb', '--getro /dev/sdb1']);
  expect(r).toMatchObject({ method: 'kernel-read-only-flag', readOnlyBefore: false, readOnlyAfterSet: true, partitions: ['/dev/sdb1'] });
});

test('a device mounted read-write is refused before anything is touched', () => {
  const bd = fakeBlockdev();
  const mounted = device([{ device: '/dev/sdb1', mountPoint: '/media/usb', fsType: 'vfat', readWrite: true }]);
  expect(() => applyWriteBlock(mounted, opts, bd.run)).toThrow(expect.objectContaining({ code: 'SOURCE_MOUNTED' }));
  expect(bd.calls).toEqual([]);
});

test('--allow-mounted acquires a read-write mounted device without setting the flag (it would break the live system)', () => {
  const bd = fakeBlockdev();
  const mounted = device([{ device: '/dev/sdb1', mountPoint: '/media/usb', fsType: 'vfat', readWrite: true }]);
  const r = applyWriteBlock(mounted, { ...opts, allowMounted: true }, bd.run);
  expect(r.method).toBe('not-set-mounted-read-write');
  expect(r.allowMounted).toBe(true);
  expect(r.mountsAtStart).toHaveLength(1);
  expect(bd.calls.filter((c) => c.startsWith('--setro'))).toEqual([]);
});

test('a read-only mount is not a reason to refuse', () => {
  const bd = fakeBlockdev();
  const r = applyWriteBlock(device([{ device: '/dev/sdb1', mountPoint: '/mnt', fsType: 'ext4', readWrite: false }]), opts, bd.run);
  expect(r.method).toBe('kernel-read-only-flag');
});

test('a flag that cannot be set, or does not read back, stops the acquisition', () => {
  expect(() => applyWriteBlock(device(), opts, fakeBlockdev({ failSet: true }).run)).toThrow(
    expect.objectContaining({ code: 'WRITE_BLOCK_FAILED', message: expect.stringContaining('Permission denied') }),
  );
  let err: unknown;
  try {
    applyWriteBlock(device(), opts, fakeBlockdev({ ignoreSet: true }).run);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CustosError);
  expect((err as CustosError).message).toContain('did not read back');
});

test('a regular file is recorded as read-only open, with no kernel flag', () => {
  const file: SourceInfo = { ...device(), kind: 'file', device: undefined, readOnly: null };
  const r = applyWriteBlock(file, { allowMounted: false, openFlags: ['O_RDONLY'] }, fakeBlockdev().run);
  expect(r).toMatchObject({ method: 'read-only-open', readOnlyBefore: null, readOnlyAfterSet: null });
});
