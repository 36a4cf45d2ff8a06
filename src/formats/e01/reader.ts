/**
 * Reading an EWF-E01 set as one stream of media bytes (libewf's EWF specification). Longer than
 * most files on purpose (~500 lines): walking the sections, building the chunk index and reading
 * chunks share the open segment files and the index; the records inside the sections (volume,
 * error2, header) are decoded in ./records.ts.
 */
import { closeSync, existsSync, fstatSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { inflateSync } from 'node:zlib';
import { CustosError, fromFsError, isCustosError } from '../../errors';
import { openRegularForRead } from '../../fsutil';
import { protectFile } from '../../protect';
import type { ByteRange, ByteSource } from '../types';
import type { DamagedRange } from '../types';
import { bad, decodeHeader, guidOf, inflateWhole, readError2, readVolume, sameMedia, type Volume } from './records';
import { adler32, DESCRIPTOR_SIZE, EVF_SIGNATURE, FILE_HEADER_SIZE, MAX_SEGMENT_NUMBER, segmentExtension } from './sections';

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
  /**
   * Damage that was tolerated because it does not touch the media or the stored hashes: header
   * sections that could not be decoded (or only in part), a table whose mirror (table2) was used.
   * Absent when there was none.
   */
  warnings?: string[];
}

/** How an E01Source reads. */
export interface E01SourceOptions {
  /**
   * Go on past damaged chunks (as ewfverify does) instead of failing on the first: readFully
   * returns their media ranges and each is recorded in `damage`. A chunk whose Adler-32 fails
   * gives its stored bytes (ewfverify's data without -w); a chunk that cannot be decoded or read
   * gives zeros (ewfverify -w; without -w ewfverify hashes whatever its buffer held).
   */
  tolerateDamage?: boolean;
  /** With tolerateDamage: every damaged chunk reads as zeros, also those whose stored bytes are at hand (ewfverify -w, EnCase's behaviour). */
  zeroDamaged?: boolean;
}

/** Damaged chunks kept in `E01Source.damage.ranges`; `count` goes on counting past it. */
export const MAX_DAMAGE_RECORDS = 10_000;
/** Upper bound on a section's data that custos will load into memory (headers, tables, error2). */
const MAX_SECTION_LOAD = 64 * 1024 * 1024;
/** Sections per segment file: EnCase writes a few hundred; anything near this is a loop or hostile. */
const MAX_SECTIONS_PER_SEGMENT = 1_000_000;
const MAX_WARNINGS = 100;

/** A section type as it may be shown: printable ASCII only (it comes from the file). */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

/** The segment files of an E01 set, from its first file: .E01, .E02, … (stopping at the first gap, or at .ZZZ). */
export function findE01Segments(first: string): string[] {
  const m = /^(.*)\.[Ee]01$/.exec(first);
  if (!m) return [first];
  const upper = /\.E01$/.test(first);
  const out: string[] = [];
  for (let n = 1; n <= MAX_SEGMENT_NUMBER; n++) {
    const ext = segmentExtension(n);
    const p = `${m[1]}.${upper ? ext : ext.toLowerCase()}`;
    if (!existsSync(p)) break;
    out.push(p);
  }
  return out;
}

/** The chunks listed by one table section: entries relative to `base` in segment `segment`, ending at `end`. */
interface ChunkGroup {
  firstChunk: number;
  segment: number;
  base: number;
  /** Where the last chunk's data ends: the end of its sectors section (or the table). */
  end: number;
  /** The table entries as stored: bit 31 marks a compressed chunk, bits 0-30 the offset from `base`. */
  entries: Uint32Array;
}

/** A decoded chunk: its media bytes (undefined: zeros), and what was wrong with it. */
interface ChunkData {
  index: number;
  data: Buffer | undefined;
  damage?: DamagedRange;
}

/**
 * Reads an EWF-E01 image (custos's or any EnCase-2-to-7-style tool's) as one stream of media bytes.
 * Every size, offset and count read from the files is bounded and checked before it is used, so
 * a damaged or hostile file gives a CustosError naming the file and the place, never a crash, a
 * hang or unbounded memory. Chunk checksums (Adler-32 of raw chunks, zlib's own for compressed
 * ones) are verified on read; a damaged chunk is reported with its media offset, or, with
 * `tolerateDamage`, recorded in `damage` and read on past.
 */
export class E01Source implements ByteSource {
  readonly directFds: number[] = [];
  readonly info: E01Info;
  /** Damaged chunks met so far (tolerateDamage): how many, and the first MAX_DAMAGE_RECORDS of them in the order read. */
  readonly damage: { count: number; ranges: DamagedRange[] } = { count: 0, ranges: [] };
  private readonly fds: number[] = [];
  private readonly sizes: number[] = [];
  private readonly paths: string[];
  private readonly groups: ChunkGroup[] = [];
  private listed = 0;
  private lastGroup = 0;
  private cache: ChunkData | undefined;
  private chunkSize = 0;
  private damaged: Uint8Array | undefined;
  private readonly warnings: string[] = [];
  private readonly tolerate: boolean;
  private readonly zeroDamaged: boolean;

  constructor(
    readonly path: string,
    options: E01SourceOptions = {},
  ) {
    this.tolerate = options.tolerateDamage === true;
    this.zeroDamaged = this.tolerate && options.zeroDamaged === true;
    const paths = findE01Segments(path);
    this.paths = paths;
    if (paths.length === 0) throw new CustosError('FILE_NOT_FOUND', `${path}: no such E01 file`, { path, hint: 'Name the first segment (.E01).' });
    try {
      for (const p of paths) {
        const { fd, size } = openSegment(p);
        this.fds.push(fd);
        this.sizes.push(size);
        protectFile(p, fstatSync(fd));
      }
      this.info = this.parse(paths);
    } catch (err) {
      this.close();
      if (!isCustosError(err)) throw fromFsError(err, path, 'reading it') ?? err;
      throw err;
    }
  }

  get size(): number {
    return this.info.mediaSize;
  }

  private readAt(segment: number, offset: number, length: number, what: string): Buffer {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(this.fds[segment]!, buf, done, length - done, offset + done);
      } catch (err) {
        throw fromFsError(err, this.segmentPath(segment), `reading ${what} at offset ${offset}`) ?? err;
      }
      if (n === 0) throw bad(this.segmentPath(segment), `${what} at offset ${offset}`, `file ends before ${length} bytes could be read`);
      done += n;
    }
    return buf;
  }

  private segmentPath(i: number): string {
    return this.paths[i] ?? this.path;
  }

  private warn(message: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(message);
  }

  private parse(paths: string[]): E01Info {
    let volume: Volume | undefined;
    let header: { values: Record<string, string>; from: 'header2' | 'header' } | undefined;
    const headerFailures: string[] = [];
    const stored: E01Info['stored'] = {};
    const readErrors: E01Info['readErrors'] = [];
    const segments: E01Info['segments'] = [];
    const totalBytes = this.sizes.reduce((a, b) => a + b, 0);
    let sawDone = false;
    paths.forEach((p, seg) => {
      const fileSize = this.sizes[seg]!;
      segments.push({ path: p, size: fileSize });
      if (fileSize < FILE_HEADER_SIZE) throw bad(p, 'file header', `only ${fileSize} bytes`);
      const fh = this.readAt(seg, 0, FILE_HEADER_SIZE, 'file header');
      if (!fh.subarray(0, 8).equals(EVF_SIGNATURE)) throw bad(p, 'file header', 'not an EWF-E01 file (signature EVF missing)');
      const number = fh.readUInt16LE(9);
      if (number !== seg + 1) throw bad(p, 'file header', `segment number ${number} where ${seg + 1} was expected (files renamed or missing?)`);
      let offset = FILE_HEADER_SIZE;
      let sectors: { start: number; end: number } | undefined;
      // A table whose checksum failed, waiting for its mirror (table2) to stand in for it.
      let failedTable: { reason: string; data: Buffer; offset: number } | undefined;
      const settleFailedTable = () => {
        if (!failedTable) return;
        const f = failedTable;
        failedTable = undefined;
        // Neither copy is intact. ewfverify reads the entries anyway and lets the chunk checksums find what is wrong.
        if (!this.tolerate || this.addTable(f.data, seg, f.offset, sectors, p, volume, true) !== undefined) {
          throw bad(p, `table section at offset ${f.offset}`, `${f.reason}, and no intact mirror (table2) follows it`);
        }
        this.warn(`${basename(p)}: table section at offset ${f.offset}: ${f.reason}, and no intact mirror follows it; its entries were used as they are, each chunk checked by its own checksum`);
      };
      for (let count = 0; ; count++) {
        if (count >= MAX_SECTIONS_PER_SEGMENT) throw bad(p, `section at offset ${offset}`, `more than ${MAX_SECTIONS_PER_SEGMENT} sections in one file (a loop?)`);
        if (offset + DESCRIPTOR_SIZE > fileSize) throw bad(p, `section descriptor at offset ${offset}`, 'truncated: the file ends inside it (an incomplete image?)');
        const d = this.readAt(seg, offset, DESCRIPTOR_SIZE, 'section descriptor');
        if (adler32(d.subarray(0, 72)) !== d.readUInt32LE(72)) throw bad(p, `section descriptor at offset ${offset}`, 'checksum mismatch');
        const type = printable(d.subarray(0, 16).toString('latin1').replace(/\0.*$/s, ''));
        const next = d.readBigUInt64LE(16);
        const size = d.readBigUInt64LE(24);
        if (type !== 'table2') settleFailedTable();
        if (type === 'done' || type === 'next') {
          if (type === 'done') {
            if (seg !== paths.length - 1) throw bad(p, `done section at offset ${offset}`, `found before the last segment (${paths.length} segment files are present; does ${basename(paths[seg + 1]!)} belong to another image?)`);
            sawDone = true;
          }
          break;
        }
        const where = `${type || '(unnamed)'} section at offset ${offset}`;
        if (size < BigInt(DESCRIPTOR_SIZE) || size > BigInt(fileSize - offset)) throw bad(p, where, `size ${size} runs past the end of the file (${fileSize} bytes)`);
        if (next < BigInt(offset + DESCRIPTOR_SIZE) || next > BigInt(fileSize)) throw bad(p, where, `next section offset ${next} is out of bounds`);
        const dataLen = Number(size) - DESCRIPTOR_SIZE;
        const load = (): Buffer => {
          if (dataLen > MAX_SECTION_LOAD) throw bad(p, where, `implausible size ${dataLen} (custos loads at most ${MAX_SECTION_LOAD} bytes of a section)`);
          return this.readAt(seg, offset + DESCRIPTOR_SIZE, dataLen, `${type} section`);
        };
        switch (type) {
          case 'header2':
          case 'header': {
            // Headers are informational: the first copy that decodes is used, damage is a warning.
            if (seg !== 0 || header?.from === 'header2' || (header && type === 'header')) break;
            if (headerFailures.length >= 8) break;
            const decoded = decodeHeader(load(), type === 'header2');
            const problems = decoded.problems.map((m) => `${basename(p)}: ${where}: ${m}`);
            if (Object.keys(decoded.values).length === 0) {
              headerFailures.push(...(problems.length > 0 ? problems : [`${basename(p)}: ${where}: holds no values`]));
            } else {
              header = { values: decoded.values, from: type };
              for (const m of problems) this.warn(m);
            }
            break;
          }
          case 'volume':
          case 'disk':
          case 'data': {
            const v = readVolume(load(), p, where, totalBytes);
            if (!volume) {
              volume = v;
              this.chunkSize = v.chunkSize;
            } else if (!sameMedia(volume.raw, v.raw)) {
              throw bad(p, where, `describes other media than the volume section of ${basename(paths[0]!)} (set identifier ${guidOf(v.raw)}, expected ${guidOf(volume.raw)}): the segment belongs to another image`);
            }
            break;
          }
          case 'sectors':
            sectors = { start: offset, end: offset + Number(size) };
            break;
          case 'table':
          case 'table2': {
            if (type === 'table2' && !failedTable) break; // the mirror of a table already read
            if (!volume) throw bad(p, where, 'comes before the volume section');
            const t = load();
            const failure = this.addTable(t, seg, offset, sectors, p, volume, false);
            if (failure === undefined) {
              if (failedTable) this.warn(`${basename(p)}: table section at offset ${failedTable.offset}: ${failedTable.reason}; its mirror (table2 at offset ${offset}) was used`);
              failedTable = undefined;
            } else if (!failedTable) failedTable = { reason: failure, data: t, offset };
            else settleFailedTable();
            break;
          }
          case 'digest': {
            const dg = load();
            if (dg.length < 80) throw bad(p, where, `too short (${dg.length} bytes, 80 expected)`);
            if (adler32(dg.subarray(0, 76)) !== dg.readUInt32LE(76)) throw bad(p, where, 'checksum mismatch: the stored MD5 and SHA-1 cannot be trusted');
            const md5 = dg.subarray(0, 16).toString('hex');
            const sha1 = dg.subarray(16, 36).toString('hex');
            if (/[^0]/.test(md5)) stored.md5 = md5;
            if (/[^0]/.test(sha1)) stored.sha1 = sha1;
            break;
          }
          case 'hash': {
            const h = load();
            if (h.length < 36) throw bad(p, where, `too short (${h.length} bytes, 36 expected)`);
            if (adler32(h.subarray(0, 32)) !== h.readUInt32LE(32)) throw bad(p, where, 'checksum mismatch: the stored MD5 cannot be trusted');
            const md5 = h.subarray(0, 16).toString('hex');
            if (!stored.md5 && /[^0]/.test(md5)) stored.md5 = md5;
            break;
          }
          case 'error2': {
            if (!volume) throw bad(p, where, 'comes before the volume section');
            readError2(load(), p, where, volume, readErrors);
            break;
          }
          default:
            break;
        }
        offset = Number(next);
      }
      settleFailedTable();
    });
    if (!volume) throw bad(paths[0]!, 'volume section', 'missing: the first segment has no volume section');
    if (!sawDone) throw bad(paths[paths.length - 1]!, 'done section', 'missing: the set is incomplete (a segment is missing, or the acquisition did not finish)');
    if (this.listed !== volume.chunkCount) {
      throw bad(paths[paths.length - 1]!, 'tables', `${this.listed} chunks listed, but the volume section needs ${volume.chunkCount} (a segment is missing or truncated?)`);
    }
    for (const m of headerFailures) this.warn(header ? `${m}; another header section was used` : m);
    const v = volume.raw;
    return {
      segments,
      mediaType: v[0]!,
      physical: (v[36]! & 0x02) !== 0,
      bytesPerSector: volume.bytesPerSector,
      sectorsPerChunk: volume.sectorsPerChunk,
      sectorCount: volume.sectorCount,
      chunkCount: volume.chunkCount,
      mediaSize: volume.mediaSize,
      compressionLevel: v[52]!,
      guid: guidOf(v),
      header: header?.values ?? {},
      stored,
      readErrors,
      ...(this.warnings.length > 0 ? { warnings: this.warnings } : {}),
    };
  }

  /**
   * Adds the chunks of a table (or table2) section (EWF spec "Table section", EnCase 6 to 7):
   * header with count and base offset, entries, Adler-32 of the entries. Returns what failed
   * when a checksum fails (so that the mirror can be tried; with `untrusted` the entries'
   * checksum is not required), undefined when the chunks were added; throws for impossible tables.
   */
  private addTable(t: Buffer, seg: number, offset: number, sectors: { start: number; end: number } | undefined, p: string, volume: Volume | undefined, untrusted: boolean): string | undefined {
    const where = `table section at offset ${offset}`;
    if (!volume) throw bad(p, where, 'comes before the volume section');
    if (t.length < 24) throw bad(p, where, `too short (${t.length} bytes)`);
    if (adler32(t.subarray(0, 20)) !== t.readUInt32LE(20)) return 'header checksum mismatch';
    const n = t.readUInt32LE(0);
    const base = t.readBigUInt64LE(8);
    if (24 + n * 4 > t.length) throw bad(p, where, `${n} entries do not fit in ${t.length} bytes`);
    if (base > BigInt(this.sizes[seg]!)) throw bad(p, where, `base offset ${base} lies beyond the end of the file`);
    if (this.listed + n > volume.chunkCount) {
      throw bad(p, where, `lists ${n} chunks after ${this.listed}, but the volume section has only ${volume.chunkCount}`);
    }
    const raw = t.subarray(24, 24 + n * 4);
    if (t.length >= 24 + n * 4 + 4 && adler32(raw) !== t.readUInt32LE(24 + n * 4) && !untrusted) return 'entries checksum mismatch';
    if (n === 0) return undefined;
    const entries = new Uint32Array(n);
    for (let i = 0; i < n; i++) entries[i] = raw.readUInt32LE(i * 4);
    const b = Number(base);
    // A chunk ends where the next begins; the last one at the end of its sectors section.
    const end = sectors && sectors.start === b ? sectors.end : offset;
    this.groups.push({ firstChunk: this.listed, segment: seg, base: b, end, entries });
    this.listed += n;
    return undefined;
  }

  /** Where chunk `index` is stored: its group and position in it (sequential reads hit the cached group). */
  private locate(index: number): { g: ChunkGroup; i: number } {
    let k = this.lastGroup;
    let g = this.groups[k]!;
    if (!(index >= g.firstChunk && index < g.firstChunk + g.entries.length)) {
      let lo = 0;
      let hi = this.groups.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (this.groups[mid]!.firstChunk <= index) lo = mid;
        else hi = mid - 1;
      }
      k = lo;
      g = this.groups[k]!;
      this.lastGroup = k;
    }
    return { g, i: index - g.firstChunk };
  }

  /** The media bytes of chunk `index`, checked against its checksum; damage throws, or with tolerateDamage is recorded. */
  private chunk(index: number): ChunkData {
    if (this.cache?.index === index) return this.cache;
    const { g, i } = this.locate(index);
    const raw = g.entries[i]!;
    const start = g.base + (raw & 0x7fffffff);
    const stop = i + 1 < g.entries.length ? g.base + (g.entries[i + 1]! & 0x7fffffff) : g.end;
    const compressed = (raw & 0x80000000) !== 0;
    const mediaOffset = index * this.chunkSize;
    const expected = Math.min(this.chunkSize, this.info.mediaSize - mediaOffset);
    const file = this.segmentPath(g.segment);
    const result = (data: Buffer | undefined, problem?: { reason: string; filledWith: DamagedRange['filledWith'] }): ChunkData => {
      const out: ChunkData = { index, data };
      if (problem) {
        const where = `chunk ${index} (media offset ${mediaOffset}, ${basename(file)} offset ${start})`;
        if (!this.tolerate) throw bad(file, where, problem.reason, 'CORRUPT_IMAGE');
        const filledWith = this.zeroDamaged ? 'zeros' : problem.filledWith;
        if (filledWith === 'zeros') out.data = undefined;
        const bps = this.info.bytesPerSector;
        out.damage = {
          offset: mediaOffset,
          length: expected,
          firstSector: Math.floor(mediaOffset / bps),
          sectorCount: Math.ceil(expected / bps),
          file,
          fileOffset: start,
          chunk: index,
          reason: problem.reason,
          filledWith,
        };
        this.record(out.damage);
      }
      this.cache = out;
      return out;
    };
    const maxStored = this.chunkSize * 2 + 1024;
    if (stop <= start || stop > this.sizes[g.segment]!) {
      return result(undefined, { reason: `table entry points outside its data (${start}..${stop} in a file of ${this.sizes[g.segment]} bytes)`, filledWith: 'zeros' });
    }
    const size = stop - start;
    if (size > maxStored) return result(undefined, { reason: `implausible stored size ${size} for a chunk of ${this.chunkSize} bytes`, filledWith: 'zeros' });
    if (!compressed && size < expected + 4) return result(undefined, { reason: `stored size ${size} is too small for ${expected} bytes and their checksum`, filledWith: 'zeros' });
    let stored: Buffer;
    try {
      stored = this.readAt(g.segment, start, size, `chunk ${index}`);
    } catch (err) {
      if (!isCustosError(err) || !this.tolerate) throw err;
      return result(undefined, { reason: `cannot be read: ${err.message}`, filledWith: 'zeros' });
    }
    if (!compressed) {
      const data = stored.subarray(0, expected);
      if (adler32(data) !== stored.readUInt32LE(expected)) {
        return result(data, { reason: 'checksum mismatch (Adler-32): the chunk was changed or damaged', filledWith: 'stored-bytes' });
      }
      return result(data);
    }
    let data: Buffer;
    try {
      data = inflateSync(stored, { maxOutputLength: this.chunkSize });
    } catch (err) {
      // A stream that inflates whole and only fails zlib's Adler-32 still has its stored bytes (ewfverify uses them).
      const whole = stored.length > 6 && (err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR' && /incorrect data check/.test((err as Error).message) ? inflateWhole(stored, this.chunkSize) : undefined;
      if (whole && whole.length >= expected) {
        return result(whole.subarray(0, expected), { reason: 'checksum mismatch (zlib Adler-32): the chunk was changed or damaged', filledWith: 'stored-bytes' });
      }
      return result(undefined, { reason: `corrupt compressed data (${(err as Error).message})`, filledWith: 'zeros' });
    }
    if (data.length < expected) return result(undefined, { reason: `inflates to ${data.length} bytes, ${expected} expected`, filledWith: 'zeros' });
    return result(data.subarray(0, expected));
  }

  /** Counts a damaged chunk once, however often it is read. */
  private record(d: DamagedRange): void {
    const c = d.chunk!;
    this.damaged ??= new Uint8Array(Math.ceil(this.info.chunkCount / 8));
    const bit = 1 << (c & 7);
    if (this.damaged[c >>> 3]! & bit) return;
    this.damaged[c >>> 3]! |= bit;
    this.damage.count++;
    if (this.damage.ranges.length < MAX_DAMAGE_RECORDS) this.damage.ranges.push(d);
  }

  /**
   * Fills `view` with the media bytes at `position`. Returns the media ranges (within the read)
   * of damaged chunks that were read past (tolerateDamage); without it, damage throws CORRUPT_IMAGE.
   */
  async readFully(view: Uint8Array, position: number): Promise<ByteRange[]> {
    if (!Number.isSafeInteger(position) || position < 0 || position + view.length > this.info.mediaSize) {
      throw bad(this.path, `media offset ${position}`, `a read of ${view.length} bytes there lies beyond the end of the image (${this.info.mediaSize} bytes)`);
    }
    const damaged: ByteRange[] = [];
    let done = 0;
    while (done < view.length) {
      const at = position + done;
      const index = Math.floor(at / this.chunkSize);
      const c = this.chunk(index);
      const from = at - index * this.chunkSize;
      const n = Math.min(Math.min(this.chunkSize, this.info.mediaSize - index * this.chunkSize) - from, view.length - done);
      if (c.data) view.set(c.data.subarray(from, from + n), done);
      else view.fill(0, done, done + n);
      if (c.damage) {
        const last = damaged[damaged.length - 1];
        if (last && last.offset + last.length === at) last.length += n;
        else damaged.push({ offset: at, length: n });
      }
      done += n;
    }
    return damaged;
  }

  close(): void {
    for (const fd of this.fds) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.fds.length = 0;
  }
}

/** Opens one segment file: a regular file only (never a FIFO that would hang, never a device). */
function openSegment(p: string): { fd: number; size: number } {
  try {
    return openRegularForRead(p, 'E01 segment file');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') {
      throw new CustosError('IO_ERROR', `${p}: too many open files to open every segment of the E01`, { path: p, cause: err, hint: 'Raise the limit of open files (ulimit -n) and try again.' });
    }
    throw err;
  }
}

export { decodeHeader } from './records';
