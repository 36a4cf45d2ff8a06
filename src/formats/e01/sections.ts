/**
 * Building blocks of the Expert Witness Compression Format, EnCase 6 flavour (libewf's EWF
 * specification, shared/specs: "File header", "Section descriptor", "Volume section",
 * "Table section", "Error2", "Digest", "Hash", "Done"). All integers are little-endian.
 */
import { CustosBug, CustosError } from '../../errors';

/** "EVF\x09\x0d\x0a\xff\x00": the signature of every EWF-E01 segment file. */
export const EVF_SIGNATURE = Buffer.from([0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00]);
export const FILE_HEADER_SIZE = 13;
export const DESCRIPTOR_SIZE = 76;
export const VOLUME_DATA_SIZE = 1052;
/** Sectors per chunk: EnCase's default and the only value every reader accepts. */
export const SECTORS_PER_CHUNK = 64;
/** EnCase 6 tables hold at most this many entries; more need a new sectors/table group. */
export const MAX_TABLE_ENTRIES = 16375;
/** Table offsets are 31-bit (bit 31 marks compression): a group must end before 2^31 bytes. */
export const MAX_GROUP_BYTES = 0x7fffffff;

/** Adler-32 (RFC 1950 §8.2), the checksum of every EWF structure and of uncompressed chunks. */
export function adler32(data: Uint8Array, start = 1): number {
  let a = start & 0xffff;
  let b = (start >>> 16) & 0xffff;
  let i = 0;
  const n = data.length;
  while (i < n) {
    // 5552 is the largest run that cannot overflow before the modulo (zlib's NMAX).
    const end = Math.min(i + 5552, n);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The 13-byte file header of segment `number` (1-based). */
export function fileHeader(number: number): Buffer {
  const b = Buffer.alloc(FILE_HEADER_SIZE);
  EVF_SIGNATURE.copy(b, 0);
  b[8] = 0x01;
  b.writeUInt16LE(number, 9);
  return b;
}

/** A 76-byte section descriptor: type, absolute offset of the next section, size, Adler-32. */
export function descriptor(type: string, next: number, size: number): Buffer {
  const b = Buffer.alloc(DESCRIPTOR_SIZE);
  b.write(type, 0, 16, 'ascii');
  b.writeBigUInt64LE(BigInt(next), 16);
  b.writeBigUInt64LE(BigInt(size), 24);
  b.writeUInt32LE(adler32(b.subarray(0, 72)), 72);
  return b;
}

/** Appends the Adler-32 of `data` to it. */
export function withChecksum(data: Buffer): Buffer {
  const out = Buffer.alloc(data.length + 4);
  data.copy(out);
  out.writeUInt32LE(adler32(data), data.length);
  return out;
}

export type MediaType = 'removable' | 'fixed' | 'optical' | 'memory';
const MEDIA_TYPE: Record<MediaType, number> = { removable: 0x00, fixed: 0x01, optical: 0x03, memory: 0x10 };
export type CompressionLevel = 'none' | 'fast' | 'best';
const COMPRESSION_LEVEL: Record<CompressionLevel, number> = { none: 0, fast: 1, best: 2 };

export interface VolumeInfo {
  mediaType: MediaType;
  /** Media flag 0x02: a physical device rather than a logical volume. */
  physical: boolean;
  chunkCount: number;
  bytesPerSector: number;
  sectorCount: number;
  compression: CompressionLevel;
  /** Segment file set identifier (random, version 4). */
  guid: Buffer;
}

/** The 1052-byte volume (and data) section body, EnCase 5-7 layout. */
export function volumeData(v: VolumeInfo): Buffer {
  const b = Buffer.alloc(VOLUME_DATA_SIZE);
  b[0] = MEDIA_TYPE[v.mediaType];
  b.writeUInt32LE(v.chunkCount, 4);
  b.writeUInt32LE(SECTORS_PER_CHUNK, 8);
  b.writeUInt32LE(v.bytesPerSector, 12);
  b.writeBigUInt64LE(BigInt(v.sectorCount), 16);
  b[36] = 0x01 | (v.physical ? 0x02 : 0); // an image file; physical device
  b[52] = COMPRESSION_LEVEL[v.compression];
  b.writeUInt32LE(SECTORS_PER_CHUNK, 56); // error granularity: one chunk
  v.guid.copy(b, 64, 0, 16);
  b.writeUInt32LE(adler32(b.subarray(0, 1048)), 1048);
  return b;
}

/** Table (and table2) body: header with base offset, entries, Adler-32 of the entries. */
export function tableData(baseOffset: number, entries: readonly number[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(entries.length, 0);
  head.writeBigUInt64LE(BigInt(baseOffset), 8);
  head.writeUInt32LE(adler32(head.subarray(0, 20)), 20);
  const body = Buffer.alloc(entries.length * 4);
  entries.forEach((e, i) => body.writeUInt32LE(e >>> 0, i * 4));
  return Buffer.concat([head, withChecksum(body)]);
}

/** Error2 body: the unreadable sector ranges (start sector, count), for EnCase and ewfinfo. */
export function error2Data(ranges: readonly { firstSector: number; sectorCount: number }[]): Buffer {
  const head = Buffer.alloc(520);
  head.writeUInt32LE(ranges.length, 0);
  head.writeUInt32LE(adler32(head.subarray(0, 516)), 516);
  const body = Buffer.alloc(ranges.length * 8);
  ranges.forEach((r, i) => {
    body.writeUInt32LE(r.firstSector >>> 0, i * 8);
    body.writeUInt32LE(r.sectorCount >>> 0, i * 8 + 4);
  });
  return Buffer.concat([head, withChecksum(body)]);
}

/** Digest body: MD5 and SHA-1 of the media data. */
export function digestData(md5Hex: string, sha1Hex: string): Buffer {
  const b = Buffer.alloc(80);
  Buffer.from(md5Hex, 'hex').copy(b, 0);
  Buffer.from(sha1Hex, 'hex').copy(b, 16);
  b.writeUInt32LE(adler32(b.subarray(0, 76)), 76);
  return b;
}

/** Hash body: MD5 of the media data. */
export function hashData(md5Hex: string): Buffer {
  const b = Buffer.alloc(36);
  Buffer.from(md5Hex, 'hex').copy(b, 0);
  b.writeUInt32LE(adler32(b.subarray(0, 32)), 32);
  return b;
}

/** Segment files an E01 set can have: E01…E99, then EAA…ZZZ (22 × 26 × 26 names), as libewf names them. */
export const MAX_SEGMENT_NUMBER = 99 + 22 * 26 * 26;

/** Segment file extension n (1-based): E01…E99, then EAA…EZZ, FAA… ZZZ (libewf's rule; EWF spec "Segment file extensions"). */
export function segmentExtension(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new CustosBug(`segmentExtension: segment number ${n}`);
  if (n > MAX_SEGMENT_NUMBER) {
    throw new CustosError('INVALID_INPUT', `segment ${n} would need a name beyond .ZZZ: an E01 set has at most ${MAX_SEGMENT_NUMBER} segment files`, {
      hint: 'Use a larger --segment-size, so that the image needs fewer segment files.',
    });
  }
  if (n <= 99) return `E${String(n).padStart(2, '0')}`;
  let k = n - 100;
  const letters = 26 * 26;
  const first = 4 + Math.floor(k / letters); // 'E' is index 4
  k %= letters;
  return String.fromCharCode(65 + first) + String.fromCharCode(65 + Math.floor(k / 26)) + String.fromCharCode(65 + (k % 26));
}
