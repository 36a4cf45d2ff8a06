import { execFileSync } from 'node:child_process';
import { CustosError } from '../errors';
import type { SourceInfo, SourceMount } from './info';

/** How the source was protected from writes, and the kernel flag as observed around the acquisition. */
export interface WriteBlockRecord {
  method: 'kernel-read-only-flag' | 'read-only-open' | 'not-set-mounted-read-write';
  /** How the flag was set, for the record. */
  mechanism: string;
  /** Descriptor flags the source was opened with. */
  openFlags: string[];
  /** The kernel flag before custos touched it (null for a regular file). */
  readOnlyBefore: boolean | null;
  /** The flag read back right after setting it. */
  readOnlyAfterSet: boolean | null;
  /** The flag read back when the acquisition ended. */
  readOnlyAtEnd: boolean | null;
  /** Partitions whose flag was set too. */
  partitions: string[];
  /** The user chose to acquire although the source was mounted read-write. */
  allowMounted: boolean;
  /** Mounts present when the acquisition started. */
  mountsAtStart: SourceMount[];
}

/** Runs util-linux blockdev(8): --setro issues BLKROSET, --getro reads BLKROGET. */
export type Blockdev = (args: string[]) => string;
export const systemBlockdev: Blockdev = (args) => execFileSync('blockdev', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function getRo(blockdev: Blockdev, dev: string): boolean {
  return blockdev(['--getro', dev]).trim() === '1';
}

function getRoQuietly(blockdev: Blockdev, dev: string): boolean | null {
  try {
    return getRo(blockdev, dev);
  } catch {
    return null;
  }
}

/**
 * Refuses a source mounted read-write (unless allowed), then, for a block device, sets the kernel
 * read-only flag on it and its partitions and confirms it reads back as set. A regular file gets
 * a read-only open only: no kernel write-block applies to it, and the record says so.
 */
export function applyWriteBlock(
  info: SourceInfo,
  options: { allowMounted: boolean; openFlags: string[] },
  blockdev: Blockdev = systemBlockdev,
): WriteBlockRecord {
  const rw = info.mounts.filter((m) => m.readWrite);
  if (rw.length > 0 && !options.allowMounted) {
    const where = rw.map((m) => `${m.device} on ${m.mountPoint}`).join(', ');
    throw new CustosError('SOURCE_MOUNTED', `${info.path} is mounted read-write (${where}); acquiring it would image a changing file system`, {
      path: info.path,
      hint: 'Unmount it first (umount), or pass --allow-mounted to acquire anyway; the manifest will say so.',
    });
  }
  const base = { openFlags: options.openFlags, allowMounted: options.allowMounted, mountsAtStart: info.mounts };
  if (info.kind === 'file') return { ...readOnlyOpen('regular file opened O_RDONLY; no kernel write-block applies to a file'), ...base };
  if (rw.length > 0) {
    // Setting BLKROSET under a read-write mount makes the running system's writes fail (a live
    // system disk would crash): the user asked for a live acquisition, so only the open is read-only.
    return {
      ...base,
      method: 'not-set-mounted-read-write',
      mechanism: 'kernel read-only flag NOT set: the device is mounted read-write and --allow-mounted was given (live acquisition); the source was opened O_RDONLY only',
      readOnlyBefore: getRoQuietly(blockdev, info.path),
      readOnlyAfterSet: null,
      readOnlyAtEnd: null,
      partitions: [],
    };
  }
  const dev = `/dev/${info.device!.name}`;
  const partitions = info.device!.partitions.map((p) => `/dev/${p.name}`);
  let before: boolean;
  let after: boolean;
  try {
    before = getRo(blockdev, info.path);
    for (const d of [info.path, ...partitions]) blockdev(['--setro', d]);
    after = getRo(blockdev, info.path) && partitions.every((p) => getRo(blockdev, p));
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? (err as Error).message).trim();
    throw new CustosError('WRITE_BLOCK_FAILED', `${info.path}: could not set the kernel read-only flag (blockdev --setro ${dev}): ${stderr}`, {
      path: info.path,
      cause: err,
      hint: 'Run custos as root (setting BLKROSET needs CAP_SYS_ADMIN) and check that util-linux is installed.',
    });
  }
  if (!after) {
    throw new CustosError('WRITE_BLOCK_FAILED', `${info.path}: the kernel read-only flag did not read back as set`, {
      path: info.path,
      hint: 'Do not acquire from this device without a hardware write blocker; check the kernel log (dmesg).',
    });
  }
  return {
    ...base,
    method: 'kernel-read-only-flag',
    mechanism: 'blockdev --setro (ioctl BLKROSET) on the device and its partitions, checked with blockdev --getro (BLKROGET)',
    readOnlyBefore: before,
    readOnlyAfterSet: after,
    readOnlyAtEnd: null,
    partitions,
  };
}

/** The record of a source that is a file, protected by its read-only open alone (no kernel flag applies). */
export function readOnlyOpen(mechanism: string, openFlags: string[] = ['O_RDONLY']): WriteBlockRecord {
  return {
    method: 'read-only-open',
    mechanism,
    openFlags,
    readOnlyBefore: null,
    readOnlyAfterSet: null,
    readOnlyAtEnd: null,
    partitions: [],
    allowMounted: false,
    mountsAtStart: [],
  };
}

/** Reads the flag again at the end, so the record shows it stayed set throughout. */
export function readOnlyNow(info: SourceInfo, blockdev: Blockdev = systemBlockdev): boolean | null {
  return info.kind === 'file' ? null : getRoQuietly(blockdev, info.path);
}
