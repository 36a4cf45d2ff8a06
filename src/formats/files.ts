/**
 * Images that are plain files: the media itself in one file (raw) or cut into fixed-size segment
 * files (split). The writer both formats share, and the reader that streams their files end to end.
 */
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, lstatSync, openSync, read as readCb, statSync, write as writeCb } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { CustosError, fromFsError, isCustosError } from '../errors';
import { createExclusive, entryExists, openExistingForWrite, openRegularForRead, renameIntoPlace, syncDir } from '../fsutil';
import { protectFile } from '../protect';
import { classify } from '../source/file';
import type { HashSet } from '../hash/hashset';
import type { ByteRange, CaseFields, FormatName, ImageLayout, ImagePart, ImageWriter, MediaImage, OutputFile } from './types';

const write = promisify(writeCb);
const read = promisify(readCb);
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

/**
 * A raw or split raw image read as one stream: the files in order, end to end. Unlike an
 * evidence source, an image has no bad sectors to tolerate: any read error is an I/O failure.
 */
/** Parts of a set kept open at once (reading is in order: one or two are in use). */
const MAX_OPEN_PARTS = 8;

export class ImageSource implements MediaImage {
  readonly directFds: number[] = [];
  readonly size: number;
  /** Plain files record no sector size; 512 bytes is what every imaging tool assumes. */
  readonly sectorSize = 512;
  /** Plain files record nothing about themselves. */
  readonly storedHashes: HashSet = {};
  readonly caseFields: CaseFields = {};
  readonly readErrors: readonly { firstSector: number; sectorCount: number }[] = [];
  private readonly starts: number[];
  /** Identity of each part when the image was opened: a part replaced since then is refused, never read. */
  private readonly ids: { dev: number; ino: number }[];
  /** Open parts, least recently used first: a set may have more segments than a process may open files. */
  private readonly open = new Map<number, number>();

  /** `ownOutput`: the partial files of this run's own image, read back on --resume; everything else read is evidence. */
  constructor(
    readonly path: string,
    readonly parts: readonly ImagePart[],
    readonly format: FormatName = parts.length > 1 ? 'split' : 'raw',
    o: { ownOutput?: boolean } = {},
  ) {
    this.ids = parts.map((p) => {
      try {
        const st = statSync(p.path);
        if (!o.ownOutput) protectFile(p.path, st);
        return { dev: st.dev, ino: st.ino };
      } catch (err) {
        throw fromFsError(err, p.path, 'opening it for reading') ?? err;
      }
    });
    // The first part is opened now, so a set that cannot be read at all fails here.
    if (parts.length > 0) this.fdOf(0);
    let at = 0;
    this.starts = parts.map((p) => {
      const s = at;
      at += p.size;
      return s;
    });
    this.size = at;
  }

  /** The descriptor of part `i`, opened on first use; the least recently used one is closed beyond MAX_OPEN_PARTS. */
  private fdOf(i: number): number {
    const cached = this.open.get(i);
    if (cached !== undefined) {
      this.open.delete(i);
      this.open.set(i, cached);
      return cached;
    }
    const part = this.parts[i]!;
    let fd: number;
    try {
      fd = openSync(part.path, constants.O_RDONLY);
    } catch (err) {
      throw fromFsError(err, part.path, 'opening it for reading') ?? err;
    }
    const st = fstatSync(fd);
    if (st.dev !== this.ids[i]!.dev || st.ino !== this.ids[i]!.ino) {
      closeSync(fd);
      throw new CustosError('IO_ERROR', `${part.path}: replaced by another file since the image was opened`, {
        path: part.path,
        hint: 'Something changed the image files while custos read them; find out what, then run the command again.',
      });
    }
    this.open.set(i, fd);
    if (this.open.size > MAX_OPEN_PARTS) {
      const [oldest, ofd] = this.open.entries().next().value as [number, number];
      this.open.delete(oldest);
      closeSync(ofd);
    }
    return fd;
  }

  /** Opens these files as one image, in order: sizes are taken now (a file that later shrinks is an I/O error). */
  static ofFiles(path: string, files: readonly string[], format: FormatName, o: { ownOutput?: boolean } = {}): ImageSource {
    return new ImageSource(path, files.map((p) => ({ path: p, size: fileSize(p) })), format, o);
  }

  async readFully(view: Uint8Array, position: number): Promise<ByteRange[]> {
    let done = 0;
    while (done < view.length) {
      const at = position + done;
      let i = this.starts.length - 1;
      while (i > 0 && this.starts[i]! > at) i--;
      const part = this.parts[i]!;
      const local = at - this.starts[i]!;
      const take = Math.min(view.length - done, part.size - local);
      if (take <= 0) throw new CustosError('INVALID_INPUT', `${this.path}: read past the end of the image at byte ${at}`, { path: this.path });
      let n: number;
      try {
        ({ bytesRead: n } = await read(this.fdOf(i), view, done, take, local));
      } catch (err) {
        throw fromFsError(err, part.path, `reading at byte ${local}`) ?? err;
      }
      if (n === 0) {
        throw new CustosError('IO_ERROR', `${part.path}: shorter than when it was opened (ends at byte ${local})`, {
          path: part.path,
          hint: 'Something truncated the image while it was being read.',
        });
      }
      done += n;
    }
    return [];
  }

  close(): void {
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
  }
}

function fileSize(path: string): number {
  try {
    const st = statSync(path);
    classify(path, st);
    return st.size;
  } catch (err) {
    throw fromFsError(err, path, 'looking it up') ?? err;
  }
}
