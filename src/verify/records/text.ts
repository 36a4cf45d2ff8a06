/**
 * The text of a hash record written by another tool, made safe to read: decoding (UTF-8 or
 * UTF-16, binary refused), line splitting within bounds, values checked as they are taken
 * (numbers, digests), and record text quoted safely into one-line messages. Every problem is a
 * CustosError naming the file. Shared by every record kind in this folder.
 */
import { CustosError } from '../../errors';
import { type Algorithm, ALGORITHM_INFO } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';

/** Largest hash record read: 16 MiB (a sums file of tens of thousands of names fits). */
export const MAX_EXPECT_FILE_BYTES = 16 * 1024 * 1024;
/** Most lines a hash record may have. */
export const MAX_EXPECT_LINES = 1_000_000;
/** Longest line accepted (an escaped file name of PATH_MAX bytes fits twice over). */
export const MAX_EXPECT_LINE_LENGTH = 65_536;

/** The record formats understood, as told to the user when a file is none of them. */
export const EXPECT_FORMATS =
  'dc3dd log=/hlog= files (or its captured stderr), dcfldd hashlog= files (or its stderr), ewfacquire and ewfverify output or -l logs, ' +
  'Guymager .info files, FTK Imager .txt reports, md5sum/sha1sum/sha256sum/sha512sum files (GNU or --tag style) and openssl dgst output';

/** Text taken from a record, made safe for a one-line message: control characters escaped, length bounded. */
export function plain(text: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A file name or text taken from a record, quoted, safe to put into a one-line message. */
export function show(text: string, max = 120): string {
  return `'${plain(text, max)}'`;
}

/** A list of names for a message: the first ten, then how many more. */
export function showList(names: readonly string[]): string {
  const head = names.slice(0, 10).map((n) => show(n, 80)).join(', ');
  return names.length > 10 ? `${head} and ${names.length - 10} more` : head;
}

/** One record file being read: refusals naming it, and values checked as they are taken from it. */
export class RecordReader {
  constructor(readonly file: string) {}

  fail(message: string, hint = `custos reads ${EXPECT_FORMATS}.`): never {
    throw new CustosError('INVALID_INPUT', `${this.file}: ${message}`, { path: this.file, hint });
  }

  /** A count or byte number from the record, refused when it is beyond what a double holds exactly. */
  int(text: string, where: string): number {
    const v = Number(text);
    if (!Number.isSafeInteger(v)) this.fail(`${where}: ${show(text, 30)} is not a number custos can use (too large)`, 'The record is damaged or was edited.');
    return v;
  }

  /** Adds one digest to a set, checking its length and refusing a second, different value. */
  add(set: HashSet, alg: Algorithm, hex: string, where: string): void {
    const value = hex.toLowerCase();
    const want = ALGORITHM_INFO[alg].bytes * 2;
    if (!/^[0-9a-f]+$/.test(value) || value.length !== want) {
      this.fail(`${where}: ${show(hex, 140)} is not a ${ALGORITHM_INFO[alg].label} digest (${want} hex digits)`, 'The record is damaged or was edited; use the file the tool wrote.');
    }
    const had = set[alg];
    if (had !== undefined && had !== value) {
      this.fail(`${where}: a second ${ALGORITHM_INFO[alg].label} value ${value} differs from ${had}`, 'The record holds two different results; keep only the one for this image.');
    }
    set[alg] = value;
  }
}

/**
 * Turns the bytes of a record into text: UTF-8 (with or without a byte order mark) or UTF-16
 * (as Windows tools write), refusing binary data.
 */
export function decodeRecordText(data: Uint8Array, file: string): string {
  const r: RecordReader = new RecordReader(file);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length === 0) r.fail('is empty, not a hash record');
  let text: string;
  const utf16 = (b: Buffer) => {
    if (b.length % 2 !== 0) r.fail('looks like UTF-16 text but has an odd number of bytes');
    return b.toString('utf16le');
  };
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) text = buf.subarray(3).toString('utf8');
  else if (buf[0] === 0xff && buf[1] === 0xfe) text = utf16(buf.subarray(2));
  else if (buf[0] === 0xfe && buf[1] === 0xff) text = utf16(Buffer.from(buf.subarray(2)).swap16());
  else if (buf.includes(0)) {
    // UTF-16LE without a byte order mark: ASCII text with a zero after every character.
    const probe = buf.subarray(0, Math.min(buf.length, 4096));
    let zerosAtOdd = 0;
    for (let i = 1; i < probe.length; i += 2) if (probe[i] === 0 && probe[i - 1] !== 0) zerosAtOdd++;
    if (zerosAtOdd >= Math.floor(probe.length / 2) * 0.9) text = utf16(buf);
    else r.fail('holds binary data, not a text hash record', `custos reads ${EXPECT_FORMATS}.`);
  } else text = buf.toString('utf8');
  if (text.includes('\u0000')) r.fail('holds binary data, not a text hash record');
  return text;
}

/** Splits text into lines (LF, CRLF or a lone CR, as progress output leaves it), within the bounds. */
export function splitLines(text: string, r: RecordReader): string[] {
  // Counted before splitting, so that a file of line breaks cannot make millions of strings.
  let count = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      if (++count > MAX_EXPECT_LINES) r.fail(`has more than ${MAX_EXPECT_LINES} lines, too many for a hash record`, 'Name the record of this image, not a whole listing.');
    }
  }
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > MAX_EXPECT_LINES) r.fail(`has more than ${MAX_EXPECT_LINES} lines, too many for a hash record`, 'Name the record of this image, not a whole listing.');
  lines.forEach((l, i) => {
    if (l.length > MAX_EXPECT_LINE_LENGTH) r.fail(`line ${i + 1} is longer than ${MAX_EXPECT_LINE_LENGTH} characters`, 'This is not a hash record custos reads, or it is damaged.');
  });
  return lines;
}

/** The last component of a name as another system wrote it (a POSIX path, or a Windows path). */
export function baseOf(name: string): string {
  if (name.includes('/')) return name.slice(name.lastIndexOf('/') + 1);
  if (/^[A-Za-z]:\\|^\\\\/.test(name)) return name.slice(name.lastIndexOf('\\') + 1);
  return name;
}
