/**
 * The reader of images that are plain files (raw, split): the files in order, end to end, opened
 * as they are reached, so a set may have more segments than a process may open files.
 */
import { closeSync, constants, fstatSync, openSync, read as readCb, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { CustosError, fromFsError } from '../errors';
import { protectFile } from '../protect';
import { classify } from '../source/file';
import type { HashSet } from '../hash/hashset';
import type { ByteRange, CaseFields, FormatName, ImagePart, MediaImage } from './types';

const read = promisify(readCb);

/** Parts of a set kept open at once (reading is in order: one or two are in use). */
const MAX_OPEN_PARTS = 8;

/**
 * A raw or split raw image read as one stream: the files in order, end to end. Unlike an
 * evidence source, an image has no bad sectors to tolerate: any read error is an I/O failure.
 */
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
