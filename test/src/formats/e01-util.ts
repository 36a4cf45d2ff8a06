/**
 * Test-side EWF-E01 tools, written from the EWF specification independently of src/formats/e01/reader.ts:
 * walk the sections of a segment, list where every chunk is stored, rebuild a segment with edited
 * sections (fixing descriptors, checksums and table base offsets), parse ewfverify's report.
 */
import { spawnSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';

/** Adler-32 (RFC 1950), written again here so that tests do not check custos with custos. */
export function adler(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export interface Section {
  type: string;
  offset: number;
  next: number;
  size: number;
  /** The section's data (after the 76-byte descriptor); empty for next and done. */
  data: Buffer;
}

/** The sections of one segment file, from the file header to next/done. */
export function sectionsOf(seg: Buffer): Section[] {
  const out: Section[] = [];
  let offset = 13;
  for (;;) {
    const type = seg.subarray(offset, offset + 16).toString('latin1').replace(/\0.*$/s, '');
    const next = Number(seg.readBigUInt64LE(offset + 16));
    const size = Number(seg.readBigUInt64LE(offset + 24));
    const done = type === 'next' || type === 'done';
    out.push({ type, offset, next, size, data: done ? Buffer.alloc(0) : seg.subarray(offset + 76, offset + size) });
    if (done) return out;
    offset = next;
  }
}

export function descriptorBytes(type: string, next: number, size: number): Buffer {
  const d = Buffer.alloc(76);
  d.write(type, 0, 16, 'latin1');
  d.writeBigUInt64LE(BigInt(next), 16);
  d.writeBigUInt64LE(BigInt(size), 24);
  d.writeUInt32LE(adler(d.subarray(0, 72)), 72);
  return d;
}

/**
 * Lays the given sections out again from offset 13 (the file header is kept): descriptors get
 * their new offsets, sizes and checksums; table/table2 base offsets follow their sectors section.
 * next/done get size 0 and point to themselves, as EnCase writes them.
 */
export function rebuildSegment(seg: Buffer, sections: { type: string; data: Buffer; oldOffset?: number }[]): Buffer {
  const parts: Buffer[] = [seg.subarray(0, 13)];
  let at = 13;
  const moved = new Map<number, number>();
  for (const s of sections) {
    if (s.oldOffset !== undefined) moved.set(s.oldOffset, at);
    let data = s.data;
    if ((s.type === 'table' || s.type === 'table2') && data.length >= 24) {
      const base = Number(data.readBigUInt64LE(8));
      const now = moved.get(base);
      if (now !== undefined && now !== base) {
        data = Buffer.from(data);
        data.writeBigUInt64LE(BigInt(now), 8);
        data.writeUInt32LE(adler(data.subarray(0, 20)), 20);
      }
    }
    const end = s.type === 'next' || s.type === 'done';
    parts.push(end ? descriptorBytes(s.type, at, 0) : descriptorBytes(s.type, at + 76 + data.length, 76 + data.length), data);
    at += 76 + data.length;
  }
  return Buffer.concat(parts);
}

/** A segment with its sections edited: `edit` gets them (with their old offsets) and returns the new list. */
export function editSegment(seg: Buffer, edit: (s: { type: string; data: Buffer; oldOffset?: number }[]) => { type: string; data: Buffer; oldOffset?: number }[]): Buffer {
  const list = sectionsOf(seg).map((s) => ({ type: s.type, data: s.data, oldOffset: s.offset }));
  return rebuildSegment(seg, edit(list));
}

export interface StoredChunk {
  index: number;
  segment: number;
  /** Offset of the stored chunk in its segment file. */
  offset: number;
  size: number;
  compressed: boolean;
}

/** Where every chunk is stored, from the tables (EnCase 6: entries relative to the table's base offset). */
export function chunkMap(segments: Buffer[]): StoredChunk[] {
  const out: StoredChunk[] = [];
  segments.forEach((seg, segment) => {
    let sectorsEnd = 0;
    for (const s of sectionsOf(seg)) {
      if (s.type === 'sectors') sectorsEnd = s.offset + s.size;
      if (s.type !== 'table') continue;
      const n = s.data.readUInt32LE(0);
      const base = Number(s.data.readBigUInt64LE(8));
      const entry = (i: number) => s.data.readUInt32LE(24 + i * 4);
      for (let i = 0; i < n; i++) {
        const start = base + (entry(i) & 0x7fffffff);
        const stop = i + 1 < n ? base + (entry(i + 1) & 0x7fffffff) : sectorsEnd;
        out.push({ index: out.length, segment, offset: start, size: stop - start, compressed: (entry(i) >>> 31) === 1 });
      }
    }
  });
  return out;
}

/** A header2 section body (zlib of UTF-16 text) from raw text bytes, for crafting damaged headers. */
export const header2Body = (bytes: Buffer) => deflateSync(bytes);

/** ewfverify's verdict: the MD5 it computed, and its "Sector validation errors" as sector ranges. */
export function ewfverify(first: string, zeroOnError = false): { md5: string; ranges: { firstSector: number; sectorCount: number }[]; status: number | null; out: string } {
  const r = spawnSync('ewfverify', ['-q', ...(zeroOnError ? ['-w'] : []), first], { encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  const md5 = /MD5 hash calculated over data:\s+([0-9a-f]{32})/.exec(out)?.[1] ?? '';
  const ranges = [...out.matchAll(/at sector\(s\): (\d+) - (\d+) \(number: (\d+)\)/g)].map((m) => ({ firstSector: Number(m[1]), sectorCount: Number(m[3]) }));
  return { md5, ranges, status: r.status, out };
}

/** A 1052-byte volume section body (EWF spec "Volume section", EnCase 1-7 layout). */
export function volumeBody(o: { sectorsPerChunk: number; bytesPerSector: number; sectorCount: bigint | number; chunkCount?: number; guid?: Buffer }): Buffer {
  const v = Buffer.alloc(1052);
  v[0] = 0x01;
  const chunkCount = o.chunkCount ?? Math.ceil((Number(o.sectorCount) * o.bytesPerSector) / (o.sectorsPerChunk * o.bytesPerSector));
  v.writeUInt32LE(chunkCount >>> 0, 4);
  v.writeUInt32LE(o.sectorsPerChunk, 8);
  v.writeUInt32LE(o.bytesPerSector, 12);
  v.writeBigUInt64LE(BigInt(o.sectorCount), 16);
  v[36] = 0x01;
  v[52] = 0x01;
  (o.guid ?? Buffer.alloc(16, 0x5a)).copy(v, 64);
  v.writeUInt32LE(adler(v.subarray(0, 1048)), 1048);
  return v;
}

/** A table body: header (count, base offset, Adler-32), entries, Adler-32 of the entries. */
export function tableBody(base: number, entries: Uint32Array | number[]): Buffer {
  const t = Buffer.alloc(24 + entries.length * 4 + 4);
  t.writeUInt32LE(entries.length, 0);
  t.writeBigUInt64LE(BigInt(base), 8);
  t.writeUInt32LE(adler(t.subarray(0, 20)), 20);
  for (let i = 0; i < entries.length; i++) t.writeUInt32LE(entries[i]! >>> 0, 24 + i * 4);
  t.writeUInt32LE(adler(t.subarray(24, 24 + entries.length * 4)), 24 + entries.length * 4);
  return t;
}

/** An error2 body: header (count, Adler-32), entries (first sector, count), Adler-32 of the entries. */
export function error2Body(ranges: { firstSector: number; sectorCount: number }[]): Buffer {
  const e = Buffer.alloc(520 + ranges.length * 8 + 4);
  e.writeUInt32LE(ranges.length, 0);
  e.writeUInt32LE(adler(e.subarray(0, 516)), 516);
  ranges.forEach((r, i) => {
    e.writeUInt32LE(r.firstSector, 520 + i * 8);
    e.writeUInt32LE(r.sectorCount, 524 + i * 8);
  });
  e.writeUInt32LE(adler(e.subarray(520, 520 + ranges.length * 8)), 520 + ranges.length * 8);
  return e;
}

/**
 * A single-segment E01 built from the specification: file header, volume, one sectors section
 * holding the given stored chunks (raw ones must carry their Adler-32), table, table2, the
 * given extra sections (error2, digest…), done.
 */
export function buildE01(o: {
  sectorsPerChunk: number;
  bytesPerSector: number;
  sectorCount: number;
  /** The stored chunks, as many as the media needs; or one stored chunk repeated `repeat` times. */
  chunks: { data: Buffer; compressed: boolean }[];
  repeat?: number;
  extra?: { type: string; data: Buffer }[];
}): Buffer {
  const fileHeader = Buffer.from([0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00]);
  const volume = volumeBody(o);
  const volumeAt = 13;
  const sectorsAt = volumeAt + 76 + volume.length;
  const count = o.repeat ?? o.chunks.length;
  const entries = new Uint32Array(count);
  const stored: Buffer[] = [];
  let rel = 76;
  for (let i = 0; i < count; i++) {
    const c = o.chunks[o.repeat ? 0 : i]!;
    entries[i] = (rel | (c.compressed ? 0x80000000 : 0)) >>> 0;
    stored.push(c.data);
    rel += c.data.length;
  }
  const tableAt = sectorsAt + rel;
  const table = tableBody(sectorsAt, entries);
  const parts = [fileHeader, descriptorBytes('volume', sectorsAt, 76 + volume.length), volume, descriptorBytes('sectors', tableAt, rel), ...stored];
  let at = tableAt;
  for (const s of [{ type: 'table', data: table }, { type: 'table2', data: table }, ...(o.extra ?? [])]) {
    parts.push(descriptorBytes(s.type, at + 76 + s.data.length, 76 + s.data.length), s.data);
    at += 76 + s.data.length;
  }
  parts.push(descriptorBytes('done', at, 0));
  return Buffer.concat(parts);
}

/** A raw (uncompressed) stored chunk: the data and its Adler-32. */
export function rawChunk(data: Buffer): { data: Buffer; compressed: boolean } {
  const b = Buffer.alloc(data.length + 4);
  data.copy(b);
  b.writeUInt32LE(adler(data), data.length);
  return { data: b, compressed: false };
}
