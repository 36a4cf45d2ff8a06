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
 * Their output is outside data: every parser is bounded, never throws, and answers either with
 * numbers that passed consistency checks or with the reason it could not determine them.
 */
import { spawnSync } from 'node:child_process';
import type { BlockDeviceInfo } from './device';

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

/** What running a tool gave: its exit status and output, or why it could not run. */
export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the tool did not run to the end. */
  error?: 'not-installed' | 'timed-out' | 'too-much-output' | 'failed-to-start';
}

/** Runs a tool; injectable so tests can replay recorded outputs. */
export type CommandRunner = (command: string, args: readonly string[]) => CommandResult;

/** Tool output beyond this is not what these tools print: the parsers refuse it. */
export const MAX_TOOL_OUTPUT = 1024 * 1024;
/** A drive that does not answer an identify command within this is not waited for longer. */
const TOOL_TIMEOUT_MS = 30_000;

/** Runs `command` with a bounded output and time; sbin directories are searched too (hdparm lives there). */
export const systemRunner: CommandRunner = (command, args) => {
  const path = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean).join(':');
  const r = spawnSync(command, [...args], {
    encoding: 'latin1',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: MAX_TOOL_OUTPUT,
    timeout: TOOL_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    env: { ...process.env, PATH: path, LC_ALL: 'C' },
  });
  const out = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ...out, error: 'not-installed' };
    if (code === 'ETIMEDOUT') return { ...out, error: 'timed-out' };
    if (code === 'ENOBUFS') return { ...out, error: 'too-much-output' };
    return { ...out, error: 'failed-to-start' };
  }
  return out;
};

type Parsed<T> = ({ ok: true } & T) | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** A decimal count that must fit a JavaScript number exactly. */
function safeCount(digits: string): number | undefined {
  if (!/^\d{1,40}$/.test(digits)) return undefined;
  const n = BigInt(digits);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}

/** The first line of `text` that says something, cleaned and cut for a one-line reason. */
export function firstMessage(text: string): string | undefined {
  for (const raw of text.slice(0, 64 * 1024).split('\n')) {
    const line = raw.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
    if (line && !/^\/\S+:$/.test(line)) return line.length > 160 ? `${line.slice(0, 157)}...` : line;
  }
  return undefined;
}

/**
 * Parses `hdparm -N DEV` (hdparm 6.9 to 9.65): " max sectors   = VISIBLE/NATIVE, HPA is enabled",
 * "…, HPA is disabled", "…, ACCESSIBLE MAX ADDRESS enabled|disabled" (ACS-3 drives), or
 * "…/NATIVE(DCO?), HPA setting seems invalid" when the drive's answer makes no sense.
 */
export function parseHdparmN(text: string): Parsed<{ visible: number; native: number; feature: 'hpa' | 'accessible-max-address'; enabled: boolean }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('hdparm printed more than 1 MiB');
  const re = /max sectors\s*=\s*(\d+)\s*\/\s*(\d+)(\(\d+\?\))?\s*,\s*(HPA is enabled|HPA is disabled|ACCESSIBLE MAX ADDRESS enabled|ACCESSIBLE MAX ADDRESS disabled|HPA setting seems invalid)/g;
  const found = [...text.matchAll(re)].slice(0, 4);
  if (found.length === 0) return fail(firstMessage(text) ?? 'hdparm printed no "max sectors" line');
  if (found.length > 1 && found.some((m) => m[0] !== found[0]![0])) return fail('hdparm printed more than one, different "max sectors" line');
  const m = found[0]!;
  const visible = safeCount(m[1]!);
  const native = safeCount(m[2]!);
  if (visible === undefined || native === undefined) return fail(`hdparm's sector counts ${m[1]!.slice(0, 24)}/${m[2]!.slice(0, 24)} are out of range`);
  const state = m[4]!;
  if (state === 'HPA setting seems invalid') return fail(`hdparm: max sectors ${visible}/${native}, HPA setting seems invalid`);
  const enabled = state.endsWith('enabled');
  if (enabled !== visible < native) return fail(`hdparm: max sectors ${visible}/${native} contradicts "${state}"`);
  if (native === 0) return fail('hdparm: the drive reports a native maximum of 0 sectors');
  return { ok: true, visible, native, feature: state.startsWith('HPA') ? 'hpa' : 'accessible-max-address', enabled };
}

/** Parses `hdparm --dco-identify DEV`: "Real max sectors: N" from the DCO identify data. */
export function parseDcoIdentify(text: string): Parsed<{ realMax: number }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('hdparm printed more than 1 MiB');
  if (/DCO Checksum FAILED/i.test(text)) return fail('hdparm: the DCO identify data has a bad checksum');
  const found = [...text.matchAll(/Real max sectors:\s*(\d+)/g)].slice(0, 4);
  if (found.length === 0) return fail(firstMessage(text) ?? 'hdparm printed no "Real max sectors" line');
  if (found.some((m) => m[1] !== found[0]![1])) return fail('hdparm printed more than one, different "Real max sectors" line');
  const realMax = safeCount(found[0]![1]!);
  if (realMax === undefined) return fail('hdparm: "Real max sectors" is out of range');
  // All-zero DCO data (a bridge or driver that returned nothing) decodes as 0 + 1.
  if (realMax <= 1) return fail(`hdparm: "Real max sectors: ${realMax}" (the drive returned no DCO data)`);
  return { ok: true, realMax };
}

/**
 * Parses `hdparm -I DEV` for one fact: whether the drive has the DCO feature set (IDENTIFY DEVICE
 * word 83 bit 11, listed under "Commands/features"). Without it no DCO can exist.
 */
export function parseIdentifyDcoSupport(text: string): Parsed<{ supported: boolean }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('hdparm printed more than 1 MiB');
  const start = text.indexOf('Commands/features:');
  if (start < 0) return fail(firstMessage(text) ?? 'hdparm -I printed no feature list');
  return { ok: true, supported: /^\s*\*?\s*Device Configuration Overlay feature set\s*$/m.test(text.slice(start)) };
}

/** One unsigned field of nvme-cli's JSON, exactly: big values are read from the text, not from a lossy double. */
function jsonCount(obj: Record<string, unknown>, raw: string, key: string): number | undefined | 'bad' {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v >= 0 ? v : 'bad';
  if (typeof v === 'string') return safeCount(v.trim()) ?? 'bad';
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    // nvme-cli prints 128-bit capacities as bare integers, and some versions as doubles ("123.000000").
    const m = new RegExp(`"${key}"\\s*:\\s*(\\d{1,40})(?:\\.0+)?\\s*[,}\\n]`).exec(raw);
    return m ? (safeCount(m[1]!) ?? 'bad') : 'bad';
  }
  return 'bad';
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** "key : value" lines of nvme-cli's normal output; the first of each key wins. */
function normalFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(0, 10_000)) {
    const m = /^([a-z][a-z0-9_]{0,15})\s*:\s*(.*)$/.exec(line.trimEnd());
    if (m && !out.has(m[1]!)) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** A value of the normal output: "0x773bd2b0", "0x773bd2b0(2000409264)" or "1600321314816". */
function normalCount(v: string | undefined): number | undefined | 'bad' {
  if (v === undefined) return undefined;
  const hex = /^0x([0-9a-f]{1,32})\b/i.exec(v.trim());
  if (hex) {
    const n = BigInt(`0x${hex[1]}`);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : 'bad';
  }
  const dec = /^(\d{1,40})\s*$/.exec(v.trim());
  return dec ? (safeCount(dec[1]!) ?? 'bad') : 'bad';
}

/** Logical block sizes NVMe namespaces use: 512 bytes to 64 KiB (LBADS 9 to 16). */
const validLbads = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 9 && n <= 16;

/**
 * Parses `nvme id-ns DEV -o json` (nvme-cli 1.x/2.x; the normal output is understood too):
 * NSZE, NCAP, NUSE and the block size of the LBA format in use (FLBAS bits 3:0 and 6:5).
 */
export function parseNvmeIdNs(text: string): Parsed<{ nsze: number; ncap?: number; nuse?: number; blockSize: number }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('nvme printed more than 1 MiB');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const o = parseJsonObject(trimmed);
    if (!o) return fail('nvme id-ns printed JSON that does not parse');
    const nsze = jsonCount(o, trimmed, 'nsze');
    const ncap = jsonCount(o, trimmed, 'ncap');
    const nuse = jsonCount(o, trimmed, 'nuse');
    const flbas = jsonCount(o, trimmed, 'flbas');
    if (nsze === undefined || nsze === 'bad' || ncap === 'bad' || nuse === 'bad') return fail('nvme id-ns: NSZE, NCAP or NUSE missing or not a count');
    if (flbas === undefined || flbas === 'bad' || flbas > 255) return fail('nvme id-ns: FLBAS missing or invalid');
    const index = (flbas & 0xf) | (((flbas >> 5) & 0x3) << 4);
    const lbafs = o.lbafs;
    const lbaf = Array.isArray(lbafs) && index < lbafs.length ? (lbafs[index] as Record<string, unknown> | null) : undefined;
    const ds = lbaf && typeof lbaf === 'object' ? lbaf.ds : undefined;
    if (!validLbads(ds)) return fail(`nvme id-ns: LBA format ${index} (in use) has no valid data size`);
    return { ok: true, nsze, ...(ncap !== undefined ? { ncap } : {}), ...(nuse !== undefined ? { nuse } : {}), blockSize: 2 ** ds };
  }
  const f = normalFields(text);
  const nsze = normalCount(f.get('nsze'));
  const ncap = normalCount(f.get('ncap'));
  const nuse = normalCount(f.get('nuse'));
  if (nsze === undefined || nsze === 'bad' || ncap === 'bad' || nuse === 'bad') return fail(firstMessage(text) ?? 'nvme id-ns printed no NSZE');
  const inUse =
    /^\s*lbaf\s+\d+\s*:.*\blbads:(\d+).*\(in use\)/m.exec(text) ?? /^\s*LBA Format\s+\d+\s*:.*Data Size:\s*(\d+)\s*bytes.*\(in use\)/m.exec(text);
  if (!inUse) return fail('nvme id-ns: no LBA format is marked in use');
  const v = Number(inUse[1]);
  const blockSize = inUse[0].includes('lbads:') ? (validLbads(v) ? 2 ** v : undefined) : [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536].includes(v) ? v : undefined;
  if (blockSize === undefined) return fail('nvme id-ns: the LBA format in use has no valid data size');
  return { ok: true, nsze, ...(ncap !== undefined ? { ncap } : {}), ...(nuse !== undefined ? { nuse } : {}), blockSize };
}

/** Parses `nvme id-ctrl DEV -o json` (normal output too): TNVMCAP and UNVMCAP in bytes, model, serial. */
export function parseNvmeIdCtrl(text: string): Parsed<{ tnvmcap?: number; unvmcap?: number; model?: string; serial?: string; firmware?: string }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('nvme printed more than 1 MiB');
  const trimmed = text.trim();
  let tnvmcap: number | undefined | 'bad';
  let unvmcap: number | undefined | 'bad';
  let strings: (string | undefined)[];
  if (trimmed.startsWith('{')) {
    const o = parseJsonObject(trimmed);
    if (!o) return fail('nvme id-ctrl printed JSON that does not parse');
    tnvmcap = jsonCount(o, trimmed, 'tnvmcap');
    unvmcap = jsonCount(o, trimmed, 'unvmcap');
    strings = ['mn', 'sn', 'fr'].map((k) => (typeof o[k] === 'string' ? (o[k] as string) : undefined));
    if (strings[0] === undefined && tnvmcap === undefined) return fail('nvme id-ctrl printed JSON without controller fields');
  } else {
    const f = normalFields(text);
    if (!f.has('mn') && !f.has('tnvmcap')) return fail(firstMessage(text) ?? 'nvme id-ctrl printed no controller fields');
    tnvmcap = normalCount(f.get('tnvmcap'));
    unvmcap = normalCount(f.get('unvmcap'));
    strings = ['mn', 'sn', 'fr'].map((k) => f.get(k));
  }
  if (tnvmcap === 'bad' || unvmcap === 'bad') return fail('nvme id-ctrl: TNVMCAP or UNVMCAP is not a byte count');
  const [model, serial, firmware] = strings.map((s) => s?.replace(/[\x00-\x1f\x7f]/g, '?').trim().slice(0, 64) || undefined);
  return {
    ok: true,
    ...(tnvmcap !== undefined ? { tnvmcap } : {}),
    ...(unvmcap !== undefined ? { unvmcap } : {}),
    ...(model ? { model } : {}),
    ...(serial ? { serial } : {}),
    ...(firmware ? { firmware } : {}),
  };
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

function failedRun(tool: string, args: readonly string[], r: CommandResult): string {
  if (r.error === 'timed-out') return `${tool} ${args[0]} did not finish within ${TOOL_TIMEOUT_MS / 1000} s`;
  if (r.error === 'too-much-output') return `${tool} ${args[0]} printed more than 1 MiB`;
  if (r.error === 'failed-to-start') return `${tool} could not be started`;
  const msg = firstMessage(r.stderr) ?? firstMessage(r.stdout);
  return `${tool} ${args[0]} ${r.status === null ? 'was killed' : `exited ${r.status}`}${msg ? `: ${msg}` : ''}`;
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
