/**
 * Device identity from sysfs, on fake trees that reproduce the kernel's layouts with values recorded
 * from real machines (test/fixtures/sysfs/README.md), on hostile trees, and on a real loop device.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import { blockDeviceInfo, blockDeviceInfoByNumber, devNumber, SYSFS_READ_LIMIT, vpdSerial } from '../../../src/source/device';
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

  test('SATA disk behind a SAS HBA and expander: the SAT vendor "ATA" makes it an ATA disk; left-padded serial trimmed', () => {
    const d = blockDeviceInfoByNumber('8:208', tree('sas-sata'));
    expect(d).toMatchObject({ name: 'sdn', transport: 'ata', vendor: 'ATA', model: 'HGST HUH728080AL', serial: 'ZZZZH3VX', wwid: 'naa.5000cca23be1dc3c' });
  });

  test('USB bridge: the SCSI inquiry is the bridge\'s, the USB device is recorded apart (vendor/product IDs, serial, port)', () => {
    const d = blockDeviceInfoByNumber('8:16', tree('usb-bridge'));
    expect(d).toMatchObject({ name: 'sdb', transport: 'usb', vendor: 'External', model: 'USB3.0 DISK02', firmwareRevision: '5203' });
    // The bridge offers no VPD page 0x80: no SCSI serial, and the USB serial is not passed off as one.
    expect(d.serial).toBeUndefined();
    expect(d.usb).toEqual({ vendorId: '152d', productId: '0567', serial: '20170331000C3', port: '2-2' });
  });

  test('NVMe namespace below its controller: model/serial/firmware from the controller, padding trimmed, nsid from the namespace', () => {
    const d = blockDeviceInfoByNumber('259:0', tree('nvme'));
    expect(d).toMatchObject({
      name: 'nvme0n1',
      transport: 'nvme',
      model: 'KINGSTON SNV2S250G',
      serial: '50026B7685F13C1E',
      firmwareRevision: 'ELFK0S.4',
      namespaceId: 1,
    });
    expect(d.vendor).toBeUndefined();
  });

  test('NVMe namespace under native multipath: identity from the subsystem, agreeing with the hex fields of its wwid', () => {
    const d = blockDeviceInfoByNumber('259:6', tree('nvme-multipath'));
    expect(d).toMatchObject({ name: 'nvme6n1', transport: 'nvme', namespaceId: 1 });
    // The kernel's fallback wwid is "nvme.VVVV-hex(serial)-hex(model)-NSID": decode it independently.
    const [vid, sn, mn, nsid] = d.wwid!.replace(/^nvme\./, '').split('-');
    expect(vid).toBe('8086');
    expect(Buffer.from(sn!, 'hex').toString('latin1').trim()).toBe(d.serial);
    expect(Buffer.from(mn!, 'hex').toString('latin1').trim()).toBe(d.model);
    expect(Number.parseInt(nsid!, 16)).toBe(d.namespaceId);
  });

  test('SD card: the kernel-decoded CID fields agree with the CID register decoded here (SD Physical Layer spec §5.2)', () => {
    const d = blockDeviceInfoByNumber('179:0', tree('mmc'));
    expect(d).toMatchObject({ name: 'mmcblk0', transport: 'mmc', model: 'SD16G', serial: '0xda89b829', firmwareRevision: '0x0' });
    const cid = Buffer.from(d.mmc!.cid!, 'hex');
    expect(cid.length).toBe(16);
    expect(`0x${cid[0]!.toString(16).padStart(6, '0')}`).toBe(d.mmc!.manufacturerId); // MID
    expect(`0x${cid.readUInt16BE(1).toString(16).padStart(4, '0')}`).toBe(d.mmc!.oemId); // OID
    expect(cid.subarray(3, 8).toString('latin1')).toBe(d.mmc!.name); // PNM
    expect(`0x${cid.readUInt32BE(9).toString(16).padStart(8, '0')}`).toBe(d.serial); // PSN
    const mdt = cid.readUInt16BE(13) & 0xfff;
    expect(`${String(mdt & 0xf).padStart(2, '0')}/${2000 + (mdt >> 4)}`).toBe(d.mmc!.date); // MDT
    expect(d.mmc).toMatchObject({ type: 'SD', hardwareRevision: '0x3' });
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

  test('VPD page 0x80: a length beyond the page is cut to the page; a page of another number is ignored', () => {
    expect(vpdSerial(Buffer.from([0, 0x80, 0xff, 0xff, 0x41, 0x42, 0x20]))).toBe('AB');
    expect(vpdSerial(Buffer.from([0, 0x83, 0, 2, 0x41, 0x42]))).toBeUndefined();
    expect(vpdSerial(Buffer.from([0, 0x80]))).toBeUndefined();
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
