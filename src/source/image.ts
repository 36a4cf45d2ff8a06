import { closeSync, constants, openSync, read as readCb, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { CustosError, fromFsError } from '../errors';
import { findSegments } from '../formats/raw';
import { classify } from './file';
import { protectFile } from '../protect';
import type { ByteRange, ByteSource } from '../formats/types';
import { type E01Info, E01Source, type E01SourceOptions } from '../formats/e01/reader';

const read = promisify(readCb);

/** One file of an image being read. */
export interface ImagePart {
  path: string;
  size: number;
}

/**
 * A raw or split raw image read as one stream: the files in order, end to end. Unlike an
 * evidence source, an image has no bad sectors to tolerate: any read error is an I/O failure.
 */
export class ImageSource implements ByteSource {
  readonly directFds: number[] = [];
  readonly size: number;
  private readonly fds: number[];
  private readonly starts: number[];

  /** `ownOutput`: the partial files of this run's own image, read back on --resume; everything else read is evidence. */
  constructor(
    readonly path: string,
    readonly parts: readonly ImagePart[],
    o: { ownOutput?: boolean } = {},
  ) {
    this.fds = parts.map((p) => {
      try {
        if (!o.ownOutput) protectFile(p.path);
        return openSync(p.path, constants.O_RDONLY);
      } catch (err) {
        throw fromFsError(err, p.path, 'opening it for reading') ?? err;
      }
    });
    let at = 0;
    this.starts = parts.map((p) => {
      const s = at;
      at += p.size;
      return s;
    });
    this.size = at;
  }

  /** Opens a raw image, or every segment of a split one when given any `.NNN` segment. */
  static open(path: string): ImageSource {
    const paths = findSegments(path);
    return new ImageSource(path, paths.map((p) => ({ path: p, size: fileSize(p) })));
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
        ({ bytesRead: n } = await read(this.fds[i]!, view, done, take, local));
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
    for (const fd of this.fds) closeSync(fd);
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

/** An image opened for reading: its media as one stream, its files, and for E01 what it says about itself and any damage found. */
export type OpenedImage = ByteSource & { size: number; parts: readonly ImagePart[]; e01?: E01Info; damage?: E01Source['damage'] };

/**
 * An image of any format custos reads, as one stream of media bytes: E01 (by its extension), else
 * raw or split raw. `tolerateDamage`: E01 chunks that fail their checks are reported (in `damage`
 * and as returned ranges) instead of stopping the read, as ewfverify does.
 */
export function openImage(path: string, options: E01SourceOptions = {}): OpenedImage {
  if (/\.e01$/i.test(path)) {
    const s = new E01Source(path, options);
    return Object.assign(s, { parts: s.info.segments, e01: s.info });
  }
  return ImageSource.open(path);
}

/** What an E01 records about itself (media, case metadata, stored hashes, read errors), read without hashing. */
export function describeE01(path: string): E01Info {
  const s = new E01Source(path);
  try {
    return s.info;
  } finally {
    s.close();
  }
}
