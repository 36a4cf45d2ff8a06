import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, readdirSync, statSync, write as writeCb } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../../workers';
import type { CompressReply, CompressRequest } from './compress-worker';
import { CustosBug, CustosError, fromFsError } from '../../errors';
import { createExclusive, renameIntoPlace, syncDir } from '../../fsutil';
import { PARTIAL_SUFFIX } from '../files';
import type { ImageSummary, ImageWriter, OutputFile } from '../types';
import { type E01HeaderInfo, header2Section, headerSection } from './header';
import {
  type CompressionLevel,
  descriptor,
  DESCRIPTOR_SIZE,
  digestData,
  error2Data,
  fileHeader,
  hashData,
  MAX_GROUP_BYTES,
  MAX_TABLE_ENTRIES,
  type MediaType,
  SECTORS_PER_CHUNK,
  segmentExtension,
  tableData,
  volumeData,
} from './sections';

const write = promisify(writeCb);

/** Default segment size, as ewfacquire's: 1.4 GiB. */
export const DEFAULT_SEGMENT_SIZE = Math.floor(1.4 * 1024 ** 3);
/** Room kept at the end of every segment for its table, table2 and closing sections. */
const CLOSING_RESERVE = 2 * (DESCRIPTOR_SIZE + 28 + 4 * MAX_TABLE_ENTRIES) + 4 * DESCRIPTOR_SIZE + 600 + 80 + 36;

export interface E01Layout {
  dir: string;
  base: string;
  totalSize: number;
  bytesPerSector: number;
  segmentSize: number;
  compression: CompressionLevel;
  mediaType: MediaType;
  physical: boolean;
  header: E01HeaderInfo;
  /** Segment file set GUID; random (version 4) unless given (tests). */
  guid?: Buffer;
}

/** EWF1 stores MD5 and SHA-1 only; other algorithms stay in the manifest and the ledger. */
export type E01Summary = ImageSummary;

function uuid4(): Buffer {
  const b = randomBytes(16);
  // Stored as a GUID (first three fields little-endian): the version nibble is the high one of byte 7.
  b[7] = (b[7]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

/**
 * Writes an EnCase 6 style E01 (EWF-E01) image: header2 ×2, header and volume in the first
 * segment, a data section in the others, groups of sectors + table + table2, and, in the last,
 * error2 (when sectors were unreadable), digest (MD5 + SHA-1), hash (MD5) and done. Chunks of
 * 32 KiB are zlib-compressed by a pool of worker threads reading the acquisition ring in place,
 * so compression runs on every core while the main thread keeps reading. Segments are written
 * as .partial files and renamed when the image is complete.
 */
export class E01Writer implements ImageWriter {
  private readonly chunkSize: number;
  private readonly chunkCount: number;
  private readonly guid: Buffer;
  private readonly paths: string[] = [];
  private fd = -1;
  private segment = 0;
  private position = 0;
  private group: { start: number; entries: number[] } | undefined;
  private carry: Buffer | undefined;
  private written = 0;
  private readonly pool: Worker[];
  private nextId = 0;

  private constructor(private readonly l: E01Layout) {
    const { file, execArgv } = workerScript(__dirname, 'compress-worker');
    this.pool = Array.from({ length: Math.max(1, Math.min(availableParallelism(), 4)) }, () => new Worker(file, { execArgv }));
    this.chunkSize = SECTORS_PER_CHUNK * l.bytesPerSector;
    this.chunkCount = Math.ceil(l.totalSize / this.chunkSize);
    this.guid = l.guid ?? uuid4();
  }

  get finalPaths(): readonly string[] {
    return this.paths.map((p) => p.slice(0, -PARTIAL_SUFFIX.length));
  }

  /** Starts an image, refusing when any segment of that name (final or partial) exists. */
  static async create(l: E01Layout): Promise<E01Writer> {
    const clash = readdirSync(l.dir).find((f) => new RegExp(`^${escapeRe(l.base)}\\.(E[0-9]{2}|[E-Z][A-Z]{2})(${escapeRe(PARTIAL_SUFFIX)})?$`).test(f));
    if (clash) {
      throw new CustosError('OUTPUT_EXISTS', `${join(l.dir, clash)} already exists; custos never overwrites an image`, {
        path: join(l.dir, clash),
        hint: 'Choose another --out folder or --name (E01 acquisitions cannot be resumed yet: delete the .partial files to start over).',
      });
    }
    if (l.segmentSize < 1024 * 1024) throw new CustosError('USAGE', `--segment-size ${l.segmentSize} is below 1 MiB`, { hint: 'Use 650MiB, 1.4GiB (the default), 2GiB…' });
    const w = new E01Writer(l);
    try {
      await w.openSegment();
    } catch (err) {
      // The compression workers would keep the process alive.
      await w.close();
      throw err;
    }
    return w;
  }

  private async append(data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      try {
        const { bytesWritten } = await write(this.fd, data, done, data.length - done, this.position + done);
        done += bytesWritten;
      } catch (err) {
        const p = this.paths[this.paths.length - 1]!;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          throw new CustosError('IO_ERROR', `${p}: no space left on the destination`, { path: p, cause: err, hint: 'Free space (or choose a larger --out) and acquire again.' });
        }
        throw fromFsError(err, p, 'writing it') ?? err;
      }
    }
    this.position += data.length;
  }

  /** A section whose data is known: descriptor pointing just past it, then the data. */
  private async section(type: string, data: Buffer): Promise<void> {
    await this.append(Buffer.concat([descriptor(type, this.position + DESCRIPTOR_SIZE + data.length, DESCRIPTOR_SIZE + data.length), data]));
  }

  private async openSegment(): Promise<void> {
    this.segment++;
    const path = join(this.l.dir, `${this.l.base}.${segmentExtension(this.segment)}${PARTIAL_SUFFIX}`);
    this.fd = createExclusive(path);
    this.paths.push(path);
    this.position = 0;
    await this.append(fileHeader(this.segment));
    const volume = volumeData({
      mediaType: this.l.mediaType,
      physical: this.l.physical,
      chunkCount: this.chunkCount,
      bytesPerSector: this.l.bytesPerSector,
      sectorCount: Math.ceil(this.l.totalSize / this.l.bytesPerSector),
      compression: this.l.compression,
      guid: this.guid,
    });
    if (this.segment === 1) {
      const h2 = header2Section(this.l.header);
      await this.section('header2', h2);
      await this.section('header2', h2);
      await this.section('header', headerSection(this.l.header));
      await this.section('volume', volume);
    } else {
      await this.section('data', volume);
    }
  }

  private async openGroup(): Promise<void> {
    this.group = { start: this.position, entries: [] };
    await this.append(Buffer.alloc(DESCRIPTOR_SIZE)); // patched when the group closes
  }

  private async closeGroup(): Promise<void> {
    const g = this.group;
    if (!g) return;
    this.group = undefined;
    const size = this.position - g.start;
    const desc = descriptor('sectors', this.position, size);
    await write(this.fd, desc, 0, DESCRIPTOR_SIZE, g.start);
    const table = tableData(g.start, g.entries);
    await this.section('table', table);
    await this.section('table2', table);
  }

  private async closeSegment(last: boolean, summary?: E01Summary): Promise<void> {
    await this.closeGroup();
    if (last && summary) {
      if (summary.readErrors.length > 0) await this.section('error2', error2Data(summary.readErrors));
      await this.section('digest', digestData(summary.md5, summary.sha1));
      await this.section('hash', hashData(summary.md5));
    }
    // "next" and "done" point to themselves and have size 0 in EnCase's files.
    await this.append(descriptor(last ? 'done' : 'next', this.position, 0));
    const fd = this.fd;
    this.fd = -1;
    fsyncSync(fd);
    closeSync(fd);
  }

  async write(data: Uint8Array, offset: number): Promise<void> {
    if (offset !== this.written) throw new CustosBug(`E01Writer: write at ${offset}, expected ${this.written}`);
    this.written += data.length;
    let input: Uint8Array = data;
    if (this.carry) {
      input = Buffer.concat([this.carry, data]);
      this.carry = undefined;
    }
    const whole = this.written === this.l.totalSize ? input.length : input.length - (input.length % this.chunkSize);
    if (whole < input.length) this.carry = Buffer.from(input.subarray(whole));
    const encoded = await this.encode(input.subarray(0, whole));
    for (const e of encoded) {
      if (this.position + e.data.length + CLOSING_RESERVE > this.l.segmentSize && this.group && this.group.entries.length > 0) {
        await this.closeSegment(false);
        await this.openSegment();
      }
      if (!this.group || this.group.entries.length >= MAX_TABLE_ENTRIES || this.position + e.data.length - this.group.start > MAX_GROUP_BYTES) {
        await this.closeGroup();
        await this.openGroup();
      }
      const g = this.group!;
      g.entries.push(((this.position - g.start) | (e.compressed ? 0x80000000 : 0)) >>> 0);
      await this.append(e.data);
    }
  }

  /**
   * Compresses whole chunks on the worker pool (halves of the batch in parallel) and returns
   * them in order, each compressed or raw with its Adler-32 appended.
   */
  private async encode(data: Uint8Array): Promise<{ data: Buffer; compressed: boolean }[]> {
    const level = this.l.compression === 'best' ? 9 : this.l.compression === 'fast' ? 1 : 0;
    const chunks = Math.ceil(data.length / this.chunkSize);
    const parts = Math.min(this.pool.length, chunks);
    const per = Math.ceil(chunks / parts) * this.chunkSize;
    const replies = await Promise.all(
      Array.from({ length: parts }, (_, i) => {
        const piece = data.subarray(i * per, Math.min((i + 1) * per, data.length));
        return this.compress(i, piece, level);
      }),
    );
    const out: { data: Buffer; compressed: boolean }[] = [];
    let at = 0;
    for (const r of replies) {
      for (const c of r.chunks) {
        const len = Math.min(this.chunkSize, data.length - at);
        if (c.data) out.push({ data: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength), compressed: true });
        else {
          const raw = Buffer.alloc(len + 4);
          raw.set(data.subarray(at, at + len));
          raw.writeUInt32LE(c.adler, len);
          out.push({ data: raw, compressed: false });
        }
        at += len;
      }
    }
    return out;
  }

  private compress(worker: number, piece: Uint8Array, level: number): Promise<CompressReply> {
    const w = this.pool[worker]!;
    const id = this.nextId++;
    const shared = piece.buffer instanceof SharedArrayBuffer;
    // Shared memory (the acquisition ring) is read in place; anything else is copied over.
    // Buffer#slice does not copy, so a Uint8Array copy is made: the transfer must not detach the caller's memory.
    const buffer = shared ? (piece.buffer as SharedArrayBuffer) : new Uint8Array(piece).buffer;
    const req: CompressRequest = { id, buffer, offset: shared ? piece.byteOffset : 0, length: piece.length, chunkSize: this.chunkSize, level };
    return new Promise<CompressReply>((resolve, reject) => {
      const onMessage = (m: CompressReply) => {
        if (m.id !== id) return;
        w.off('message', onMessage);
        w.off('error', reject);
        resolve(m);
      };
      w.on('message', onMessage);
      w.once('error', reject);
      w.postMessage(req, shared ? [] : [buffer as ArrayBuffer]);
    });
  }

  async sync(): Promise<void> {
    if (this.fd >= 0) fsyncSync(this.fd);
  }

  /** Closes the last segment with its digest sections; the segments keep their .partial names until commit(). */
  async finish(summary?: E01Summary): Promise<OutputFile[]> {
    if (!summary) throw new CustosBug('E01Writer.finish needs the MD5, SHA-1 and read errors');
    if (this.carry) throw new CustosBug('E01Writer: image ended inside a chunk before the media size');
    if (!this.group && this.chunkCount === 0) await this.openGroup();
    await this.closeSegment(true, summary);
    return this.paths.map((p) => {
      const final = p.slice(0, -PARTIAL_SUFFIX.length);
      return { name: basename(final), path: final, partialPath: p, size: statSync(p).size };
    });
  }

  /** Renames every finished segment into place. */
  async commit(): Promise<void> {
    for (const p of this.paths) renameIntoPlace(p, p.slice(0, -PARTIAL_SUFFIX.length));
    syncDir(this.l.dir);
  }

  async close(): Promise<void> {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    await Promise.all(this.pool.map((w) => w.terminate()));
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
