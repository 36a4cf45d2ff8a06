/**
 * Telling a source that stopped answering as a whole (unplugged, its connection or FUSE daemon
 * gone) from one with bad sectors, for SourceReader (reader.ts): a bad patch is recovered and
 * zero-filled, a vanished source must fail at once with SOURCE_DISCONNECTED so that an acquisition
 * stops resumable instead of zero-filling the rest.
 *
 * Signs, cheapest first: an errno that says so (a table, with Linux numbers Node has no name
 * for); the path no longer leading to what was opened (stat, and sysfs's size for block devices);
 * the canary, the last sector that read fine, failing too when failures pile up or a read fails
 * unexpectedly. Genuine bad sectors cost one stat per failed chunk and one canary read per 64 KiB.
 */
import { fstatSync, read as readCb, readFileSync, type Stats, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { CustosError } from '../errors';
import { devNumber } from '../protect';
import type { SourceKind } from './file';

const read = promisify(readCb);

/**
 * Errno values a failing medium produces; anything else is not a bad sector. A timed-out
 * command (ETIMEDOUT from the block layer) may be a slow bad sector or a dead link: the canary
 * tells which.
 */
const MEDIA_ERRORS = new Set(['EIO', 'ENODATA', 'EBADMSG', 'EILSEQ', 'EREMOTEIO', 'ETIMEDOUT']);

/**
 * Errno values that say the source itself went away, not one sector: the device was removed
 * (ENODEV, ENXIO, ENOMEDIUM), or the connection to a network or FUSE-backed source dropped.
 */
const DISCONNECT_ERRORS = new Set([
  'ENODEV',
  'ENXIO',
  'ENOMEDIUM',
  'ENOTCONN',
  'ESHUTDOWN',
  'ECONNRESET',
  'ECONNABORTED',
  'ECONNREFUSED',
  'EPIPE',
  'ENOLINK',
  'ESTALE',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ENETUNREACH',
  'ENETRESET',
]);

/**
 * Linux errno numbers for the names above that Node's error table lacks (it reports them as
 * "Unknown system error -N"), so that they are recognised by number.
 */
const LINUX_ERRNO_NAMES: Record<number, string> = {
  5: 'EIO',
  6: 'ENXIO',
  19: 'ENODEV',
  32: 'EPIPE',
  61: 'ENODATA',
  67: 'ENOLINK',
  74: 'EBADMSG',
  84: 'EILSEQ',
  100: 'ENETDOWN',
  101: 'ENETUNREACH',
  102: 'ENETRESET',
  103: 'ECONNABORTED',
  104: 'ECONNRESET',
  107: 'ENOTCONN',
  108: 'ESHUTDOWN',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  112: 'EHOSTDOWN',
  113: 'EHOSTUNREACH',
  116: 'ESTALE',
  121: 'EREMOTEIO',
  123: 'ENOMEDIUM',
};

/** What the source was when opened, to notice when its path names something else or nothing. */
interface OpenedAs {
  dev: number;
  ino: number;
  rdev: number;
  /** Block devices: sysfs's size file (512-byte units) and what it said. */
  sysSize?: string;
  sysSectors?: number;
}

/** What the watch needs of the reader's options: the sector size, and whether a --resume can follow. */
export interface WatchOptions {
  sectorSize: number;
  recover?: boolean;
  resumable?: boolean;
}

/** The signs that one opened source stopped answering, kept while it is read. */
export class DisconnectWatch {
  /**
   * Offset of the last sector that read fine. Re-read when failures pile up: if it fails too,
   * the source stopped answering (unplugged, connection dropped) instead of having bad sectors.
   */
  private canary: number | undefined;

  private constructor(
    readonly path: string,
    readonly kind: SourceKind,
    /** Descriptor the canary is re-read through (the recovery one: O_DIRECT where possible). */
    private readonly fd: number,
    private readonly options: WatchOptions,
    private readonly openedAs: OpenedAs,
  ) {}

  /** Records what `openedFd` is (not what the path named a moment before); the canary is read through `canaryFd`. */
  static of(path: string, kind: SourceKind, openedFd: number, canaryFd: number, options: WatchOptions): DisconnectWatch {
    const opened = fstatSync(openedFd);
    const openedAs: OpenedAs = { dev: opened.dev, ino: opened.ino, rdev: opened.rdev };
    if (kind === 'block-device') {
      const sysSize = `/sys/dev/block/${devNumber(opened.rdev)}/size`;
      openedAs.sysSize = sysSize;
      openedAs.sysSectors = readSectors(sysSize);
    }
    return new DisconnectWatch(path, kind, canaryFd, options, openedAs);
  }

  /** Remembers the last whole sector of a successful read as the canary. */
  readFine(offset: number, length: number): void {
    const sector = this.options.sectorSize;
    const end = offset + length;
    const last = end - (end % sector) - sector;
    if (last >= offset) this.canary = last;
  }

  /**
   * After a read at `offset` failed with `cause` and custos is about to give up on it: throws
   * SOURCE_DISCONNECTED when the source as a whole stopped answering (an errno that says so,
   * its path leading elsewhere, or the canary failing too), else returns. An error that is not
   * a media error (a FUSE daemon or NBD client whose server died answers EINVAL, say) is thus
   * told apart from a bug of custos: the same kind of read worked at the canary before.
   */
  async checkAlive(view: Uint8Array, scratch: number, offset: number, cause: unknown): Promise<void> {
    if (isDisconnectError(cause)) throw this.disconnected(offset, readFailure(cause), cause);
    const gone = this.vanished();
    if (gone) throw this.disconnected(offset, gone, cause);
    await this.checkCanary(view, scratch, offset, cause);
  }

  /**
   * Re-reads the canary into view[at, at + sector) (space whose bytes are not needed); throws
   * SOURCE_DISCONNECTED when the sector that read fine before fails now, twice, with any error:
   * the same read, aligned the same way, worked. Without a canary, or without room, it cannot
   * tell and returns. Reads through the recovery descriptor, which bypasses the page cache where
   * O_DIRECT is possible (elsewhere a cached canary answers, and only the other signs remain).
   */
  async checkCanary(view: Uint8Array, at: number, offset: number, cause?: unknown): Promise<void> {
    const sector = this.options.sectorSize;
    const canary = this.canary;
    if (canary === undefined || at < 0 || at + sector > view.length) return;
    let last: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const { bytesRead } = await read(this.fd, view, at, sector, canary);
        if (bytesRead === sector) return;
        last = undefined;
      } catch (err) {
        if (isDisconnectError(err)) throw this.disconnected(offset, readFailure(err), err);
        last = err;
      }
    }
    const how = last === undefined ? 'it ends early' : errnoName(last) || 'an error';
    throw this.disconnected(offset, `reads fail everywhere, even at byte ${canary}, which read fine before (${how})`, last ?? cause);
  }

  /**
   * Why the path no longer leads to the source that was opened, or undefined while it does:
   * gone, another device or file now, or a block device the kernel no longer sizes as before.
   */
  vanished(): string | undefined {
    const was = this.openedAs;
    let st: Stats;
    try {
      st = statSync(this.path);
    } catch (err) {
      return `${this.path} can no longer be looked up: ${describeErrno(err)}`;
    }
    if (this.kind === 'block-device') {
      if (!st.isBlockDevice() || st.rdev !== was.rdev) return `${this.path} now names another device`;
      if (was.sysSize === undefined || was.sysSectors === undefined) return undefined;
      const sectors = readSectors(was.sysSize);
      if (sectors === undefined) return `the kernel no longer lists device ${devNumber(was.rdev)}`;
      if (sectors === 0) return 'the device now reports no medium (size 0)';
      if (sectors !== was.sysSectors) return `the device's size changed from ${was.sysSectors * 512} to ${sectors * 512} bytes`;
      return undefined;
    }
    if (st.dev !== was.dev || st.ino !== was.ino) return `${this.path} is now another file (its file system was unmounted or replaced)`;
    return undefined;
  }

  /** The SOURCE_DISCONNECTED error for a stop at `offset`, with the hint to reconnect (and --resume when it can follow). */
  disconnected(offset: number, reason: string, cause?: unknown): CustosError {
    return new CustosError('SOURCE_DISCONNECTED', `${this.path}: the source stopped answering at byte ${offset}: ${reason}`, {
      path: this.path,
      cause,
      hint:
        (this.options.resumable ?? this.options.recover !== false)
          ? 'Reconnect it (check the cable or connection and the kernel log, dmesg), then run the same command with --resume to continue where it stopped.'
          : 'Reconnect it (check the cable or connection and the kernel log, dmesg), then run the same command again.',
    });
  }
}

/** The errno name of a failed system call, also for errnos Node has no name for. */
export function errnoName(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) return e.code;
  if (typeof e?.errno === 'number') return LINUX_ERRNO_NAMES[Math.abs(e.errno)] ?? '';
  return '';
}

/** True for the errors a failing medium gives (a bad sector), as opposed to the source going away or a bug. */
export function isMediaError(err: unknown): boolean {
  return MEDIA_ERRORS.has(errnoName(err));
}

/** True for the errors that say the source as a whole went away (device removed, connection dropped). */
export function isDisconnectError(err: unknown): boolean {
  return DISCONNECT_ERRORS.has(errnoName(err));
}

/** "ENOTCONN (socket is not connected)", from a Node errno exception. */
export function describeErrno(err: unknown): string {
  const name = errnoName(err) || 'an error';
  const text = /^[A-Z0-9]+: ([^,]+)/.exec((err as Error)?.message ?? '')?.[1];
  return text ? `${name} (${text})` : name;
}

function readFailure(err: unknown): string {
  return `reads fail with ${describeErrno(err)}`;
}

/** A sysfs size file (512-byte units), or undefined when it is gone or unreadable. */
function readSectors(file: string): number | undefined {
  try {
    const t = readFileSync(file, 'latin1').trim();
    return /^\d+$/.test(t) ? Number(t) : undefined;
  } catch {
    return undefined;
  }
}

