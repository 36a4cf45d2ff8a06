/**
 * Block devices described from sysfs (src/source/device.ts), on fake trees that reproduce the
 * kernel's layouts with values recorded from real machines (test/fixtures/sysfs/README.md), on
 * hostile trees, and on a real loop device. Identity by transport: device-identity.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import { blockDeviceInfo, blockDeviceInfoByNumber, devNumber } from '../../../src/source/device';
import { SYSFS_READ_LIMIT } from '../../../src/source/sysfs';
import { hasTool, isRoot, makeTempDir, ROOT, SAMPLE_IMAGE } from '../../helpers';

const FIX = join(ROOT, 'test', 'fixtures', 'sysfs');
const tree = (name: string) => join(FIX, name);

describe('sysfs layouts (recorded values)', () => {
  test('SATA disk on an AHCI port: libata inquiry (vendor ATA, 16-character model), VPD 0x80 serial, NAA wwid', () => {
    const d = blockDeviceInfoByNumber('8:0', tree('sata'));
    expect(d).toMatchObject({
      name: 'sda',
      devNumber: '8:0',
      isPartition: false,
      transport: 'ata',
      vendor: 'ATA',
      model: 'SAMSUNG MZNLF128',
      serial: 'S2DNNXAGC27736',
      wwid: 'naa.5002538740152efa',
    });
    expect(d.usb).toBeUndefined();
    expect(d.partitions.map((p) => [p.name, p.devNumber])).toEqual([['sda4', '8:4']]);
    // The first 16 characters of the model udev read through ATA IDENTIFY (ID_MODEL in the record).
    expect('SAMSUNG_MZNLF128HCHP-00004'.replace(/_/g, ' ').slice(0, 16)).toBe(d.model);
  });

  test('a partition is identified by its disk', () => {
    const p = blockDeviceInfoByNumber('8:4', tree('sata'));
    expect(p).toMatchObject({ name: 'sda4', isPartition: true, parent: 'sda', transport: 'ata', serial: 'S2DNNXAGC27736', partitions: [] });
  });

  test('virtio-blk: serial file on the disk, virtio vendor ID, no model; geometry from queue/', () => {
    const d = blockDeviceInfoByNumber('254:0', tree('virtio'));
    expect(d).toMatchObject({
      name: 'vda',
      transport: 'virtio',
      vendor: '0x1af4',
      serial: 'overlayblk',
      sizeBytes: 536870912 * 512,
      logicalSectorSize: 512,
      physicalSectorSize: 4096,
      rotational: true,
      removable: false,
      readOnly: false,
    });
    expect(d.model).toBeUndefined();
  });
});

describe('hostile trees', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => tmp.cleanup());

  /** A disk directory with a SCSI device whose attributes the test plants. */
  function plant(files: Record<string, string | Buffer>): string {
    const root = tmp.dir;
    const scsi = join(root, 'devices', 'pci0000:00', 'host0', 'target0:0:0', '0:0:0:0');
    const disk = join(scsi, 'block', 'sda');
    mkdirSync(disk, { recursive: true });
    writeFileSync(join(disk, 'size'), '8\n');
    symlinkSync('../../../0:0:0:0', join(disk, 'device'));
    mkdirSync(join(root, 'dev', 'block'), { recursive: true });
    symlinkSync('../../devices/pci0000:00/host0/target0:0:0/0:0:0:0/block/sda', join(root, 'dev', 'block', '8:0'));
    for (const [name, data] of Object.entries(files)) writeFileSync(join(scsi, name), data);
    return root;
  }

  test('a huge attribute is read only up to a page; control characters become "?"', () => {
    const root = plant({ model: `${'M'.repeat(100_000)}`, vendor: 'EVIL\x1b[2J\x07X\n' });
    const d = blockDeviceInfoByNumber('8:0', root);
    expect(d.model).toBe('M'.repeat(SYSFS_READ_LIMIT));
    expect(d.vendor).toBe('EVIL?[2J?X');
    expect(d.transport).toBe('scsi');
  });

  test('a FIFO in place of an attribute does not hang; a link loop and a link out of the tree are ignored', () => {
    const root = plant({});
    const scsi = join(root, 'devices', 'pci0000:00', 'host0', 'target0:0:0', '0:0:0:0');
    expect(spawnSync('mkfifo', [join(scsi, 'model')]).status).toBe(0);
    symlinkSync('vendor', join(scsi, 'vendor'));
    symlinkSync('/', join(scsi, 'rev'));
    const d = blockDeviceInfoByNumber('8:0', root);
    expect(d.model).toBeUndefined();
    expect(d.vendor).toBeUndefined();
    expect(d.firmwareRevision).toBeUndefined();
  });

  test('a device link that leaves the tree: the USB walk stops at the tree\'s devices/ folder', () => {
    const root = plant({});
    const usb = join(tmp.dir, 'outside');
    mkdirSync(usb);
    writeFileSync(join(usb, 'idVendor'), '1234\n');
    writeFileSync(join(usb, 'idProduct'), '5678\n');
    const disk = join(root, 'devices', 'pci0000:00', 'host0', 'target0:0:0', '0:0:0:0', 'block', 'sda');
    spawnSync('rm', [join(disk, 'device')]);
    symlinkSync(join(usb, 'x'), join(disk, 'device'));
    mkdirSync(join(usb, 'x'));
    expect(blockDeviceInfoByNumber('8:0', root).usb).toBeUndefined();
  });

  test('no sysfs entry for the device number: an input error naming it', () => {
    try {
      blockDeviceInfoByNumber('8:99', tree('sata'), '/dev/sdz');
      throw new Error('no error');
    } catch (err) {
      expect(isCustosError(err) && err.code).toBe('INVALID_INPUT');
      expect((err as Error).message).toBe('/dev/sdz: the kernel has no sysfs entry for block device 8:99');
    }
  });
});

const skipNode = isRoot ? undefined : 'not root (mknod of a block device node needs CAP_MKNOD; CI runs as root)';
const skipLoop = skipNode ?? (['losetup'].every(hasTool) ? undefined : 'losetup missing (util-linux)');
if (skipNode) test.skip(`device-node tests skipped: ${skipNode}`, () => undefined);
if (skipLoop && !skipNode) test.skip(`loop-device tests skipped: ${skipLoop}`, () => undefined);

(skipNode ? describe.skip : describe)('through a device node (root)', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeAll(() => {
    tmp = makeTempDir();
  });
  afterAll(() => tmp?.cleanup());

  test('blockDeviceInfo stats a node made with mknod and finds the fake tree by its major:minor', () => {
    const node = join(tmp.dir, 'sdb');
    const r = spawnSync('mknod', [node, 'b', '8', '16'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(devNumber(statSync(node).rdev)).toBe('8:16');
    const d = blockDeviceInfo(node, tree('usb-bridge'));
    expect(d).toMatchObject({ name: 'sdb', devNumber: '8:16', transport: 'usb', usb: { vendorId: '152d' } });
  });

  test('a regular file is not a block device', () => {
    expect(() => blockDeviceInfo(SAMPLE_IMAGE, tree('sata'))).toThrow('is not a block device');
  });
});

(skipLoop ? describe.skip : describe)('a real loop device (root)', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let loop = '';
  beforeAll(() => {
    tmp = makeTempDir();
    const img = join(tmp.dir, 'disk.img');
    writeFileSync(img, Buffer.alloc(1 << 20));
    loop = spawnSync('losetup', ['-f', '--show', '-r', img], { encoding: 'utf8' }).stdout.trim();
  });
  afterAll(() => {
    if (loop) spawnSync('losetup', ['-d', loop]);
    tmp?.cleanup();
  });

  test('transport loop, the backing file, the size the kernel reports', () => {
    expect(loop).toMatch(/^\/dev\/loop\d+$/);
    const d = blockDeviceInfo(loop);
    expect(d).toMatchObject({ name: loop.slice(5), transport: 'loop', loopBackingFile: join(tmp.dir, 'disk.img'), sizeBytes: 1 << 20, readOnly: true });
    expect(d.model).toBeUndefined();
    expect(d.usb).toBeUndefined();
  });
});
