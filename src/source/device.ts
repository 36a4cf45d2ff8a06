import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { CustosError, fromFsError } from '../errors';
import { devNumber } from '../protect';
import type { HiddenAreas } from './hidden-areas';

/** A partition of a block device, from sysfs. */
export interface PartitionInfo {
  name: string;
  /** "major:minor" */
  devNumber: string;
  /** First sector, in 512-byte units as sysfs counts them. */
  startSector: number;
  sizeBytes: number;
}

/**
 * How the disk is attached, read from where the kernel placed it in /sys/devices: `ata` is libata
 * (SATA/PATA, also SATA disks behind a SAS HBA, whose SCSI vendor is "ATA"), `scsi` any other SCSI
 * disk (SAS, iSCSI, virtio-scsi), `usb` anything below a USB device (a bridge or a stick).
 */
export type DeviceTransport =
  | 'ata'
  | 'scsi'
  | 'usb'
  | 'nvme'
  | 'virtio'
  | 'mmc'
  | 'loop'
  | 'device-mapper'
  | 'md'
  | 'nbd'
  | 'zram'
  | 'ram'
  | 'virtual'
  | 'unknown';

/**
 * The USB device a disk sits behind (usb-storage or uas), from its USB descriptors: these name the
 * bridge or the stick, and differ from the SCSI inquiry data (model, vendor, serial) the bridge reports.
 */
export interface UsbDeviceInfo {
  /** idVendor, 4 hex digits as sysfs prints them. */
  vendorId: string;
  /** idProduct, 4 hex digits. */
  productId: string;
  manufacturer?: string;
  product?: string;
  /** The USB serial string (iSerialNumber): often the bridge's, not the drive's. */
  serial?: string;
  /** The USB port path, e.g. "2-1.2" (bus 2, port 1, hub port 2). */
  port: string;
}

/** The card registers of an MMC/SD card or eMMC chip (/sys/class/block/mmcblkN/device). */
export interface MmcCardInfo {
  /** "SD", "MMC" (eMMC is MMC) or "SDIO". */
  type?: string;
  /** Product name from the CID register. */
  name?: string;
  /** Manufacturer ID from the CID, as printed by the kernel, e.g. "0x000003". */
  manufacturerId?: string;
  /** OEM/application ID from the CID, e.g. "0x5344". */
  oemId?: string;
  /** Manufacturing date from the CID, "MM/YYYY". */
  date?: string;
  /** The whole CID register in hex (128 bits): the card's identity as the card reports it. */
  cid?: string;
  hardwareRevision?: string;
}

/** What the kernel says about a block device (sysfs, /sys/class/block/NAME). */
export interface BlockDeviceInfo {
  name: string;
  devNumber: string;
  isPartition: boolean;
  /** The whole disk this partition belongs to. */
  parent?: string;
  sizeBytes: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  /** SCSI inquiry product, NVMe model number, MMC product name; padding trimmed. */
  model?: string;
  /** SCSI inquiry vendor ("ATA" for SATA disks), or the virtio vendor ID (0x1af4). */
  vendor?: string;
  /** SCSI unit serial (VPD page 0x80), NVMe serial, virtio serial, MMC serial. */
  serial?: string;
  /** Firmware revision: SCSI inquiry revision, NVMe firmware_rev, MMC fwrev. */
  firmwareRevision?: string;
  /** World wide identifier: SCSI VPD page 0x83 designator, NVMe namespace wwid. */
  wwid?: string;
  /** NVMe namespace EUI-64, when the namespace reports one. */
  eui?: string;
  /** NVMe namespace globally unique identifier, when the namespace reports one. */
  nguid?: string;
  /** NVMe namespace ID (not the "n1" in the device name, which is only a counter). */
  namespaceId?: number;
  transport?: DeviceTransport;
  /** For a disk behind USB: the USB device's own identity, kept apart from the SCSI one. */
  usb?: UsbDeviceInfo;
  /** For an MMC/SD card or eMMC chip: the card registers. */
  mmc?: MmcCardInfo;
  removable: boolean;
  rotational: boolean;
  readOnly: boolean;
  partitions: PartitionInfo[];
  /** Devices stacked on this one (device-mapper, md): they may be mounted in its place. */
  holders: string[];
  /** For loop devices: the file behind it. */
  loopBackingFile?: string;
  /** Host Protected Area, Device Configuration Overlay, NVMe capacity outside the namespace. */
  hiddenAreas?: HiddenAreas;
}

export { devNumber } from '../protect';

/** sysfs attributes are at most a page; nothing custos reads from it is longer. */
export const SYSFS_READ_LIMIT = 4096;
/** How many parent directories the USB walk climbs at most (real paths have about ten). */
const MAX_WALK = 32;
/** How many partition entries of one disk are looked at; a disk has at most a few hundred. */
const MAX_PARTITIONS = 4096;

/** Reads at most `limit` bytes of a sysfs attribute; undefined when it is missing or not a regular file. */
function readBounded(file: string, limit = SYSFS_READ_LIMIT): Buffer | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted in a fake tree must not hang the read.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(limit);
    let n = 0;
    while (n < limit) {
      const r = readSync(fd, buf, n, limit - n, n);
      if (r <= 0) break;
      n += r;
    }
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The text of an attribute: NULs and padding trimmed, control characters (which would reach the
 * terminal from `custos info`) shown as "?". Undefined when missing or empty.
 */
function readText(file: string): string | undefined {
  const b = readBounded(file);
  if (!b) return undefined;
  return cleanText(b.toString('latin1'));
}

/** Trims padding (spaces, NULs, newlines) and replaces control characters. */
export function cleanText(raw: string): string | undefined {
  const t = raw
    .replace(/\0/g, ' ')
    .trim()
    .replace(/[\x00-\x1f\x7f]/g, '?');
  return t.length > 0 ? t : undefined;
}

function readInt(file: string): number | undefined {
  const t = readText(file);
  if (t === undefined || !/^\d{1,15}$/.test(t)) return undefined;
  return Number(t);
}

/** The serial from SCSI VPD page 0x80 (SPC-4 §7.8.15 Unit Serial Number): 4-byte header, then ASCII. */
export function vpdSerial(b: Buffer | undefined): string | undefined {
  if (!b || b.length < 4 || b[1] !== 0x80) return undefined;
  const len = Math.min(b.readUInt16BE(2), b.length - 4);
  return cleanText(b.subarray(4, 4 + len).toString('latin1'));
}

function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The USB device above `start` (a SCSI device directory): the first ancestor with idVendor and
 * idProduct. USB interfaces (2-1:1.0) have neither, so the walk passes them.
 */
function usbAncestor(start: string, devicesRoot: string): UsbDeviceInfo | undefined {
  let dir = start;
  for (let i = 0; i < MAX_WALK; i++) {
    if (!dir.startsWith(devicesRoot + sep)) return undefined;
    const vendorId = readText(join(dir, 'idVendor'));
    const productId = readText(join(dir, 'idProduct'));
    if (vendorId && productId) {
      return {
        vendorId,
        productId,
        ...optional('manufacturer', readText(join(dir, 'manufacturer'))),
        ...optional('product', readText(join(dir, 'product'))),
        ...optional('serial', readText(join(dir, 'serial'))),
        port: basename(dir),
      };
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

/** The bus family, from the kernel's device path and the disk's name. */
function transportOf(name: string, devpath: string[], vendor: string | undefined, usb: UsbDeviceInfo | undefined): DeviceTransport {
  if (usb) return 'usb';
  if (/^loop\d+$/.test(name)) return 'loop';
  if (/^dm-\d+$/.test(name)) return 'device-mapper';
  if (/^md\d+$/.test(name) || /^md_/.test(name)) return 'md';
  if (/^nbd\d+$/.test(name)) return 'nbd';
  if (/^zram\d+$/.test(name)) return 'zram';
  if (/^ram\d+$/.test(name)) return 'ram';
  if (devpath.includes('nvme') || devpath.includes('nvme-subsystem') || /^nvme\d+n\d+$/.test(name)) return 'nvme';
  if (devpath.includes('mmc_host') || /^mmcblk\d+$/.test(name)) return 'mmc';
  if (devpath.some((s) => /^ata\d+$/.test(s))) return 'ata';
  if (devpath.some((s) => /^host\d+$/.test(s)) && devpath.some((s) => /^target\d+:\d+:\d+$/.test(s))) {
    // SAT (SCSI/ATA Translation) reports the vendor "ATA" for a SATA disk, whatever the HBA.
    return vendor === 'ATA' ? 'ata' : 'scsi';
  }
  if (/^vd[a-z]+$/.test(name) && devpath.some((s) => /^virtio\d+$/.test(s))) return 'virtio';
  if (devpath[0] === 'virtual') return 'virtual';
  return 'unknown';
}

/**
 * Describes the block device at `path` from sysfs: identity (model, vendor, serial), geometry,
 * flags and partitions. `sysRoot` is injectable so tests can use a fake tree.
 */
export function blockDeviceInfo(path: string, sysRoot = '/sys'): BlockDeviceInfo {
  let rdev: number;
  try {
    const st = statSync(path);
    if (!st.isBlockDevice()) throw new CustosError('NOT_A_FILE', `${path}: is not a block device`, { path });
    rdev = st.rdev;
  } catch (err) {
    throw fromFsError(err, path, 'looking it up') ?? err;
  }
  return blockDeviceInfoByNumber(devNumber(rdev), sysRoot, path);
}

/**
 * Describes the block device "major:minor" from sysfs (/sys/dev/block/MAJ:MIN), as
 * {@link blockDeviceInfo} does for a device node; `path` only names it in errors.
 */
export function blockDeviceInfoByNumber(dev: string, sysRoot = '/sys', path = dev): BlockDeviceInfo {
  const link = join(sysRoot, 'dev', 'block', dev);
  if (!existsSync(link)) {
    throw new CustosError('INVALID_INPUT', `${path}: the kernel has no sysfs entry for block device ${dev}`, {
      path,
      hint: 'Is /sys mounted? custos needs sysfs to identify block devices.',
    });
  }
  const sys = realpathSync(link);
  const isPartition = existsSync(join(sys, 'partition'));
  const disk = isPartition ? dirname(sys) : sys;
  const name = basename(sys);
  const diskName = basename(disk);
  const sectors = readInt(join(sys, 'size')) ?? 0;
  const partitions: PartitionInfo[] = isPartition
    ? []
    : safeReaddir(disk)
        .slice(0, MAX_PARTITIONS)
        .filter((e) => e.startsWith(diskName) && existsSync(join(disk, e, 'partition')))
        .map((e) => ({
          name: e,
          devNumber: readText(join(disk, e, 'dev')) ?? '',
          startSector: readInt(join(disk, e, 'start')) ?? 0,
          sizeBytes: (readInt(join(disk, e, 'size')) ?? 0) * 512,
        }))
        .sort((a, b) => a.startSector - b.startSector);
  const holders = safeReaddir(join(sys, 'holders')).sort();

  const devicesRoot = realpathOrUndefined(join(sysRoot, 'devices')) ?? join(sysRoot, 'devices');
  const devpath = relative(devicesRoot, disk).split(sep);
  const parentDevice = realpathOrUndefined(join(disk, 'device'));
  const usb = parentDevice ? usbAncestor(parentDevice, devicesRoot) : undefined;
  const vendor = readText(join(disk, 'device', 'vendor'));
  const transport = transportOf(diskName, devpath, vendor, usb);
  const identity = transport === 'mmc' ? mmcIdentity(disk) : transport === 'nvme' ? nvmeIdentity(disk) : scsiIdentity(disk, vendor);

  return {
    name,
    devNumber: dev,
    isPartition,
    ...(isPartition ? { parent: diskName } : {}),
    // sysfs counts size in 512-byte units whatever the sector size.
    sizeBytes: sectors * 512,
    logicalSectorSize: readInt(join(disk, 'queue', 'logical_block_size')) ?? 512,
    physicalSectorSize: readInt(join(disk, 'queue', 'physical_block_size')) ?? 512,
    ...identity,
    transport,
    ...(usb ? { usb } : {}),
    removable: readText(join(disk, 'removable')) === '1',
    rotational: readText(join(disk, 'queue', 'rotational')) === '1',
    readOnly: readText(join(sys, 'ro')) === '1',
    partitions,
    holders,
    ...optional('loopBackingFile', readText(join(disk, 'loop', 'backing_file'))),
  };
}

type Identity = Pick<BlockDeviceInfo, 'model' | 'vendor' | 'serial' | 'firmwareRevision' | 'wwid' | 'eui' | 'nguid' | 'namespaceId' | 'mmc'>;

/** SCSI (sd: SATA through libata, SAS, USB), virtio-blk and anything else with the SCSI-style files. */
function scsiIdentity(disk: string, vendor: string | undefined): Identity {
  return {
    ...optional('model', readText(join(disk, 'device', 'model'))),
    ...optional('vendor', vendor),
    ...optional(
      'serial',
      readText(join(disk, 'device', 'serial')) ?? readText(join(disk, 'serial')) ?? vpdSerial(readBounded(join(disk, 'device', 'vpd_pg80'))),
    ),
    ...optional('firmwareRevision', readText(join(disk, 'device', 'rev'))),
    ...optional('wwid', readText(join(disk, 'wwid')) ?? readText(join(disk, 'device', 'wwid'))),
  };
}

/**
 * NVMe: the namespace (nvme0n1) carries wwid, nsid, eui, nguid; its parent carries model, serial,
 * firmware_rev: the controller (nvme0) without native multipath, the subsystem (nvme-subsys0) with it.
 */
function nvmeIdentity(disk: string): Identity {
  const nsid = readInt(join(disk, 'nsid'));
  return {
    ...optional('model', readText(join(disk, 'device', 'model'))),
    ...optional('serial', readText(join(disk, 'device', 'serial'))),
    ...optional('firmwareRevision', readText(join(disk, 'device', 'firmware_rev'))),
    ...optional('wwid', readText(join(disk, 'wwid'))),
    ...optional('eui', readText(join(disk, 'eui'))),
    ...optional('nguid', readText(join(disk, 'nguid'))),
    ...(nsid !== undefined ? { namespaceId: nsid } : {}),
  };
}

/** MMC/SD/eMMC: the card directory (mmc0:0007) carries the CID fields the kernel decoded. */
function mmcIdentity(disk: string): Identity {
  const d = join(disk, 'device');
  const mmc: MmcCardInfo = {
    ...optional('type', readText(join(d, 'type'))),
    ...optional('name', readText(join(d, 'name'))),
    ...optional('manufacturerId', readText(join(d, 'manfid'))),
    ...optional('oemId', readText(join(d, 'oemid'))),
    ...optional('date', readText(join(d, 'date'))),
    ...optional('cid', readText(join(d, 'cid'))),
    ...optional('hardwareRevision', readText(join(d, 'hwrev'))),
  };
  return {
    ...optional('model', mmc.name),
    ...optional('serial', readText(join(d, 'serial'))),
    ...optional('firmwareRevision', readText(join(d, 'fwrev'))),
    ...(Object.keys(mmc).length > 0 ? { mmc } : {}),
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
