import { closeSync, type Dir, type Dirent, fsyncSync, ftruncateSync, lstatSync, opendirSync, write as writeCb } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CustosError, fromFsError, isCustosError } from '../errors';
import { createExclusive, entryExists, openExistingForWrite, openRegularForRead, renameIntoPlace, syncDir } from '../fsutil';
import type { ImageLayout, ImageWriter, OutputFile } from './types';

const write = promisify(writeCb);

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

/**
 * Finds the complete split image that `path` belongs to, in order, from any one of its segments:
 * BASE.001, BASE.002, … (custos, dcfldd splitformat=WIN, dc3dd ofs=BASE.111), sets starting at
 * BASE.000 (dc3dd ofs=BASE.000, dcfldd split=, split -d), wider numbers (BASE.0000) and letters
 * as split(1) and dc3dd ofs=BASE.aa write them (BASE.aa, BASE.ab, …, BASE.aaa). The set stops at the
 * first gap; a `path` after a gap, or a set whose first segment is missing, is refused naming the
 * missing file. Three to six digits always name a segment; letters and one or two digits only when
 * the set's first segment or a neighbour exists, so a lone `disk.img` is an image of one file.
 * The folder is listed once, and at most 100,000 segments are accepted.
 */
export function findSegments(path: string): string[] {
  const MAX_SEGMENTS = 100_000;
  const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
  type Kind = 'digits' | 'letters';
  const parse = (name: string) => {
    const m = /^([^]+)\.([0-9]{1,6}|[a-z]{1,8})$/.exec(name);
    if (!m) return undefined;
    const [, stem, suffix] = m as unknown as [string, string, string];
    if (/^[0-9]/.test(suffix)) return { stem, kind: 'digits' as Kind, width: suffix.length, index: Number(suffix) };
    let index = 0;
    for (const c of suffix) index = index * 26 + (c.charCodeAt(0) - 97);
    return { stem, kind: 'letters' as Kind, width: suffix.length, index };
  };
  const given = basename(path);
  const seg = parse(given);
  if (!seg) return [path];
  const nameAt = (index: number): string | undefined => {
    if (index < 0) return undefined;
    if (seg.kind === 'digits') {
      const digits = String(index);
      return digits.length > seg.width ? undefined : `${seg.stem}.${digits.padStart(seg.width, '0')}`;
    }
    if (index >= 26 ** seg.width) return undefined;
    let suffix = '';
    for (let i = 0, n = index; i < seg.width; i++, n = Math.floor(n / 26)) suffix = LETTERS[n % 26] + suffix;
    return `${seg.stem}.${suffix}`;
  };
  const fsProblem = (err: unknown, at: string, doing: string): CustosError =>
    isCustosError(err)
      ? err
      : (fromFsError(err, at, doing) ??
        new CustosError('IO_ERROR', `${at}: ${(err as NodeJS.ErrnoException)?.code ?? 'error'} while ${doing}: ${(err as Error)?.message ?? String(err)}`, {
          path: at,
          cause: err,
          hint: 'Check the folder and the storage it is on.',
        }));

  // One pass over the folder, keeping only names of the same stem, kind and width (bounded).
  const dir = dirname(path);
  const names = new Set<string>();
  const prefix = `${seg.stem}.`;
  let listing: Dir;
  try {
    listing = opendirSync(dir);
  } catch (err) {
    throw fsProblem(err, dir, 'listing the folder of a split image');
  }
  try {
    for (;;) {
      let entry: Dirent | null;
      try {
        entry = listing.readSync();
      } catch (err) {
        throw fsProblem(err, dir, 'listing the folder of a split image');
      }
      if (entry === null) break;
      const name = entry.name;
      if (name.length !== prefix.length + seg.width || !name.startsWith(prefix)) continue;
      const other = parse(name);
      if (!other || other.kind !== seg.kind || other.stem !== seg.stem) continue;
      names.add(name);
      if (names.size > MAX_SEGMENTS) {
        throw new CustosError('INVALID_INPUT', `${path}: more than ${MAX_SEGMENTS} files in ${dir} are named like segments of ${seg.stem}`, {
          path,
          hint: `A split image has at most ${MAX_SEGMENTS} segments: move unrelated files away, or join the segments first.`,
        });
      }
    }
  } finally {
    listing.closeSync();
  }

  // Digits start at 0 when a 0 segment exists (dc3dd ofs=BASE.000, dcfldd split=, split -d), else at 1.
  const start = seg.kind === 'letters' || names.has(nameAt(0)!) ? 0 : 1;
  const first = nameAt(start)!;
  const strong = seg.kind === 'digits' && seg.width >= 3;
  const exists = (index: number) => {
    const n = nameAt(index);
    return n !== undefined && names.has(n);
  };
  if (!strong && !names.has(first) && !exists(seg.index - 1) && !exists(seg.index + 1)) return [path];
  if (!names.has(given)) {
    throw new CustosError('FILE_NOT_FOUND', `${path}: no such file or directory`, { path, hint: 'Check the path; quote it if it contains spaces.' });
  }
  const out: string[] = [];
  for (let i = start; exists(i); i++) out.push(join(dir, nameAt(i)!));
  if (out.length === 0) {
    throw new CustosError('FILE_NOT_FOUND', `${path}: the first segment ${first} of this split image is missing`, {
      path,
      hint: `Put every segment of the split image, from ${first} on, in the same folder.`,
    });
  }
  if (seg.index >= start + out.length) {
    const missing = nameAt(start + out.length)!;
    throw new CustosError('FILE_NOT_FOUND', `${path}: segment ${missing} is missing, so ${given} is not part of the complete split image (${first} to ${basename(out[out.length - 1]!)} before the gap)`, {
      path,
      hint: `Restore ${missing} beside the other segments, then name any segment of the image.`,
    });
  }
  return out;
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
