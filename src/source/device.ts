/**
 * What the kernel says about a block device, from sysfs (/sys/dev/block/MAJ:MIN): size and sector
 * sizes, flags, partitions, holders, the file behind a loop device, and (device-identity.ts) what
 * the disk is and how it is attached. Every attribute is read bounded (sysfs.ts).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CustosError, fromFsError } from '../errors';
import { devNumber } from '../protect';
import { type DeviceTransport, diskIdentity, type MmcCardInfo, type UsbDeviceInfo } from './device-identity';
import type { HiddenAreas } from './hidden-areas';
import { optional, readInt, readText, realpathOrUndefined, safeReaddir } from './sysfs';

/** A partition of a block device, from sysfs. */
export interface PartitionInfo {
  name: string;
  /** "major:minor" */
  devNumber: string;
  /** First sector, in 512-byte units as sysfs counts them. */
  startSector: number;
  sizeBytes: number;
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

/** How many partition entries of one disk are looked at; a disk has at most a few hundred. */
const MAX_PARTITIONS = 4096;

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
  const { transport, usb, identity } = diskIdentity(disk, devicesRoot);

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
