/**
 * Hidden areas at the end of a drive: an ATA Host Protected Area (HPA, ATA/ATAPI-4 and later; its
 * ACS-3 successor Accessible Max Address), an ATA Device Configuration Overlay (DCO, ATA/ATAPI-6
 * to ACS-2), and NVMe capacity outside the namespace being read (NVMe Base Specification 2.0,
 * Identify Controller TNVMCAP/UNVMCAP, Identify Namespace NSZE/NCAP/NUSE).
 *
 * Node has no ioctl, so the drive is asked through the usual tools, each sending only identify
 * or read-max commands: `hdparm -N` (READ NATIVE MAX ADDRESS), `hdparm --dco-identify` (DEVICE
 * CONFIGURATION IDENTIFY), `hdparm -I` (IDENTIFY DEVICE), `nvme id-ns` and `nvme id-ctrl`
 * (Identify). None of them is ever given a value: nothing here can set a maximum address.
 *
 * Their output is outside data: every parser (hdparm.ts, nvme-cli.ts; drive-tools.ts runs the
 * tools) is bounded, never throws, and answers either with numbers that passed consistency checks
 * or with the reason it could not determine them. This file holds the decisions: which devices can
 * have a hidden area, which tools to ask for each transport, and what their answers add up to.
 */
import type { BlockDeviceInfo } from './device';
import { type CommandRunner, failedRun, systemRunner } from './drive-tools';
import { parseDcoIdentify, parseHdparmN, parseIdentifyDcoSupport } from './hdparm';
import { parseNvmeIdCtrl, parseNvmeIdNs } from './nvme-cli';

/** What the checks found, over all of them. */
export type HiddenAreaStatus = 'none' | 'found' | 'not-applicable' | 'not-checked' | 'undetermined';
/** The state of one check: ran and understood, could not run (tool missing), or ran without a usable answer. */
export type CheckStatus = 'checked' | 'not-checked' | 'undetermined';

/** hdparm -N: the drive's current (visible) and native maximum, from READ NATIVE MAX ADDRESS. */
export interface HpaCheck {
  status: CheckStatus;
  /** Each command run, program and arguments. */
  commands: string[][];
  reason?: string;
  /** "hpa" (ATA-4 to ACS-2) or "accessible-max-address" (ACS-3 and later, which replaced it). */
  feature?: 'hpa' | 'accessible-max-address';
  /** Sectors the drive reports now (IDENTIFY DEVICE). */
  visibleSectors?: number;
  /** Sectors up to the native maximum address. */
  nativeMaxSectors?: number;
  enabled?: boolean;
  hiddenSectors?: number;
}

/** hdparm --dco-identify: the factory maximum ("real max sectors") the overlay may hide. */
export interface DcoCheck {
  status: CheckStatus;
  commands: string[][];
  reason?: string;
  /** False when IDENTIFY DEVICE says the drive has no DCO feature set (then no DCO can hide anything). */
  supported?: boolean;
  realMaxSectors?: number;
  /** Sectors between the native maximum and the real maximum. */
  hiddenSectors?: number;
}

/** nvme id-ns / id-ctrl: the namespace's size against the controller's total capacity. */
export interface NvmeCapacityCheck {
  status: CheckStatus;
  commands: string[][];
  reason?: string;
  /** Bytes per logical block of the namespace's current LBA format. */
  blockSize?: number;
  /** NSZE, NCAP and NUSE, in logical blocks. */
  sizeBlocks?: number;
  capacityBlocks?: number;
  utilizationBlocks?: number;
  namespaceBytes?: number;
  /** TNVMCAP: 0 when the controller does not report it (no namespace management). */
  controllerTotalBytes?: number;
  /** UNVMCAP: capacity not allocated to any namespace. */
  controllerUnallocatedBytes?: number;
  /** TNVMCAP minus this namespace: other namespaces and unallocated capacity. */
  bytesOutsideNamespace?: number;
}

/** The hidden-area record of a source (manifest: source.device.hiddenAreas). */
export interface HiddenAreas {
  status: HiddenAreaStatus;
  /** One line for people, e.g. "HPA enabled — 976771055 of 976773168 sectors visible (…)". */
  summary: string;
  /** Why nothing (or not everything) could be checked. */
  reason?: string;
  /** Bytes per sector in the ATA sector counts (hdparm counts the drive's logical sectors). */
  sectorSize?: number;
  /** Bytes outside what the kernel reads, when any were found. */
  hiddenBytes?: number;
  hpa?: HpaCheck;
  dco?: DcoCheck;
  nvme?: NvmeCapacityCheck;
}

/** Why a kind of device has no HPA, DCO or NVMe capacity to check; undefined when it may have one. */
function notApplicableReason(d: BlockDeviceInfo): string | undefined {
  if (d.isPartition) return `partition of ${d.parent ?? 'a disk'}; hidden areas belong to the whole disk`;
  switch (d.transport) {
    case 'loop':
      return 'loop device';
    case 'device-mapper':
      return 'device-mapper device';
    case 'md':
      return 'md software RAID device';
    case 'nbd':
      return 'network block device';
    case 'zram':
      return 'compressed RAM disk (zram)';
    case 'ram':
      return 'RAM disk';
    case 'virtual':
      return 'virtual block device';
    case 'virtio':
      return 'virtio block device: the host emulates the disk, no ATA or NVMe command reaches a drive';
    case 'mmc':
      return 'MMC/SD card: HPA and DCO are ATA features, namespaces NVMe ones';
    case 'scsi':
      return `SCSI disk${d.vendor ? ` (vendor ${d.vendor})` : ''}: HPA and DCO are ATA features`;
    default:
      return undefined;
  }
}

/** The record for a regular file: it is a byte stream, with no drive behind it to hide anything. */
export function hiddenAreasOfFile(): HiddenAreas {
  return { status: 'not-applicable', summary: 'not applicable (regular file)', reason: 'regular file' };
}

/** The bytes per sector that make hdparm's visible count equal the kernel's size, if any does. */
function sectorUnit(visible: number, d: BlockDeviceInfo): number | undefined {
  for (const unit of new Set([d.logicalSectorSize, 512])) {
    if (unit > 0 && visible * unit === d.sizeBytes) return unit;
  }
  return undefined;
}

const notInstalled = (tool: string, pkg: string): HiddenAreas => ({
  status: 'not-checked',
  summary: `not checked: ${tool} not installed`,
  reason: `${tool} not installed (Debian package ${pkg})`,
});

/**
 * Checks the source device for hidden areas, asking the drive through hdparm or nvme-cli (never
 * setting anything). Devices that cannot have one get "not applicable" with the reason.
 */
export function detectHiddenAreas(d: BlockDeviceInfo, devPath: string, run: CommandRunner = systemRunner): HiddenAreas {
  const na = notApplicableReason(d);
  if (na) return { status: 'not-applicable', summary: `not applicable (${na})`, reason: na };
  if (d.transport === 'ata' || d.transport === 'usb') return checkAta(d, devPath, run);
  if (d.transport === 'nvme') return checkNvme(d, devPath, run);
  const reason = 'the kind of device could not be recognised from sysfs';
  return { status: 'undetermined', summary: `could not determine: ${reason}`, reason };
}

function checkAta(d: BlockDeviceInfo, dev: string, run: CommandRunner): HiddenAreas {
  const nArgs = ['-N', dev];
  const rn = run('hdparm', nArgs);
  if (rn.error === 'not-installed') return notInstalled('hdparm', 'hdparm');
  const hpa: HpaCheck = { status: 'undetermined', commands: [['hdparm', ...nArgs]] };
  let unit: number | undefined;
  const pn = rn.error ? undefined : parseHdparmN(`${rn.stdout}\n${rn.stderr}`);
  if (pn?.ok) {
    unit = sectorUnit(pn.visible, d);
    if (unit === undefined) {
      hpa.reason = `hdparm reports ${pn.visible} visible sectors (native ${pn.native}), which does not match the ${d.sizeBytes} bytes the kernel sees`;
    } else {
      Object.assign(hpa, {
        status: 'checked',
        feature: pn.feature,
        visibleSectors: pn.visible,
        nativeMaxSectors: pn.native,
        enabled: pn.enabled,
        hiddenSectors: pn.native - pn.visible,
      });
    }
  } else {
    // hdparm's own complaint about a "max sectors" line beats the exit status; otherwise the error it printed.
    hpa.reason = pn && !pn.ok && (/max sectors/.test(rn.stdout) || (!rn.error && rn.status === 0)) ? pn.reason : failedRun('hdparm', nArgs, rn);
    if (d.transport === 'usb' && !/max sectors/.test(rn.stdout)) {
      // The bridge did not translate READ NATIVE MAX ADDRESS: nothing can be learnt through it.
      const reason = `USB bridge that does not pass ATA commands through (${hpa.reason}); connect the drive directly to check for HPA/DCO`;
      return { status: 'not-applicable', summary: `not applicable (${reason})`, reason, hpa };
    }
  }

  if (rn.error === 'timed-out') {
    // A drive that does not answer IDENTIFY in time is not asked again (each ask would wait as long).
    return finish('undetermined', `could not determine: ${hpa.reason}`, { reason: hpa.reason!, hpa });
  }
  const dArgs = ['--dco-identify', dev];
  const rd = run('hdparm', dArgs);
  const dco: DcoCheck = { status: 'undetermined', commands: [['hdparm', ...dArgs]] };
  const pd = rd.error ? undefined : parseDcoIdentify(`${rd.stdout}\n${rd.stderr}`);
  const base = hpa.nativeMaxSectors;
  if (pd?.ok && (base === undefined || pd.realMax >= base)) {
    Object.assign(dco, { status: 'checked', supported: true, realMaxSectors: pd.realMax, ...(base !== undefined ? { hiddenSectors: pd.realMax - base } : {}) });
  } else {
    dco.reason = pd?.ok
      ? `hdparm reports a DCO real maximum of ${pd.realMax} sectors, below the native maximum ${base}: not plausible`
      : pd && !pd.ok && (/Real max sectors/.test(rd.stdout) || (!rd.error && rd.status === 0))
        ? pd.reason
        : failedRun('hdparm', dArgs, rd);
    // A drive without the DCO feature set rejects DCO IDENTIFY; IDENTIFY DEVICE tells that case apart.
    const iArgs = ['-I', dev];
    const ri = run('hdparm', iArgs);
    dco.commands.push(['hdparm', ...iArgs]);
    const pi = ri.error ? undefined : parseIdentifyDcoSupport(ri.stdout);
    if (pi?.ok && !pi.supported && !pd?.ok) {
      Object.assign(dco, { status: 'checked', supported: false, reason: 'the drive does not have the DCO feature set (IDENTIFY DEVICE)' });
    }
  }
  return combineAta(d, hpa, dco, unit);
}

function combineAta(d: BlockDeviceInfo, hpa: HpaCheck, dco: DcoCheck, unit: number | undefined): HiddenAreas {
  const parts: string[] = [];
  let hidden = 0;
  const name = hpa.feature === 'accessible-max-address' ? 'ACCESSIBLE MAX ADDRESS' : 'HPA';
  const bytes = (sectors: number) => (unit ? `, ${sectors * unit} bytes` : '');
  if (hpa.status === 'checked' && hpa.hiddenSectors! > 0) {
    parts.push(`${name} enabled — ${hpa.visibleSectors} of ${hpa.nativeMaxSectors} sectors visible (${hpa.hiddenSectors} sectors${bytes(hpa.hiddenSectors!)} hidden)`);
    hidden += hpa.hiddenSectors!;
  }
  if (dco.status === 'checked' && (dco.hiddenSectors ?? 0) > 0) {
    parts.push(`DCO restricts the drive — ${hpa.nativeMaxSectors} of ${dco.realMaxSectors} real sectors (${dco.hiddenSectors} sectors${bytes(dco.hiddenSectors!)} hidden)`);
    hidden += dco.hiddenSectors!;
  }
  if (parts.length > 0 && dco.status !== 'checked') parts.push(`DCO not determined (${dco.reason})`);
  const kernelSectors = unit ? d.sizeBytes / unit : undefined;
  if (hpa.status !== 'checked' && dco.status === 'checked' && dco.realMaxSectors !== undefined && d.sizeBytes > 0) {
    // hdparm -N failed but DCO IDENTIFY answered: compare its real maximum with what the kernel reads.
    // ATA counts 512-byte sectors unless the drive is 4Kn; a bridge may show 4096-byte sectors of a
    // 512-byte drive, so 512 is taken unless it would put the real maximum below the kernel's size.
    const real = dco.realMaxSectors;
    const u = real * 512 >= d.sizeBytes ? 512 : d.logicalSectorSize > 512 && real * d.logicalSectorSize >= d.sizeBytes ? d.logicalSectorSize : undefined;
    const beyond = u && d.sizeBytes % u === 0 ? real - d.sizeBytes / u : 0;
    if (u && beyond > 0) {
      parts.push(`${beyond} sectors beyond the visible end (DCO real maximum ${dco.realMaxSectors}; HPA or DCO, hdparm -N failed)`);
      return finish('found', parts.join('; '), { hpa, dco, sectorSize: u, hiddenBytes: beyond * u });
    }
  }
  const common = { hpa, dco, ...(unit ? { sectorSize: unit } : {}) };
  if (parts.length > 0) return finish('found', parts.join('; '), { ...common, ...(unit ? { hiddenBytes: hidden * unit } : {}) });
  if (hpa.status === 'checked' && dco.status === 'checked') {
    const dcoText = dco.supported === false ? 'no DCO feature set' : `DCO real maximum ${dco.realMaxSectors}`;
    return finish('none', `none — all ${kernelSectors ?? hpa.visibleSectors} sectors visible (${name} disabled, ${dcoText})`, common);
  }
  const reasons = [hpa.status !== 'checked' ? `HPA: ${hpa.reason}` : '', dco.status !== 'checked' ? `DCO: ${dco.reason}` : ''].filter(Boolean).join('; ');
  return finish('undetermined', `could not determine: ${reasons}`, { ...common, reason: reasons });
}

function finish(status: HiddenAreaStatus, summary: string, rest: Omit<HiddenAreas, 'status' | 'summary'>): HiddenAreas {
  return { status, summary, ...rest };
}

function checkNvme(d: BlockDeviceInfo, dev: string, run: CommandRunner): HiddenAreas {
  const nsArgs = ['id-ns', dev, '-o', 'json'];
  const ctrlArgs = ['id-ctrl', dev, '-o', 'json'];
  const rns = run('nvme', nsArgs);
  if (rns.error === 'not-installed') return notInstalled('nvme', 'nvme-cli');
  const rctrl = run('nvme', ctrlArgs);
  const check: NvmeCapacityCheck = { status: 'undetermined', commands: [['nvme', ...nsArgs], ['nvme', ...ctrlArgs]] };
  const undetermined = (reason: string) => {
    check.reason = reason;
    return finish('undetermined', `could not determine: ${reason}`, { reason, nvme: check });
  };
  if (rns.error || rns.status !== 0) return undetermined(failedRun('nvme', nsArgs, rns));
  const ns = parseNvmeIdNs(rns.stdout);
  if (!ns.ok) return undetermined(ns.reason);
  const namespaceBytes = ns.nsze * ns.blockSize;
  if (!Number.isSafeInteger(namespaceBytes)) return undetermined('nvme id-ns: the namespace size is out of range');
  Object.assign(check, {
    blockSize: ns.blockSize,
    sizeBlocks: ns.nsze,
    ...(ns.ncap !== undefined ? { capacityBlocks: ns.ncap } : {}),
    ...(ns.nuse !== undefined ? { utilizationBlocks: ns.nuse } : {}),
    namespaceBytes,
  });
  if (namespaceBytes !== d.sizeBytes) return undetermined(`nvme id-ns reports ${namespaceBytes} bytes, the kernel ${d.sizeBytes}`);
  if (rctrl.error || rctrl.status !== 0) return undetermined(failedRun('nvme', ctrlArgs, rctrl));
  const ctrl = parseNvmeIdCtrl(rctrl.stdout);
  if (!ctrl.ok) return undetermined(ctrl.reason);
  if (ctrl.tnvmcap !== undefined) check.controllerTotalBytes = ctrl.tnvmcap;
  if (ctrl.unvmcap !== undefined) check.controllerUnallocatedBytes = ctrl.unvmcap;
  if (!ctrl.tnvmcap) return undetermined('the controller does not report its total capacity (TNVMCAP 0: no namespace management)');
  const outside = ctrl.tnvmcap - namespaceBytes;
  if (outside < 0) return undetermined(`the namespace (${namespaceBytes} bytes) is larger than the controller's total capacity (${ctrl.tnvmcap} bytes)`);
  check.status = 'checked';
  check.bytesOutsideNamespace = outside;
  const nsid = d.namespaceId !== undefined ? `namespace ${d.namespaceId}` : 'the namespace';
  if (outside > 0) {
    const unalloc = ctrl.unvmcap !== undefined ? `${ctrl.unvmcap} bytes unallocated` : 'unallocated capacity not reported';
    return finish('found', `${nsid} holds ${namespaceBytes} of ${ctrl.tnvmcap} bytes of the controller — ${outside} bytes outside it (${unalloc}; other namespaces may hold the rest)`, {
      nvme: check,
      hiddenBytes: outside,
    });
  }
  return finish('none', `none — ${nsid} holds all ${ctrl.tnvmcap} bytes of the controller's capacity`, { nvme: check });
}
