/**
 * Decoding the records inside EWF-E01 sections (libewf's EWF specification: "Volume section",
 * "Error2 section", "Header2 section", "Header section"): each bounded and checked before use, so a
 * damaged or hostile record gives a CustosError (or, for informational headers, a list of problems),
 * never a crash or unbounded memory.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import { CustosError } from '../../errors';
import type { E01Info } from './reader';
import { adler32, VOLUME_DATA_SIZE } from './sections';

/** Read-error ranges (error2 entries) kept; a real acquisition with more is not plausible. */
const MAX_READ_ERRORS = 1_000_000;
/** The largest chunk custos reads: EnCase's largest is 32768 sectors of 512 bytes (16 MiB). */
const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
/** Every chunk costs at least a 4-byte table entry and an 8-byte zlib stream in the files. */
const MIN_BYTES_PER_CHUNK = 12;
/** Inflated size of a header section: EnCase limits most values to 3000 characters. */
const MAX_HEADER_BYTES = 4 * 1024 * 1024;
/** Characters of one header value that are kept. */
const MAX_HEADER_VALUE = 8192;
/** Header identifiers that are kept. */
const MAX_HEADER_VALUES = 256;

export function bad(path: string, where: string, why: string, code: 'INVALID_INPUT' | 'CORRUPT_IMAGE' = 'INVALID_INPUT'): CustosError {
  return new CustosError(code, `${path}: ${where}: ${why}`, {
    path,
    hint: 'The E01 is damaged or truncated; verify it against another copy, or re-acquire.',
  });
}

/** Media geometry from the volume section (EWF spec "Volume section", EnCase 1-7 layout). */
export interface Volume {
  raw: Buffer;
  bytesPerSector: number;
  sectorsPerChunk: number;
  sectorCount: number;
  mediaSize: number;
  chunkSize: number;
  chunkCount: number;
}

/** Inflates a zlib stream without checking its Adler-32 trailer: raw deflate after the 2-byte header. */
export function inflateWhole(stored: Buffer, max: number): Buffer | undefined {
  if ((stored[0]! & 0x0f) !== 8 || (stored[1]! & 0x20) !== 0) return undefined; // not deflate, or a preset dictionary
  try {
    return inflateRawSync(stored.subarray(2), { maxOutputLength: max });
  } catch {
    return undefined;
  }
}

/**
 * The set identifier (volume bytes 64-79) as libewf's ewfinfo prints it: a Microsoft GUID, whose
 * first three fields are stored little-endian (EWF specification, volume section).
 */
export const guidOf = (v: Buffer) => {
  const g = v.subarray(64, 80);
  const le = (from: number, to: number) => Buffer.from(g.subarray(from, to)).reverse().toString('hex');
  const rest = g.subarray(8).toString('hex');
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${rest.slice(0, 4)}-${rest.slice(4)}`;
};

/** Whether a data section describes the same media as the volume section: geometry and set identifier. */
export function sameMedia(a: Buffer, b: Buffer): boolean {
  return a.subarray(4, 24).equals(b.subarray(4, 24)) && a.subarray(64, 80).equals(b.subarray(64, 80));
}

/** The media geometry of a volume (or disk, data) section, EnCase 1-7 layout, checked for plausibility. */
export function readVolume(v: Buffer, p: string, where: string, totalBytes: number): Volume {
  if (v.length < VOLUME_DATA_SIZE) throw bad(p, where, `${v.length} bytes: only the EnCase 1-7 layout (${VOLUME_DATA_SIZE} bytes) is supported`);
  if (adler32(v.subarray(0, 1048)) !== v.readUInt32LE(1048)) throw bad(p, where, 'checksum mismatch');
  const sectorsPerChunk = v.readUInt32LE(8);
  const bytesPerSector = v.readUInt32LE(12);
  const sectors = v.readBigUInt64LE(16);
  if (bytesPerSector === 0 || bytesPerSector > 65536 || sectorsPerChunk === 0 || sectorsPerChunk > 32768 || sectorsPerChunk * bytesPerSector > MAX_CHUNK_BYTES) {
    throw bad(p, where, `implausible geometry: ${sectorsPerChunk} sectors of ${bytesPerSector} bytes per chunk`);
  }
  if (sectors * BigInt(bytesPerSector) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw bad(p, where, `implausible media size: ${sectors} sectors of ${bytesPerSector} bytes`);
  }
  const sectorCount = Number(sectors);
  const mediaSize = sectorCount * bytesPerSector;
  const chunkSize = sectorsPerChunk * bytesPerSector;
  const chunkCount = Math.ceil(mediaSize / chunkSize);
  if (chunkCount * MIN_BYTES_PER_CHUNK > totalBytes) {
    throw bad(p, where, `${chunkCount} chunks of media (${mediaSize} bytes) cannot be stored in the ${totalBytes} bytes of the segment files present (a segment is missing, or the size is wrong)`);
  }
  return { raw: v, bytesPerSector, sectorsPerChunk, sectorCount, mediaSize, chunkSize, chunkCount };
}

/** Error2 (EWF spec "Error2 section"): both checksums checked, count bounded, every range inside the media. */
export function readError2(e: Buffer, p: string, where: string, volume: Volume, out: E01Info['readErrors']): void {
  if (e.length < 524) throw bad(p, where, `too short (${e.length} bytes)`);
  if (adler32(e.subarray(0, 516)) !== e.readUInt32LE(516)) throw bad(p, where, 'header checksum mismatch: the list of unreadable sectors cannot be trusted');
  const n = e.readUInt32LE(0);
  if (520 + n * 8 + 4 > e.length) throw bad(p, where, `${n} entries do not fit in ${e.length} bytes`);
  if (out.length + n > MAX_READ_ERRORS) throw bad(p, where, `${out.length + n} ranges of unreadable sectors: more than the ${MAX_READ_ERRORS} custos accepts`);
  const entries = e.subarray(520, 520 + n * 8);
  if (adler32(entries) !== e.readUInt32LE(520 + n * 8)) throw bad(p, where, 'entries checksum mismatch: the list of unreadable sectors cannot be trusted');
  for (let i = 0; i < n; i++) {
    const firstSector = entries.readUInt32LE(i * 8);
    const sectorCount = entries.readUInt32LE(i * 8 + 4);
    if (sectorCount === 0 || firstSector + sectorCount > volume.sectorCount) {
      throw bad(p, where, `entry ${i} (sectors ${firstSector}+${sectorCount}) lies outside the media's ${volume.sectorCount} sectors`);
    }
    out.push({ firstSector, sectorCount });
  }
}

/**
 * Decodes a header2 (UTF-16 with byte-order mark) or header (ASCII) section: identifiers on line
 * 3, values on line 4 of the main category (EWF spec "Header2 section", "Header section"). Never
 * throws: what cannot be decoded is named in `problems`, and the values that can be read are kept.
 */
export function decodeHeader(compressed: Buffer, utf16: boolean): { values: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  let raw: Buffer;
  try {
    raw = inflateSync(compressed, { maxOutputLength: MAX_HEADER_BYTES });
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    problems.push(tooLarge ? `inflates to more than ${MAX_HEADER_BYTES} bytes, more than any header holds` : `corrupt compressed data (${(err as Error).message})`);
    return { values, problems };
  }
  let text: string;
  if (utf16) {
    let body = raw;
    let bigEndian = false;
    if (body[0] === 0xff && body[1] === 0xfe) body = body.subarray(2);
    else if (body[0] === 0xfe && body[1] === 0xff) {
      body = body.subarray(2);
      bigEndian = true;
    } else {
      // No byte-order mark: guess from where the zero bytes of ASCII text fall.
      bigEndian = body.length >= 2 && body[0] === 0 && body[1] !== 0;
      problems.push(`no byte-order mark: read as UTF-16${bigEndian ? 'BE' : 'LE'}`);
    }
    if (body.length % 2 !== 0) {
      problems.push(`odd length (${body.length} bytes of UTF-16): the last byte was ignored`);
      body = body.subarray(0, body.length - 1);
    }
    text = (bigEndian ? Buffer.from(body).swap16() : body).toString('utf16le');
    // Unpaired surrogates cannot be shown or stored as UTF-8.
    text = text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  } else text = raw.toString('latin1');
  const lines: string[] = [];
  for (let at = 0; lines.length < 4 && at <= text.length; ) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    lines.push(text.slice(at, end).replace(/\r$/, ''));
    if (nl < 0) break;
    at = nl + 1;
  }
  if (lines.length < 4) {
    problems.push(`only ${lines.length} line(s): the identifiers and values of the main category are missing`);
    return { values, problems };
  }
  if (lines[1]!.replace(/\0/g, '').trim() !== 'main') problems.push(`the first category is "${clean(lines[1]!).slice(0, 40)}", not "main"`);
  const ids = lines[2]!.split('\t', MAX_HEADER_VALUES + 1);
  const vals = lines[3]!.split('\t', MAX_HEADER_VALUES + 1);
  if (ids.length > MAX_HEADER_VALUES) problems.push(`more than ${MAX_HEADER_VALUES} identifiers: the rest were ignored`);
  if (ids.length !== vals.length) problems.push(`${ids.length} identifiers but ${vals.length} values`);
  let skipped = 0;
  let cut = 0;
  ids.slice(0, MAX_HEADER_VALUES).forEach((rawId, i) => {
    const id = rawId.replace(/\0/g, '');
    if (!/^[A-Za-z][A-Za-z0-9]{0,15}$/.test(id)) {
      if (id !== '') skipped++;
      return;
    }
    let v = clean(vals[i] ?? '');
    if (v.length > MAX_HEADER_VALUE) {
      v = `${v.slice(0, MAX_HEADER_VALUE)}…`;
      cut++;
    }
    if (!Object.prototype.hasOwnProperty.call(values, id)) values[id] = v;
  });
  if (skipped > 0) problems.push(`${skipped} identifier(s) that are not identifiers were ignored`);
  if (cut > 0) problems.push(`${cut} value(s) longer than ${MAX_HEADER_VALUE} characters were cut`);
  return { values, problems };
}

/** A header value as it may be shown: control characters (terminal escapes, NULs) replaced. */
export function clean(s: string): string {
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, '\uFFFD').replace(/\t/g, ' ');
}
