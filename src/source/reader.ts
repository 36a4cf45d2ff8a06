import { closeSync, constants, openSync, read as readCb, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { CustosError, fromFsError } from '../errors';
import type { SourceKind } from './file';
import { classify } from './file';
import { protectSource } from './evidence';

const read = promisify(readCb);

/** A range of bytes that could not be read and was written as zeros. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Errno values a failing medium produces; anything else is not a bad sector. */
const MEDIA_ERRORS = new Set(['EIO', 'ENODATA', 'EBADMSG', 'EILSEQ', 'EREMOTEIO']);

/** Block size of the first re-read pass after a failure, before going sector by sector. */
const RECOVERY_BLOCK = 64 * 1024;

/** Anything the pipeline can stream from: a device, an evidence file, an image's files. */
export interface ByteSource {
  readonly path: string;
  /** Descriptors opened with O_DIRECT, whose reads need aligned memory. */
  readonly directFds: number[];
  /** Fills `view` with the bytes at `position`; returns the ranges that had to be zero-filled. */
  readFully(view: Uint8Array, position: number): Promise<ByteRange[]>;
  close(): void;
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
}

/**
 * Reads a source read-only, with bad-sector recovery: when a read fails, the region is re-read in
 * 64 KiB blocks, then sector by sector with retries; sectors that never read are zero-filled and
 * reported, and every later byte stays at its offset. Block devices are read with O_DIRECT, so a
 * bad sector costs exactly that sector (buffered reads fail whole 4 KiB pages). Regular files are
 * read through the page cache, with O_DIRECT for the recovery reads where the file system allows.
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
    if (kind === 'block-device') {
      const directFd = wantDirect ? tryOpen(base | constants.O_DIRECT) : undefined;
      const fd = directFd ?? tryOpen(base)!;
      return new SourceReader(path, kind, fd, fd, directFd !== undefined, directFd !== undefined, options);
    }
    const fd = tryOpen(base | constants.O_NOATIME) ?? tryOpen(base)!;
    const directFd = wantDirect ? (tryOpen(base | constants.O_DIRECT | constants.O_NOATIME) ?? tryOpen(base | constants.O_DIRECT)) : undefined;
    return new SourceReader(path, kind, fd, directFd ?? fd, false, directFd !== undefined, options);
  }

  /**
   * Fills `view` with the `view.length` bytes at `position`. Unreadable sectors are zero-filled
   * and returned as byte ranges (sorted, merged). Fails only on errors that are not media errors,
   * or when the source ends early.
   */
  async readFully(view: Uint8Array, position: number): Promise<ByteRange[]> {
    let done = 0;
    while (done < view.length) {
      let n: number;
      try {
        ({ bytesRead: n } = await read(this.fd, view, done, view.length - done, position + done));
      } catch (err) {
        if (!isMediaError(err) || this.options.recover === false) throw this.wrap(err, position + done);
        return this.recover(view, done, position);
      }
      if (n === 0) {
        throw new CustosError('IO_ERROR', `${this.path}: ended at byte ${position + done}, before the expected ${position + view.length}`, {
          path: this.path,
          hint: 'The source shrank or was disconnected during the acquisition; check the connection and the kernel log (dmesg).',
        });
      }
      done += n;
    }
    return [];
  }

  /** Re-reads view[from..] in blocks, then failing blocks sector by sector with retries. */
  private async recover(view: Uint8Array, from: number, position: number): Promise<ByteRange[]> {
    const sector = this.options.sectorSize;
    const bad: ByteRange[] = [];
    // Sector-aligned start: the failed read may have started mid-sector after a short read.
    const start = from - (from % sector);
    for (let block = start; block < view.length; block += RECOVERY_BLOCK) {
      const end = Math.min(block + RECOVERY_BLOCK, view.length);
      if (await this.attempt(view, block, end - block, position)) continue;
      for (let s = block; s < end; s += sector) {
        const len = Math.min(sector, end - s);
        let ok = false;
        for (let attempt = 0; attempt <= this.options.retries && !ok; attempt++) ok = await this.attempt(view, s, len, position);
        if (!ok) {
          view.fill(0, s, s + len);
          addRange(bad, position + s, len);
        }
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
        done += bytesRead;
      } catch (err) {
        if (isMediaError(err)) return false;
        throw this.wrap(err, position + at + done);
      }
    }
    return true;
  }

  private wrap(err: unknown, offset: number): unknown {
    return fromFsError(err, this.path, `reading at byte offset ${offset}`) ?? err;
  }

  close(): void {
    closeSync(this.fd);
    if (this.recoveryFd !== this.fd) closeSync(this.recoveryFd);
  }
}

function isMediaError(err: unknown): boolean {
  return MEDIA_ERRORS.has((err as NodeJS.ErrnoException)?.code ?? '');
}

/** Appends a range, merging it with the last one when they touch. Ranges must come in order. */
export function addRange(ranges: ByteRange[], offset: number, length: number): void {
  const last = ranges[ranges.length - 1];
  if (last && last.offset + last.length === offset) last.length += length;
  else ranges.push({ offset, length });
}
