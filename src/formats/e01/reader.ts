import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { inflateSync } from 'node:zlib';
import { CustosError, fromFsError } from '../../errors';
import { protectFile } from '../../protect';
import type { ByteRange, ByteSource } from '../../source/reader';
import { adler32, DESCRIPTOR_SIZE, EVF_SIGNATURE, FILE_HEADER_SIZE, segmentExtension, VOLUME_DATA_SIZE } from './sections';

/** What an E01 says about itself: media, case metadata, stored hashes, unreadable sectors. */
export interface E01Info {
  segments: { path: string; size: number }[];
  mediaType: number;
  physical: boolean;
  bytesPerSector: number;
  sectorsPerChunk: number;
  sectorCount: number;
  chunkCount: number;
  mediaSize: number;
  compressionLevel: number;
  guid: string;
  /** header2 (or header) values by identifier: c, n, a, e, t, md, sn, av, ov, m, u… */
  header: Record<string, string>;
  stored: { md5?: string; sha1?: string };
  readErrors: { firstSector: number; sectorCount: number }[];
}

interface Chunk {
  segment: number;
  offset: number;
  size: number;
  compressed: boolean;
}

/** Upper bound on a section's data that custos will load into memory (headers, tables, error2). */
const MAX_SECTION_LOAD = 64 * 1024 * 1024;

function bad(path: string, where: string, why: string, code: 'INVALID_INPUT' | 'CORRUPT_IMAGE' = 'INVALID_INPUT'): CustosError {
  return new CustosError(code, `${path}: ${where}: ${why}`, {
    path,
    hint: 'The E01 is damaged or truncated; verify it against another copy, or re-acquire.',
  });
}

/** The segment files of an E01 set, from its first file: .E01, .E02, … (stopping at the first gap). */
export function findE01Segments(first: string): string[] {
  const m = /^(.*)\.[Ee]01$/.exec(first);
  if (!m) return [first];
  const upper = /\.E01$/.test(first);
  const out: string[] = [];
  for (let n = 1; ; n++) {
    const ext = segmentExtension(n);
    const p = `${m[1]}.${upper ? ext : ext.toLowerCase()}`;
    if (!existsSync(p)) break;
    out.push(p);
  }
  return out;
}

/**
 * Reads an EWF-E01 image (custos's or any EnCase-6-style tool's) as one stream of media bytes.
 * Every size and offset read from the files is checked against the file before it is used;
 * chunk checksums (Adler-32 of raw chunks, zlib's own for compressed ones) are verified on read,
 * and a damaged chunk is reported with its media offset.
 */
export class E01Source implements ByteSource {
  readonly directFds: number[] = [];
  readonly info: E01Info;
  private readonly fds: number[];
  private readonly paths: string[];
  private readonly chunks: Chunk[] = [];
  private cache: { index: number; data: Buffer } | undefined;
  private readonly chunkSize: number;

  constructor(readonly path: string) {
    const paths = findE01Segments(path);
    this.paths = paths;
    if (paths.length === 0) throw new CustosError('FILE_NOT_FOUND', `${path}: no such E01 file`, { path, hint: 'Name the first segment (.E01).' });
    this.fds = paths.map((p) => {
      try {
        protectFile(p);
        return openSync(p, 'r');
      } catch (err) {
        throw fromFsError(err, p, 'opening it') ?? err;
      }
    });
    try {
      this.info = this.parse(paths);
    } catch (err) {
      this.close();
      throw err;
    }
    this.chunkSize = this.info.sectorsPerChunk * this.info.bytesPerSector;
  }

  get size(): number {
    return this.info.mediaSize;
  }

  private readAt(segment: number, offset: number, length: number, what: string): Buffer {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fds[segment]!, buf, done, length - done, offset + done);
      if (n === 0) throw bad(this.segmentPath(segment), `${what} at offset ${offset}`, `file ends before ${length} bytes could be read`);
      done += n;
    }
    return buf;
  }

  private segmentPath(i: number): string {
    return this.paths[i] ?? this.path;
  }

  private parse(paths: string[]): E01Info {
    let volume: Buffer | undefined;
    let header: Record<string, string> = {};
    const stored: E01Info['stored'] = {};
    const readErrors: E01Info['readErrors'] = [];
    const segments: E01Info['segments'] = [];
    let sawDone = false;
    paths.forEach((p, seg) => {
      const fileSize = fstatSync(this.fds[seg]!).size;
      segments.push({ path: p, size: fileSize });
      if (fileSize < FILE_HEADER_SIZE) throw bad(p, 'file header', `only ${fileSize} bytes`);
      const fh = this.readAt(seg, 0, FILE_HEADER_SIZE, 'file header');
      if (!fh.subarray(0, 8).equals(EVF_SIGNATURE)) throw bad(p, 'file header', 'not an EWF-E01 file (signature EVF missing)');
      const number = fh.readUInt16LE(9);
      if (number !== seg + 1) throw bad(p, 'file header', `segment number ${number} where ${seg + 1} was expected (files renamed or missing?)`);
      let offset = FILE_HEADER_SIZE;
      let sectors: { start: number; end: number } | undefined;
      for (let count = 0; ; count++) {
        if (count > 1_000_000) throw bad(p, `section at offset ${offset}`, 'too many sections (a loop?)');
        if (offset + DESCRIPTOR_SIZE > fileSize) throw bad(p, `section descriptor at offset ${offset}`, 'truncated: the file ends inside it (an incomplete image?)');
        const d = this.readAt(seg, offset, DESCRIPTOR_SIZE, 'section descriptor');
        if (adler32(d.subarray(0, 72)) !== d.readUInt32LE(72)) throw bad(p, `section descriptor at offset ${offset}`, 'checksum mismatch');
        const type = d.subarray(0, 16).toString('latin1').replace(/\0.*$/s, '');
        const next = Number(d.readBigUInt64LE(16));
        const size = Number(d.readBigUInt64LE(24));
        const dataLen = Math.max(0, size - DESCRIPTOR_SIZE);
        if (type === 'done' || type === 'next') {
          if (type === 'done') {
            if (seg !== paths.length - 1) throw bad(p, `done section at ${offset}`, 'found before the last segment');
            sawDone = true;
          }
          break;
        }
        if (size < DESCRIPTOR_SIZE || offset + size > fileSize) throw bad(p, `${type} section at offset ${offset}`, `size ${size} runs past the end of the file (${fileSize} bytes)`);
        if (next <= offset || next > fileSize) throw bad(p, `${type} section at offset ${offset}`, `next section offset ${next} is out of bounds`);
        const load = (): Buffer => {
          if (dataLen > MAX_SECTION_LOAD) throw bad(p, `${type} section at offset ${offset}`, `implausible size ${dataLen}`);
          return this.readAt(seg, offset + DESCRIPTOR_SIZE, dataLen, `${type} section`);
        };
        switch (type) {
          case 'header2':
          case 'header': {
            if (Object.keys(header).length === 0 || type === 'header2') {
              const parsed = parseHeader(load(), type === 'header2', p, offset);
              if (Object.keys(parsed).length > 0) header = { ...header, ...parsed };
            }
            break;
          }
          case 'volume':
          case 'disk':
          case 'data': {
            const v = load();
            if (v.length >= VOLUME_DATA_SIZE && adler32(v.subarray(0, 1048)) !== v.readUInt32LE(1048)) throw bad(p, `${type} section at offset ${offset}`, 'checksum mismatch');
            if (v.length < 64) throw bad(p, `${type} section at offset ${offset}`, 'too short for a volume');
            volume ??= v;
            break;
          }
          case 'sectors':
            sectors = { start: offset, end: offset + size };
            break;
          case 'table': {
            const t = load();
            this.addTable(t, seg, offset, sectors, p);
            break;
          }
          case 'digest': {
            const dg = load();
            if (dg.length >= 80 && adler32(dg.subarray(0, 76)) !== dg.readUInt32LE(76)) throw bad(p, `digest section at offset ${offset}`, 'checksum mismatch');
            const md5 = dg.subarray(0, 16).toString('hex');
            const sha1 = dg.subarray(16, 36).toString('hex');
            if (/[^0]/.test(md5)) stored.md5 = md5;
            if (/[^0]/.test(sha1)) stored.sha1 = sha1;
            break;
          }
          case 'hash': {
            const h = load();
            if (h.length >= 36 && adler32(h.subarray(0, 32)) !== h.readUInt32LE(32)) throw bad(p, `hash section at offset ${offset}`, 'checksum mismatch');
            const md5 = h.subarray(0, 16).toString('hex');
            if (!stored.md5 && /[^0]/.test(md5)) stored.md5 = md5;
            break;
          }
          case 'error2': {
            const e = load();
            if (e.length < 524) throw bad(p, `error2 section at offset ${offset}`, 'too short');
            const n = e.readUInt32LE(0);
            if (520 + n * 8 + 4 > e.length) throw bad(p, `error2 section at offset ${offset}`, `${n} entries do not fit in ${e.length} bytes`);
            for (let i = 0; i < n; i++) readErrors.push({ firstSector: e.readUInt32LE(520 + i * 8), sectorCount: e.readUInt32LE(524 + i * 8) });
            break;
          }
          default:
            break;
        }
        offset = next;
      }
    });
    if (!volume) throw bad(paths[0]!, 'volume section', 'missing: the first segment has no volume section');
    if (!sawDone) throw bad(paths[paths.length - 1]!, 'done section', 'missing: the set is incomplete (a segment is missing, or the acquisition did not finish)');
    const bytesPerSector = volume.readUInt32LE(12);
    const sectorsPerChunk = volume.readUInt32LE(8);
    const sectorCount = Number(volume.readBigUInt64LE(16));
    if (!bytesPerSector || bytesPerSector > 65536 || !sectorsPerChunk || sectorsPerChunk > 65536) {
      throw bad(paths[0]!, 'volume section', `implausible geometry: ${sectorsPerChunk} sectors of ${bytesPerSector} bytes per chunk`);
    }
    const mediaSize = sectorCount * bytesPerSector;
    const chunkCount = Math.ceil(mediaSize / (sectorsPerChunk * bytesPerSector));
    if (this.chunks.length !== chunkCount) {
      throw bad(paths[paths.length - 1]!, 'tables', `${this.chunks.length} chunks listed, but the volume section needs ${chunkCount} (a segment is missing or truncated?)`);
    }
    const g = volume.subarray(64, 80).toString('hex');
    return {
      segments,
      mediaType: volume[0]!,
      physical: (volume[36]! & 0x02) !== 0,
      bytesPerSector,
      sectorsPerChunk,
      sectorCount,
      chunkCount,
      mediaSize,
      compressionLevel: volume.length > 52 ? volume[52]! : 0,
      guid: `${g.slice(0, 8)}-${g.slice(8, 12)}-${g.slice(12, 16)}-${g.slice(16, 20)}-${g.slice(20)}`,
      header,
      stored,
      readErrors,
    };
  }

  private addTable(t: Buffer, seg: number, offset: number, sectors: { start: number; end: number } | undefined, p: string): void {
    if (t.length < 24) throw bad(p, `table section at offset ${offset}`, 'too short');
    if (adler32(t.subarray(0, 20)) !== t.readUInt32LE(20)) throw bad(p, `table section at offset ${offset}`, 'header checksum mismatch');
    const n = t.readUInt32LE(0);
    const base = Number(t.readBigUInt64LE(8));
    if (24 + n * 4 > t.length) throw bad(p, `table section at offset ${offset}`, `${n} entries do not fit in ${t.length} bytes`);
    const entries = t.subarray(24, 24 + n * 4);
    if (t.length >= 24 + n * 4 + 4 && adler32(entries) !== t.readUInt32LE(24 + n * 4)) throw bad(p, `table section at offset ${offset}`, 'entries checksum mismatch');
    // A chunk ends where the next begins; the last one at the end of its sectors section.
    const end = sectors && sectors.start === base ? sectors.end : offset;
    const fileSize = fstatSync(this.fds[seg]!).size;
    for (let i = 0; i < n; i++) {
      const raw = entries.readUInt32LE(i * 4);
      const start = base + (raw & 0x7fffffff);
      const stop = i + 1 < n ? base + (entries.readUInt32LE((i + 1) * 4) & 0x7fffffff) : end;
      if (start < base || stop <= start || stop > fileSize) {
        throw bad(p, `table section at offset ${offset}`, `entry ${i} points outside the file (${start}..${stop})`);
      }
      this.chunks.push({ segment: seg, offset: start, size: stop - start, compressed: (raw & 0x80000000) !== 0 });
    }
  }

  /** The media bytes of chunk `index`, checked against its checksum. */
  private chunk(index: number): Buffer {
    if (this.cache?.index === index) return this.cache.data;
    const c = this.chunks[index]!;
    const expected = Math.min(this.chunkSize, this.info.mediaSize - index * this.chunkSize);
    const where = `chunk ${index} (media offset ${index * this.chunkSize}, ${basename(this.segmentPath(c.segment))} offset ${c.offset})`;
    if (c.size > this.chunkSize * 2 + 1024) throw bad(this.segmentPath(c.segment), where, `implausible stored size ${c.size}`);
    const stored = this.readAt(c.segment, c.offset, c.size, where);
    let data: Buffer;
    if (c.compressed) {
      try {
        data = inflateSync(stored, { maxOutputLength: this.chunkSize });
      } catch (err) {
        throw bad(this.segmentPath(c.segment), where, `corrupt compressed data (${(err as Error).message})`, 'CORRUPT_IMAGE');
      }
    } else {
      if (c.size < expected + 4) throw bad(this.segmentPath(c.segment), where, `stored size ${c.size} is too small`);
      data = stored.subarray(0, expected);
      if (adler32(data) !== stored.readUInt32LE(expected)) throw bad(this.segmentPath(c.segment), where, 'checksum mismatch (Adler-32): the chunk was changed or damaged', 'CORRUPT_IMAGE');
    }
    if (data.length < expected) throw bad(this.segmentPath(c.segment), where, `holds ${data.length} bytes, ${expected} expected`, 'CORRUPT_IMAGE');
    data = data.subarray(0, expected);
    this.cache = { index, data };
    return data;
  }

  async readFully(view: Uint8Array, position: number): Promise<ByteRange[]> {
    let done = 0;
    while (done < view.length) {
      const at = position + done;
      const index = Math.floor(at / this.chunkSize);
      if (index >= this.chunks.length) throw bad(this.path, `media offset ${at}`, 'beyond the end of the image');
      const data = this.chunk(index);
      const from = at - index * this.chunkSize;
      const n = Math.min(data.length - from, view.length - done);
      view.set(data.subarray(from, from + n), done);
      done += n;
    }
    return [];
  }

  close(): void {
    for (const fd of this.fds) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}

/** header2 (UTF-16) or header (ASCII): identifiers on line 3, values on line 4 of the main category. */
function parseHeader(compressed: Buffer, utf16: boolean, p: string, offset: number): Record<string, string> {
  let raw: Buffer;
  try {
    raw = inflateSync(compressed, { maxOutputLength: 16 * 1024 * 1024 });
  } catch (err) {
    throw bad(p, `${utf16 ? 'header2' : 'header'} section at offset ${offset}`, `corrupt compressed data (${(err as Error).message})`);
  }
  let text: string;
  if (utf16) {
    const be = raw[0] === 0xfe && raw[1] === 0xff;
    const body = raw[0] === 0xff || be ? raw.subarray(2) : raw;
    text = be ? Buffer.from(body).swap16().toString('utf16le') : body.toString('utf16le');
  } else text = raw.toString('latin1');
  const lines = text.split(/\r?\n/);
  const ids = (lines[2] ?? '').split('\t');
  const values = (lines[3] ?? '').split('\t');
  const out: Record<string, string> = {};
  ids.forEach((id, i) => {
    if (id) out[id] = values[i] ?? '';
  });
  return out;
}
