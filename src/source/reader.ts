import { closeSync, constants, fstatSync, openSync, read as readCb, readFileSync, type Stats, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { CustosError, fromFsError } from '../errors';
import { addRange, type ByteRange, type ByteSource } from '../formats/types';
import { devNumber } from '../protect';
import type { SourceKind } from './file';
import { classify } from './file';
import { protectSource } from './evidence';

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

/** Block size of the first re-read pass after a failure, before going sector by sector. */
const RECOVERY_BLOCK = 64 * 1024;

/**
 * Consecutive unreadable bytes after which the canary is re-read (then again after every further
 * recovery block): a dead source fails everywhere, a bad patch leaves the canary readable.
 */
const CANARY_AFTER = 4096;

/** What the source was when opened, to notice when its path names something else or nothing. */
interface OpenedAs {
  dev: number;
  ino: number;
  rdev: number;
  /** Block devices: sysfs's size file (512-byte units) and what it said. */
  sysSize?: string;
  sysSectors?: number;
}

export interface ReaderOptions {
  /** Re-reads of a failing sector after the first sector-sized attempt (dc3dd/ddrescue style). */
  retries: number;
  /** Bytes per sector: the unit of recovery and of error reporting. */
  sectorSize: number;
  /** False: a media error fails the read instead of being recovered (hashing, not acquiring). */
  recover?: boolean;
  /** False: never O_DIRECT (when no aligned memory can be had for it). */
  direct?: boolean;
  /**
   * Whether the command reading can continue with --resume after SOURCE_DISCONNECTED (an
   * acquisition); the error's hint says so. Default: when recovering (`recover` not false).
   */
  resumable?: boolean;
}

/**
 * Reads a source read-only, with bad-sector recovery: when a read fails, the region is re-read in
 * 64 KiB blocks, then sector by sector with retries; sectors that never read are zero-filled and
 * reported, and every later byte stays at its offset. Block devices are read with O_DIRECT, so a
 * bad sector costs exactly that sector (buffered reads fail whole 4 KiB pages). Regular files are
 * read through the page cache, with O_DIRECT for the recovery reads where the file system allows.
 *
 * A source that stops answering as a whole (unplugged, its connection or FUSE daemon gone) is
 * not a run of bad sectors: it fails with SOURCE_DISCONNECTED at once, so that the acquisition
 * stops resumable instead of zero-filling the rest. Signs: a disconnection errno; the path no
 * longer leading to what was opened (stat, and sysfs's size for block devices); the canary, the
 * last sector that read fine, failing too when failures pile up or a read fails unexpectedly.
 * Genuine bad sectors cost one stat per failed chunk and one canary read per 64 KiB of them.
 */
export class SourceReader implements ByteSource {
  /**
   * Offset of the last sector that read fine. Re-read when failures pile up: if it fails too,
   * the source stopped answering (unplugged, connection dropped) instead of having bad sectors.
   */
  private canary: number | undefined;
  private openedAs: OpenedAs | undefined;

  private constructor(
    readonly path: string,
    readonly kind: SourceKind,
    /** Descriptor for the bulk reads. */
    readonly fd: number,
    /** Descriptor for recovery reads (O_DIRECT where possible); may equal `fd`. */
    readonly recoveryFd: number,
    /** Whether `fd` bypasses the page cache. */
    readonly direct: boolean,
    /** Whether recovery reads bypass the page cache. */
    readonly recoveryDirect: boolean,
    private readonly options: ReaderOptions,
  ) {}

  /** The descriptors that use O_DIRECT, for aligning the read buffers. */
  get directFds(): number[] {
    return [...new Set([this.direct ? this.fd : -1, this.recoveryDirect ? this.recoveryFd : -1])].filter((fd) => fd >= 0);
  }

  /** Opens `path` read-only, never with a writable descriptor, and marks it as evidence nothing may be written onto. */
  static open(path: string, options: ReaderOptions): SourceReader {
    protectSource(path);
    let kind: SourceKind;
    try {
      kind = classify(path, statSync(path));
    } catch (err) {
      throw fromFsError(err, path, 'looking it up') ?? err;
    }
    const base = constants.O_RDONLY;
    const tryOpen = (flags: number): number | undefined => {
      try {
        return openSync(path, flags);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINVAL' || code === 'EPERM' || code === 'EOPNOTSUPP') return undefined;
        throw fromFsError(err, path, 'opening it read-only') ?? err;
      }
    };
    const wantDirect = options.direct !== false;
    let reader: SourceReader;
    if (kind === 'block-device') {
      const directFd = wantDirect ? tryOpen(base | constants.O_DIRECT) : undefined;
      const fd = directFd ?? tryOpen(base)!;
      reader = new SourceReader(path, kind, fd, fd, directFd !== undefined, directFd !== undefined, options);
    } else {
      const fd = tryOpen(base | constants.O_NOATIME) ?? tryOpen(base)!;
      const directFd = wantDirect ? (tryOpen(base | constants.O_DIRECT | constants.O_NOATIME) ?? tryOpen(base | constants.O_DIRECT)) : undefined;
      reader = new SourceReader(path, kind, fd, directFd ?? fd, false, directFd !== undefined, options);
    }
    // What was opened, not what the path named a moment before.
    const opened = fstatSync(reader.fd);
    reader.openedAs = { dev: opened.dev, ino: opened.ino, rdev: opened.rdev };
    if (kind === 'block-device') {
      const sysSize = `/sys/dev/block/${devNumber(opened.rdev)}/size`;
      reader.openedAs.sysSize = sysSize;
      reader.openedAs.sysSectors = readSectors(sysSize);
    }
    return reader;
  }

  /**
   * Fills `view` with the `view.length` bytes at `position`. Unreadable sectors are zero-filled
   * and returned as byte ranges (sorted, merged). Fails on errors that are not media errors,
   * when the source ends early, and with SOURCE_DISCONNECTED when the source stopped answering
   * as a whole (device gone, connection dropped, every read failing) rather than in places.
   */
  async readFully(view: Uint8Array, position: number): Promise<ByteRange[]> {
    let done = 0;
    while (done < view.length) {
      let n: number;
      try {
        ({ bytesRead: n } = await read(this.fd, view, done, view.length - done, position + done));
      } catch (err) {
        const at = position + done;
        if (!isMediaError(err) || this.options.recover === false) {
          // Failing either way: the view is scratch space for the canary, to say whether the source is gone.
          await this.checkAlive(view, done - (done % this.options.sectorSize), at, err);
          throw this.wrap(err, at);
        }
        const gone = this.vanished();
        if (gone) throw this.disconnected(at, gone, err);
        return this.recover(view, done, position);
      }
      if (n === 0) {
        const gone = this.vanished();
        if (gone) throw this.disconnected(position + done, gone);
        throw new CustosError('IO_ERROR', `${this.path}: ended at byte ${position + done}, before the expected ${position + view.length}`, {
          path: this.path,
          hint: 'The source shrank or was disconnected during the acquisition; check the connection and the kernel log (dmesg).',
        });
      }
      this.readFine(position + done, n);
      done += n;
    }
    return [];
  }

  /** Re-reads view[from..] in blocks, then failing blocks sector by sector with retries. */
  private async recover(view: Uint8Array, from: number, position: number): Promise<ByteRange[]> {
    const sector = this.options.sectorSize;
    const bad: ByteRange[] = [];
    const firstCheck = Math.max(1, Math.floor(CANARY_AFTER / sector));
    const everyCheck = Math.max(1, Math.floor(RECOVERY_BLOCK / sector));
    // Consecutive sectors that never read, from runStart: a long run is either a bad patch or a dead source.
    let run = 0;
    let runStart = 0;
    // Sector-aligned start: the failed read may have started mid-sector after a short read.
    const start = from - (from % sector);
    for (let block = start; block < view.length; block += RECOVERY_BLOCK) {
      const end = Math.min(block + RECOVERY_BLOCK, view.length);
      if (await this.attempt(view, block, end - block, position)) {
        run = 0;
        continue;
      }
      for (let s = block; s < end; s += sector) {
        const len = Math.min(sector, end - s);
        let ok = false;
        for (let attempt = 0; attempt <= this.options.retries && !ok; attempt++) ok = await this.attempt(view, s, len, position);
        if (ok) {
          run = 0;
          continue;
        }
        if (run++ === 0) runStart = position + s;
        // The sector failed: its place in the view is free to receive the canary before it is zero-filled.
        if (run === firstCheck || (run > firstCheck && (run - firstCheck) % everyCheck === 0)) {
          const gone = this.vanished();
          if (gone) throw this.disconnected(runStart, gone);
          await this.checkCanary(view, s, runStart);
        }
        view.fill(0, s, s + len);
        addRange(bad, position + s, len);
      }
    }
    return bad;
  }

  /** One recovery read of exactly `length` bytes; false on a media error. */
  private async attempt(view: Uint8Array, at: number, length: number, position: number): Promise<boolean> {
    let done = 0;
    while (done < length) {
      try {
        const { bytesRead } = await read(this.recoveryFd, view, at + done, length - done, position + at + done);
        if (bytesRead === 0) return false;
        this.readFine(position + at + done, bytesRead);
        done += bytesRead;
      } catch (err) {
        if (isMediaError(err)) return false;
        // Failing either way: the range being recovered is scratch space for the canary.
        await this.checkAlive(view, at, position + at + done, err);
        throw this.wrap(err, position + at + done);
      }
    }
    return true;
  }

  /** Remembers the last whole sector of a successful read as the canary. */
  private readFine(offset: number, length: number): void {
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
  private async checkAlive(view: Uint8Array, scratch: number, offset: number, cause: unknown): Promise<void> {
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
  private async checkCanary(view: Uint8Array, at: number, offset: number, cause?: unknown): Promise<void> {
    const sector = this.options.sectorSize;
    const canary = this.canary;
    if (canary === undefined || at < 0 || at + sector > view.length) return;
    let last: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const { bytesRead } = await read(this.recoveryFd, view, at, sector, canary);
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
  private vanished(): string | undefined {
    const was = this.openedAs;
    if (!was) return undefined;
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

  private disconnected(offset: number, reason: string, cause?: unknown): CustosError {
    return new CustosError('SOURCE_DISCONNECTED', `${this.path}: the source stopped answering at byte ${offset}: ${reason}`, {
      path: this.path,
      cause,
      hint:
        (this.options.resumable ?? this.options.recover !== false)
          ? 'Reconnect it (check the cable or connection and the kernel log, dmesg), then run the same command with --resume to continue where it stopped.'
          : 'Reconnect it (check the cable or connection and the kernel log, dmesg), then run the same command again.',
    });
  }

  private wrap(err: unknown, offset: number): unknown {
    return fromFsError(err, this.path, `reading at byte offset ${offset}`) ?? err;
  }

  /**
   * Closes the descriptors. Errors are ignored: Linux releases a descriptor even when close
   * fails, nothing was written through these, and a source that went away fails its close too
   * (FUSE: ENOTCONN), which must not hide why the reading stopped.
   */
  close(): void {
    for (const fd of new Set([this.fd, this.recoveryFd])) {
      try {
        closeSync(fd);
      } catch {
        // Released anyway; see above.
      }
    }
  }
}

/** The errno name of a failed system call, also for errnos Node has no name for. */
function errnoName(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) return e.code;
  if (typeof e?.errno === 'number') return LINUX_ERRNO_NAMES[Math.abs(e.errno)] ?? '';
  return '';
}

function isMediaError(err: unknown): boolean {
  return MEDIA_ERRORS.has(errnoName(err));
}

function isDisconnectError(err: unknown): boolean {
  return DISCONNECT_ERRORS.has(errnoName(err));
}

/** "ENOTCONN (socket is not connected)", from a Node errno exception. */
function describeErrno(err: unknown): string {
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

