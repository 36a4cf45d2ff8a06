/**
 * Images that are plain files: the media itself in one file (raw) or cut into fixed-size segment
 * files (split). Their names, segment bounds and the writer both formats share (the reader is in
 * image-source.ts).
 */
import { closeSync, fsyncSync, ftruncateSync, lstatSync, write as writeCb } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { CustosError, fromFsError, isCustosError } from '../errors';
import { createExclusive, entryExists, openExistingForWrite, openRegularForRead, renameIntoPlace, syncDir } from '../fsutil';
import type { ImageLayout, ImageWriter, OutputFile } from './types';

const write = promisify(writeCb);
/** Smallest segment of a split image or E01 set: below it a disk becomes millions of files (--split-size 100 made two million). */
export const MIN_SEGMENT_BYTES = 1024 * 1024;
/** Most files one image may be split into. */
export const MAX_IMAGE_FILES = 100_000;

/** Refuses segment sizes out of bounds for media of `size` bytes (`flag` names the option in the message). */
export function checkSegmentSize(flag: string, segmentSize: number, size: number): void {
  if (!Number.isSafeInteger(segmentSize)) {
    throw new CustosError('USAGE', `${flag} ${segmentSize} is not a whole number of bytes`, { hint: 'Use a size such as 650MiB, 2GiB or 4GB.' });
  }
  if (segmentSize < MIN_SEGMENT_BYTES) {
    throw new CustosError('USAGE', `${flag} ${segmentSize} bytes is below the minimum of 1 MiB`, { hint: 'Use a size such as 650MiB, 2GiB or 4GB.' });
  }
  const files = Math.max(1, Math.ceil(size / segmentSize));
  if (files > MAX_IMAGE_FILES) {
    throw new CustosError('USAGE', `${flag} ${segmentSize} would split ${size} bytes into ${files} files, more than ${MAX_IMAGE_FILES}`, {
      hint: `Use a ${flag} of at least ${Math.ceil(size / MAX_IMAGE_FILES)} bytes.`,
    });
  }
}

/** Suffix added while a file is being written; removed by the final rename. */
export const PARTIAL_SUFFIX = '.partial';

/** Number of files an image of this layout has (at least one, even when empty). */
export function segmentCount(layout: Pick<ImageLayout, 'format' | 'splitSize' | 'totalSize'>): number {
  if (layout.format === 'raw') return 1;
  return Math.max(1, Math.ceil(layout.totalSize / layout.splitSize));
}

/** Final file names: BASE.raw, or BASE.001, BASE.002, … (more digits past 999, as split -d does). */
export function imageFileNames(layout: Pick<ImageLayout, 'base' | 'format' | 'splitSize' | 'totalSize'>): string[] {
  if (layout.format === 'raw') return [`${layout.base}.raw`];
  const n = segmentCount(layout);
  const width = Math.max(3, String(n).length);
  return Array.from({ length: n }, (_, i) => `${layout.base}.${String(i + 1).padStart(width, '0')}`);
}

/** Writer for raw (one file) and split raw (fixed-size segments) images. */
export class RawImageWriter implements ImageWriter {
  readonly finalPaths: string[];
  private readonly partialPaths: string[];
  private readonly segmentSize: number;
  private fd: number | undefined;
  private fdIndex = -1;

  private constructor(private readonly layout: ImageLayout) {
    this.finalPaths = imageFileNames(layout).map((n) => join(layout.dir, n));
    this.partialPaths = this.finalPaths.map((p) => p + PARTIAL_SUFFIX);
    this.segmentSize = layout.format === 'raw' ? Number.MAX_SAFE_INTEGER : layout.splitSize;
  }

  /**
   * Starts a new image: refuses when any final or partial file already exists, so nothing is
   * ever overwritten, then creates every part (exclusively) so the layout is visible at once.
   */
  static create(layout: ImageLayout): RawImageWriter {
    const w = new RawImageWriter(layout);
    for (const p of [...w.finalPaths, ...w.partialPaths]) {
      if (entryExists(p)) {
        const partial = p.endsWith(PARTIAL_SUFFIX);
        throw new CustosError('OUTPUT_EXISTS', `${p} already exists; custos never overwrites an image`, {
          path: p,
          hint: partial
            ? 'An earlier acquisition was interrupted: continue it with --resume (same command line), or delete its .partial files.'
            : 'Choose another --out folder or --name.',
        });
      }
    }
    for (const p of w.partialPaths) closeSync(createExclusive(p));
    return w;
  }

  /** Reopens the partial files of an interrupted acquisition and cuts them back to `offset` bytes. */
  static resume(layout: ImageLayout, offset: number): RawImageWriter {
    const w = new RawImageWriter(layout);
    for (const p of w.finalPaths) {
      if (entryExists(p)) {
        throw new CustosError('OUTPUT_EXISTS', `${p} already exists, so the acquisition already completed`, {
          path: p,
          hint: 'Verify it with custos verify, or choose another --out folder or --name.',
        });
      }
    }
    w.partialPaths.forEach((p, i) => {
      const segStart = i * w.segmentSize;
      const keep = Math.max(0, Math.min(offset - segStart, w.segmentSize));
      const fd = entryExists(p) ? openExistingForWrite(p) : createExclusive(p);
      try {
        ftruncateSync(fd, keep);
      } catch (err) {
        throw fromFsError(err, p, 'truncating it for --resume') ?? err;
      } finally {
        closeSync(fd);
      }
    });
    return w;
  }

  /**
   * Bytes present in the partial files, counted as one stream (stops at the first short segment).
   * Each partial file must be what custos created: a regular file with one link, never a symbolic
   * link planted in its place (which --resume would otherwise read, truncate and write through).
   */
  static partialBytes(layout: ImageLayout): number {
    const w = new RawImageWriter(layout);
    let total = 0;
    for (const p of w.partialPaths) {
      let size = 0;
      try {
        const st = lstatSync(p);
        if (st.isSymbolicLink() || !st.isFile() || st.nlink !== 1) {
          throw new CustosError('UNSAFE_OUTPUT', `${p} is ${st.isSymbolicLink() ? 'a symbolic link' : !st.isFile() ? 'not a regular file' : `a file with ${st.nlink} hard links`}, not the partial image custos wrote; --resume will not read or write it`, {
            path: p,
            hint: 'Remove it (and check who put it there), then acquire again from the start.',
          });
        }
        size = st.size;
      } catch (err) {
        if (isCustosError(err)) throw err;
        size = 0;
      }
      total += Math.min(size, w.segmentSize);
      if (size < w.segmentSize) break;
    }
    return total;
  }

  /** Paths of the partial files, for reading them back on resume. */
  get partialFiles(): readonly string[] {
    return this.partialPaths;
  }

  private segmentFd(index: number): number {
    if (this.fdIndex !== index) {
      this.closeFd(true);
      this.fd = openExistingForWrite(this.partialPaths[index]!);
      this.fdIndex = index;
    }
    return this.fd!;
  }

  private closeFd(sync: boolean): void {
    if (this.fd === undefined) return;
    const p = this.partialPaths[this.fdIndex]!;
    const fd = this.fd;
    this.fd = undefined;
    this.fdIndex = -1;
    try {
      if (sync) fsyncSync(fd);
    } catch (err) {
      throw fromFsError(err, p, 'flushing it to disk') ?? err;
    } finally {
      closeSync(fd);
    }
  }

  async write(data: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const at = offset + done;
      const index = Math.floor(at / this.segmentSize);
      const local = at - index * this.segmentSize;
      const take = Math.min(data.length - done, this.segmentSize - local);
      const fd = this.segmentFd(index);
      let written = 0;
      while (written < take) {
        try {
          const { bytesWritten } = await write(fd, data, done + written, take - written, local + written);
          if (bytesWritten <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
          written += bytesWritten;
        } catch (err) {
          const p = this.partialPaths[index]!;
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOSPC' || code === 'EDQUOT') {
            throw new CustosError('IO_ERROR', `${p}: no space left on the destination after ${at + written} bytes of the image`, {
              path: p,
              cause: err,
              hint: 'Free space (or choose a larger --out), then run the same command with --resume to continue.',
            });
          }
          throw fromFsError(err, p, `writing at byte ${local + written}`) ?? err;
        }
      }
      done += take;
    }
  }

  async sync(): Promise<void> {
    if (this.fd !== undefined) {
      const fd = this.fd;
      try {
        fsyncSync(fd);
      } catch (err) {
        throw fromFsError(err, this.partialPaths[this.fdIndex]!, 'flushing it to disk') ?? err;
      }
    }
  }

  async finish(): Promise<OutputFile[]> {
    this.closeFd(true);
    return this.partialPaths.map((p, i) => {
      // Segments not written to since they were created are flushed here too.
      const { fd, size } = openRegularForRead(p, 'partial image');
      try {
        fsyncSync(fd);
      } catch (err) {
        throw fromFsError(err, p, 'flushing it to disk') ?? err;
      } finally {
        closeSync(fd);
      }
      const final = this.finalPaths[i]!;
      return { name: basename(final), path: final, partialPath: p, size };
    });
  }

  async commit(): Promise<void> {
    this.partialPaths.forEach((p, i) => renameIntoPlace(p, this.finalPaths[i]!));
    syncDir(this.layout.dir);
  }

  async close(): Promise<void> {
    this.closeFd(false);
  }
}
