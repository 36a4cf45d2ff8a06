import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromFsError } from '../errors';
import { type BlockDeviceInfo, blockDeviceInfo } from './device';
import { classify, type SourceKind } from './file';
import type { CommandRunner } from './drive-tools';
import { detectHiddenAreas, type HiddenAreas, hiddenAreasOfFile } from './hidden-areas';
import { currentMounts, type MountEntry } from './mounts';

/** A mount (or swap area) that uses the source or one of its partitions. */
export interface SourceMount {
  device: string;
  mountPoint: string;
  fsType: string;
  readWrite: boolean;
}

/** What `custos info` reports about a source, and what the manifest records. */
export interface SourceInfo {
  path: string;
  realPath: string;
  kind: SourceKind;
  sizeBytes: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  /** sizeBytes / logicalSectorSize, rounded up (a file need not end on a sector boundary). */
  sectors: number;
  /** The kernel read-only flag; null for a regular file, which has none. */
  readOnly: boolean | null;
  device?: BlockDeviceInfo;
  /** Mounts and swap areas on the device, its partitions or the devices stacked on it. */
  mounts: SourceMount[];
  /** For a regular file, when hidden areas were asked about: not applicable, and why (a device's are in device.hiddenAreas). */
  hiddenAreas?: HiddenAreas;
}

/**
 * Reads the facts about `path` that acquisition and `custos info` need. With `env.hiddenAreas`
 * (acquire, info) that includes its hidden areas (HPA, DCO, NVMe capacity outside the namespace),
 * asked of the drive through hdparm or nvme-cli by `env.runCommand`; hashing and verifying a
 * device do not ask the drive anything.
 */
export function describeSource(
  path: string,
  env: { sysRoot?: string; mountinfo?: string; swaps?: string; runCommand?: CommandRunner; hiddenAreas?: boolean } = {},
): SourceInfo {
  let kind: SourceKind;
  let realPath: string;
  let size: number;
  try {
    const st = statSync(path);
    kind = classify(path, st);
    realPath = realpathSync(path);
    size = st.size;
  } catch (err) {
    throw fromFsError(err, path, 'looking it up') ?? err;
  }
  if (kind === 'file') {
    // A regular file has no sector size of its own; 512 bytes is what every imaging tool assumes.
    return {
      path,
      realPath,
      kind,
      sizeBytes: size,
      logicalSectorSize: 512,
      physicalSectorSize: 512,
      sectors: Math.ceil(size / 512),
      readOnly: null,
      mounts: [],
      ...(env.hiddenAreas ? { hiddenAreas: hiddenAreasOfFile() } : {}),
    };
  }
  const device = blockDeviceInfo(path, env.sysRoot);
  if (env.hiddenAreas) device.hiddenAreas = detectHiddenAreas(device, path, env.runCommand);
  const { mounts, swaps } = currentMounts(env.mountinfo, env.swaps);
  return {
    path,
    realPath,
    kind,
    sizeBytes: device.sizeBytes,
    logicalSectorSize: device.logicalSectorSize,
    physicalSectorSize: device.physicalSectorSize,
    sectors: Math.ceil(device.sizeBytes / device.logicalSectorSize),
    readOnly: device.readOnly,
    device,
    mounts: mountsOf(device, mounts, swaps, env.sysRoot ?? '/sys'),
  };
}

/** The mounts that touch the device: by device number, or by /dev name for sources given as paths. */
export function mountsOf(device: BlockDeviceInfo, mounts: MountEntry[], swaps: string[], sysRoot = '/sys'): SourceMount[] {
  const names = new Map<string, string>(); // devNumber -> name
  names.set(device.devNumber, device.name);
  for (const p of device.partitions) names.set(p.devNumber, p.name);
  for (const h of device.holders) {
    try {
      const dev = readFileSync(join(sysRoot, 'class', 'block', h, 'dev'), 'utf8').trim();
      names.set(dev, h);
    } catch {
      // A holder that vanished meanwhile cannot be mounted.
    }
  }
  const byName = new Set([...names.values()].map((n) => `/dev/${n}`));
  const out: SourceMount[] = [];
  for (const m of mounts) {
    const name = names.get(m.devNumber);
    if (name || byName.has(m.source)) {
      out.push({ device: name ? `/dev/${name}` : m.source, mountPoint: m.mountPoint, fsType: m.fsType, readWrite: m.readWrite });
    }
  }
  for (const s of swaps) {
    if (byName.has(s)) out.push({ device: s, mountPoint: '[swap]', fsType: 'swap', readWrite: true });
  }
  return out;
}
