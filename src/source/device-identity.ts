/**
 * What a disk is and how it is attached, from where the kernel placed it in /sys/devices: the
 * transport (ATA, SCSI, USB, NVMe, MMC, virtio, virtual devices), the USB device a disk sits
 * behind, and the identity (model, vendor, serial, firmware, world wide names) each transport keeps
 * in its own files: SCSI-style for sd and virtio-blk, the controller or subsystem for NVMe, the
 * card registers for MMC/SD.
 */
import { basename, dirname, join, relative, sep } from 'node:path';
import type { BlockDeviceInfo } from './device';
import { cleanText, optional, readBounded, readInt, readText, realpathOrUndefined } from './sysfs';

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

/** How many parent directories the USB walk climbs at most (real paths have about ten). */
const MAX_WALK = 32;

/** The serial from SCSI VPD page 0x80 (SPC-4 §7.8.15 Unit Serial Number): 4-byte header, then ASCII. */
export function vpdSerial(b: Buffer | undefined): string | undefined {
  if (!b || b.length < 4 || b[1] !== 0x80) return undefined;
  const len = Math.min(b.readUInt16BE(2), b.length - 4);
  return cleanText(b.subarray(4, 4 + len).toString('latin1'));
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
 * The transport, the USB device above it (if any) and the identity of the whole disk `disk` (its
 * /sys/devices folder, below `devicesRoot`).
 */
export function diskIdentity(disk: string, devicesRoot: string): { transport: DeviceTransport; usb?: UsbDeviceInfo; identity: Identity } {
  const devpath = relative(devicesRoot, disk).split(sep);
  const parentDevice = realpathOrUndefined(join(disk, 'device'));
  const usb = parentDevice ? usbAncestor(parentDevice, devicesRoot) : undefined;
  const vendor = readText(join(disk, 'device', 'vendor'));
  const transport = transportOf(basename(disk), devpath, vendor, usb);
  const identity = transport === 'mmc' ? mmcIdentity(disk) : transport === 'nvme' ? nvmeIdentity(disk) : scsiIdentity(disk, vendor);
  return { transport, ...(usb ? { usb } : {}), identity };
}

/** The identity fields of a block device, as each transport records them. */
export type Identity = Pick<BlockDeviceInfo, 'model' | 'vendor' | 'serial' | 'firmwareRevision' | 'wwid' | 'eui' | 'nguid' | 'namespaceId' | 'mmc'>;

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

