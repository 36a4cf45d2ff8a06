import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CustosError, fromFsError } from '../errors';
import { devNumber } from '../protect';

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
  model?: string;
  vendor?: string;
  serial?: string;
  wwid?: string;
  removable: boolean;
  rotational: boolean;
  readOnly: boolean;
  partitions: PartitionInfo[];
  /** Devices stacked on this one (device-mapper, md): they may be mounted in its place. */
  holders: string[];
  /** For loop devices: the file behind it. */
  loopBackingFile?: string;
}

export { devNumber } from '../protect';

function readText(file: string): string | undefined {
  try {
    const t = readFileSync(file, 'latin1').replace(/\0/g, '').trim();
    return t.length > 0 ? t : undefined;
  } catch {
    return undefined;
  }
}

function readInt(file: string): number | undefined {
  const t = readText(file);
  if (t === undefined || !/^\d+$/.test(t)) return undefined;
  return Number(t);
}

/** The serial from SCSI VPD page 0x80 (Unit Serial Number): 4-byte header, then ASCII. */
function vpdSerial(file: string): string | undefined {
  try {
    const b = readFileSync(file);
    if (b.length < 4 || b[1] !== 0x80) return undefined;
    const len = Math.min(b.readUInt16BE(2), b.length - 4);
    const s = b.subarray(4, 4 + len).toString('latin1').replace(/\0/g, '').trim();
    return s || undefined;
  } catch {
    return undefined;
  }
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
  const dev = devNumber(rdev);
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
  const sectors = readInt(join(sys, 'size')) ?? 0;
  const partitions: PartitionInfo[] = isPartition
    ? []
    : readdirSync(disk)
        .filter((e) => e.startsWith(basename(disk)) && existsSync(join(disk, e, 'partition')))
        .map((e) => ({
          name: e,
          devNumber: readText(join(disk, e, 'dev')) ?? '',
          startSector: readInt(join(disk, e, 'start')) ?? 0,
          sizeBytes: (readInt(join(disk, e, 'size')) ?? 0) * 512,
        }))
        .sort((a, b) => a.startSector - b.startSector);
  let holders: string[] = [];
  try {
    holders = readdirSync(join(sys, 'holders')).sort();
  } catch {
    holders = [];
  }
  return {
    name,
    devNumber: dev,
    isPartition,
    ...(isPartition ? { parent: basename(disk) } : {}),
    // sysfs counts size in 512-byte units whatever the sector size.
    sizeBytes: sectors * 512,
    logicalSectorSize: readInt(join(disk, 'queue', 'logical_block_size')) ?? 512,
    physicalSectorSize: readInt(join(disk, 'queue', 'physical_block_size')) ?? 512,
    ...optional('model', readText(join(disk, 'device', 'model'))),
    ...optional('vendor', readText(join(disk, 'device', 'vendor'))),
    ...optional(
      'serial',
      readText(join(disk, 'device', 'serial')) ?? readText(join(disk, 'serial')) ?? vpdSerial(join(disk, 'device', 'vpd_pg80')),
    ),
    ...optional('wwid', readText(join(disk, 'wwid')) ?? readText(join(disk, 'device', 'wwid'))),
    removable: readText(join(disk, 'removable')) === '1',
    rotational: readText(join(disk, 'queue', 'rotational')) === '1',
    readOnly: readText(join(sys, 'ro')) === '1',
    partitions,
    holders,
    ...optional('loopBackingFile', readText(join(disk, 'loop', 'backing_file'))),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
