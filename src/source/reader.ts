/**
 * Reading a source (a block device or a file) read-only for acquisition and hashing, with
 * bad-sector recovery. Telling a source that went away from one with bad sectors is its own
 * idea, in disconnect.ts.
 */
import { closeSync, constants, openSync, read as readCb, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { CustosError, fromFsError } from '../errors';
import { addRange, type ByteRange, type ByteSource } from '../formats/types';
import { DisconnectWatch, isMediaError } from './disconnect';
import type { SourceKind } from './file';
import { classify } from './file';
import { protectSource } from './evidence';

const read = promisify(readCb);

/** Block size of the first re-read pass after a failure, before going sector by sector. */
const RECOVERY_BLOCK = 64 * 1024;

/**
 * Consecutive unreadable bytes after which the canary is re-read (then again after every further
 * recovery block): a dead source fails everywhere, a bad patch leaves the canary readable.
 */
const CANARY_AFTER = 4096;

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
 * stops resumable instead of zero-filling the rest (the signs: disconnect.ts).
 */
export class SourceReader implements ByteSource {
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
    /** The signs that the source stopped answering as a whole (disconnect.ts). */
    private readonly watch: DisconnectWatch,
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
    let fd: number;
    let recoveryFd: number;
    let direct = false;
    let recoveryDirect: boolean;
    if (kind === 'block-device') {
      const directFd = wantDirect ? tryOpen(base | constants.O_DIRECT) : undefined;
      fd = recoveryFd = directFd ?? tryOpen(base)!;
      direct = recoveryDirect = directFd !== undefined;
    } else {
      fd = tryOpen(base | constants.O_NOATIME) ?? tryOpen(base)!;
      const directFd = wantDirect ? (tryOpen(base | constants.O_DIRECT | constants.O_NOATIME) ?? tryOpen(base | constants.O_DIRECT)) : undefined;
      recoveryFd = directFd ?? fd;
      recoveryDirect = directFd !== undefined;
    }
    // What was opened, not what the path named a moment before.
    const watch = DisconnectWatch.of(path, kind, fd, recoveryFd, options);
    return new SourceReader(path, kind, fd, recoveryFd, direct, recoveryDirect, options, watch);
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
          await this.watch.checkAlive(view, done - (done % this.options.sectorSize), at, err);
          throw this.wrap(err, at);
        }
        const gone = this.watch.vanished();
        if (gone) throw this.watch.disconnected(at, gone, err);
        return this.recover(view, done, position);
      }
      if (n === 0) {
        const gone = this.watch.vanished();
        if (gone) throw this.watch.disconnected(position + done, gone);
        throw new CustosError('IO_ERROR', `${this.path}: ended at byte ${position + done}, before the expected ${position + view.length}`, {
          path: this.path,
          hint: 'The source shrank or was disconnected during the acquisition; check the connection and the kernel log (dmesg).',
        });
      }
      this.watch.readFine(position + done, n);
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
          const gone = this.watch.vanished();
          if (gone) throw this.watch.disconnected(runStart, gone);
          await this.watch.checkCanary(view, s, runStart);
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
        this.watch.readFine(position + at + done, bytesRead);
        done += bytesRead;
      } catch (err) {
        if (isMediaError(err)) return false;
        // Failing either way: the range being recovered is scratch space for the canary.
        await this.watch.checkAlive(view, at, position + at + done, err);
        throw this.wrap(err, position + at + done);
      }
    }
    return true;
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
