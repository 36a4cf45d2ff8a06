import { type BlockDeviceInfo, devNumber } from '../../../src/source/device';
import { mountsOf } from '../../../src/source/info';
import { parseMountInfo, parseSwaps } from '../../../src/source/mounts';

const MOUNTINFO = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '43 27 8:17 / /media/usb\\040stick rw,nosuid - vfat /dev/sdb1 rw,fmask=0022',
  '44 27 8:18 / /mnt/ro ro,relatime - ext4 /dev/sdb2 ro',
  '45 27 8:18 / /mnt/sb-ro rw,relatime - ext4 /dev/sdb2 ro,errors=remount-ro',
  '46 27 253:0 / /srv rw,relatime - xfs /dev/mapper/vg-srv rw',
  'garbage line',
  '',
].join('\n');

const sdb: BlockDeviceInfo = {
  name: 'sdb',
  devNumber: '8:16',
  isPartition: false,
  sizeBytes: 8e9,
  logicalSectorSize: 512,
  physicalSectorSize: 512,
  removable: true,
  rotational: false,
  readOnly: false,
  partitions: [
    { name: 'sdb1', devNumber: '8:17', startSector: 2048, sizeBytes: 1e9 },
    { name: 'sdb2', devNumber: '8:18', startSector: 2099200, sizeBytes: 1e9 },
  ],
  holders: [],
};

test('parseMountInfo reads devices, mount points (with octal escapes) and rw/ro', () => {
  const m = parseMountInfo(MOUNTINFO);
  expect(m).toHaveLength(5);
  expect(m[1]).toEqual({ devNumber: '8:17', source: '/dev/sdb1', mountPoint: '/media/usb stick', fsType: 'vfat', readWrite: true, options: 'rw,nosuid' });
  expect(m[2]!.readWrite).toBe(false);
  // A read-write mount of a read-only superblock cannot write.
  expect(m[3]!.readWrite).toBe(false);
});

test('mountsOf finds mounts of the device and its partitions, not of other devices', () => {
  const found = mountsOf(sdb, parseMountInfo(MOUNTINFO), []);
  expect(found.map((f) => [f.device, f.mountPoint, f.readWrite])).toEqual([
    ['/dev/sdb1', '/media/usb stick', true],
    ['/dev/sdb2', '/mnt/ro', false],
    ['/dev/sdb2', '/mnt/sb-ro', false],
  ]);
});

test('an active swap partition counts as a read-write use', () => {
  const swaps = parseSwaps('Filename\tType\tSize\tUsed\tPriority\n/dev/sdb2 partition 1048572 0 -2\n');
  expect(swaps).toEqual(['/dev/sdb2']);
  expect(mountsOf(sdb, [], swaps)).toEqual([{ device: '/dev/sdb2', mountPoint: '[swap]', fsType: 'swap', readWrite: true }]);
});

test('devNumber decodes the glibc dev_t encoding, large minors included', () => {
  expect(devNumber(0x811)).toBe('8:17');
  expect(devNumber(0x700)).toBe('7:0');
  // major 259 (NVMe/extended), minor 300
  const rdev = (300 & 0xff) | ((259 & 0xfff) << 8) | ((300 & ~0xff) << 12);
  expect(devNumber(rdev)).toBe('259:300');
});
