/**
 * Hash records written by other tools, read so that `custos verify --expect FILE` can check an
 * image against the log made when it was acquired: dc3dd logs, dcfldd hash logs, ewfacquire and
 * ewfverify output, Guymager .info files, FTK Imager .txt reports, md5sum-style sums files and
 * openssl dgst output. The files are attacker-controlled text: sizes, line counts and line
 * lengths are bounded, every value is checked, and every problem is a CustosError naming the file.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CustosError, isCustosError } from '../errors';
import { findSegments } from '../formats/split-naming';
import { readBoundedFile } from '../fsutil';
import { type Algorithm, ALGORITHM_INFO, ALGORITHMS } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import { isAlgorithm, parseAlgorithms } from '../hash/algorithms';

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

export type ExpectFormat = 'dc3dd' | 'dcfldd' | 'ewf' | 'guymager' | 'ftk-imager' | 'sums' | 'openssl';

/** A part of the input with its own hashes (dc3dd ofs= pieces, dcfldd hash windows). */
export interface ExpectPiece {
  name?: string;
  offset?: number;
  length?: number;
  hashes: HashSet;
}

/** What a hash record says, with enough context to explain where the expected values came from. */
export interface ExpectRecord {
  /** The record file. */
  file: string;
  format: ExpectFormat;
  /** The program that wrote it, e.g. "dc3dd", "ewfverify", "sha256sum", "FTK Imager". */
  tool: string;
  version?: string;
  /** The expected values: what the tool computed over the data it read at acquisition. */
  hashes: HashSet;
  /** What the record says the hashes are of: the input file or device, or the name in a sums line. */
  subject?: string;
  /** Image files the record names (dc3dd outputs, Guymager image, FTK Imager segment list). */
  imageFiles: string[];
  /** Bytes covered by the hashes, when the record states it. */
  size?: number;
  pieces: ExpectPiece[];
  /** Things worth telling the user (a failed self-check of the tool, records not used, bad sectors). */
  notes: string[];
}

/** Where expected values came from, for verify to show. */
export interface ExpectSource {
  file: string;
  tool: string;
  version?: string;
  subject?: string;
  size?: number;
  notes: string[];
}

/** Text taken from a record, made safe for a one-line message: control characters escaped, length bounded. */
function plain(text: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A file name or text taken from a record, quoted, safe to put into a one-line message. */
function show(text: string, max = 120): string {
  return `'${plain(text, max)}'`;
}

/** A list of names for a message: the first ten, then how many more. */
function showList(names: readonly string[]): string {
  const head = names.slice(0, 10).map((n) => show(n, 80)).join(', ');
  return names.length > 10 ? `${head} and ${names.length - 10} more` : head;
}

class Reader {
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
  const r: Reader = new Reader(file);
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
function splitLines(text: string, r: Reader): string[] {
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
function baseOf(name: string): string {
  if (name.includes('/')) return name.slice(name.lastIndexOf('/') + 1);
  if (/^[A-Za-z]:\\|^\\\\/.test(name)) return name.slice(name.lastIndexOf('\\') + 1);
  return name;
}

/** Bytes the pieces cover when they run from byte 0 without a hole or an overlap. */
function coveredSize(pieces: readonly ExpectPiece[]): number | undefined {
  let covered = 0;
  for (const p of pieces) {
    if (p.offset !== covered || p.length === undefined) return undefined;
    covered += p.length;
  }
  return covered > 0 ? covered : undefined;
}

const ALG_BY_NAME: Record<string, Algorithm> = { md5: 'md5', sha1: 'sha1', 'sha-1': 'sha1', sha256: 'sha256', 'sha-256': 'sha256', sha512: 'sha512' };

// ---------------------------------------------------------------------------------------------
// dc3dd (log=, hlog=, or stderr): runs from "dc3dd VERSION started at" to "dc3dd completed at".
// ---------------------------------------------------------------------------------------------

interface Dc3ddRun {
  line: number;
  version: string;
  started: string;
  end?: string;
  input?: string;
  outputs: string[];
  hashes: HashSet;
  outputStatus: string[];
  pieces: Map<string, ExpectPiece>;
  copied?: { bytes: number; percent: number };
  sectorSize: number;
  sectorSizeStated: boolean;
  badSectors: number;
}

function parseDc3dd(lines: string[], r: Reader, target?: string): ExpectRecord {
  const runs: Dc3ddRun[] = [];
  let run: Dc3ddRun | undefined;
  let section: 'input' | 'output' | undefined;
  let lastAlg: Algorithm | undefined;
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let m = /^dc3dd (\S+) started at (.+?)\s*$/.exec(line);
    if (m) {
      run = { line: i + 1, version: m[1]!, started: m[2]!, outputs: [], hashes: {}, outputStatus: [], pieces: new Map(), sectorSize: 512, sectorSizeStated: false, badSectors: 0 };
      runs.push(run);
      section = undefined;
      return;
    }
    if (!run) return;
    if ((m = /^dc3dd (completed|aborted|failed) at /.exec(line))) {
      run.end = m[1]!;
      section = undefined;
    } else if ((m = /^sector size: (\d{1,6}) bytes/.exec(line))) {
      run.sectorSize = r.int(m[1]!, where) || 512;
      run.sectorSizeStated = true;
    } else if ((m = /^\s*(\d{1,20}) bytes \(.*\) copied \(\s*(\d{1,3})%\s*\)/.exec(line))) {
      run.copied = { bytes: r.int(m[1]!, where), percent: Number(m[2]) };
    } else if ((m = /^(input|output) results for [a-z ]+ `([^]*)':\s*$/.exec(line))) {
      section = m[1] as 'input' | 'output';
      lastAlg = undefined;
      if (section === 'input') run.input = m[2]!;
      else run.outputs.push(m[2]!);
    } else if ((m = /^\s*(\d{1,20}) bad sectors? replaced by zeros/.exec(line))) {
      run.badSectors += r.int(m[1]!, where);
    } else if (section && (m = /^\s*(?:\[([^\]]{0,40})\]\s+)?([0-9a-fA-F]{1,200}) \((md5|sha1|sha256|sha512)\)\s*$/.exec(line))) {
      const alg = ALG_BY_NAME[m[3]!]!;
      lastAlg = alg;
      if (section === 'input') r.add(run.hashes, alg, m[2]!, where);
      else if (m[1] !== undefined && m[1] !== 'ok') run.outputStatus.push(`${ALGORITHM_INFO[alg].label} [${plain(m[1])}]`);
    } else if (section && lastAlg && (m = /^\s*(?:\[([^\]]{0,40})\]\s+)?([0-9a-fA-F]{1,200}), sectors (\d{1,20}) - (\d{1,20})(?:, `([^]*)')?\s*$/.exec(line))) {
      const key = `${m[3]}-${m[4]}`;
      const first = r.int(m[3]!, where);
      const last = r.int(m[4]!, where);
      if (last < first) r.fail(`${where}: the piece ends (sector ${last}) before it starts (sector ${first})`, 'The log is damaged or was edited.');
      const offset = r.int(String(first * run.sectorSize), where);
      const length = r.int(String((last - first + 1) * run.sectorSize), where);
      const piece = run.pieces.get(key) ?? { offset, length, hashes: {} };
      run.pieces.set(key, piece);
      if (section === 'input') r.add(piece.hashes, lastAlg, m[2]!, where);
      else {
        if (m[5] !== undefined) piece.name = m[5];
        if (m[1] !== undefined && m[1] !== 'ok') run.outputStatus.push(`${ALGORITHM_INFO[lastAlg].label} of ${m[5] === undefined ? key : show(m[5], 60)} [${plain(m[1])}]`);
      }
    }
  });
  const describe = (x: Dc3ddRun) => `run started ${plain(x.started, 60)} (${show(x.input ?? '?', 60)} to ${x.outputs.length ? x.outputs.map((o) => show(o, 60)).join(', ') : 'no output'})`;
  const complete = runs.filter((x) => x.end === 'completed' && Object.keys(x.hashes).length > 0);
  if (complete.length === 0) {
    const partial = runs.find((x) => Object.keys(x.hashes).length > 0);
    if (partial) {
      const read = partial.copied ? ` after ${partial.copied.bytes} bytes (${partial.copied.percent}%)` : '';
      r.fail(`the dc3dd ${describe(partial)} ${partial.end ? `was ${partial.end}` : 'never completed'}${read}: its hashes cover only what was read before it stopped`, 'Use the log of a dc3dd run that ends with "dc3dd completed at".');
    }
    r.fail(`no dc3dd run in it recorded a hash (${runs.length} run(s), none with hash= results)`, 'dc3dd writes hashes only when run with hash=md5, hash=sha256, …; give the hash with --expect ALG=HEX instead.');
  }
  const names = (x: Dc3ddRun) => [...x.outputs, ...[...x.pieces.values()].flatMap((p) => (p.name ? [p.name] : [])), ...(x.input ? [x.input] : [])];
  const chosen = pickOne(complete, names, (x) => x.hashes, describe, r, target, 'dc3dd runs');
  const notes: string[] = [];
  const unused = runs.length - 1;
  if (unused > 0) notes.push(`${unused} other dc3dd run(s) in this log were not used (${runs.filter((x) => x !== chosen).map(describe).slice(0, 5).join('; ')})`);
  if (chosen.outputStatus.length > 0) notes.push(`dc3dd's own check of its output said: ${chosen.outputStatus.slice(0, 10).join(', ')}`);
  if (chosen.badSectors > 0) notes.push(`dc3dd replaced ${chosen.badSectors} bad sector(s) of the input by zeros; the hashes include those zeros`);
  if (chosen.pieces.size > 0 && !chosen.sectorSizeStated) notes.push('this file does not state the sector size; piece offsets assume 512-byte sectors');
  const pieces = [...chosen.pieces.values()].sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
  const size = chosen.copied?.percent === 100 ? chosen.copied.bytes : coveredSize(pieces);
  return {
    file: r.file,
    format: 'dc3dd',
    tool: 'dc3dd',
    version: chosen.version,
    hashes: chosen.hashes,
    ...(chosen.input !== undefined ? { subject: chosen.input } : {}),
    imageFiles: [...new Set(names(chosen).filter((n) => n !== chosen.input))],
    ...(size !== undefined ? { size } : {}),
    pieces,
    notes,
  };
}

/**
 * One record among several (runs appended to one log): the one naming the target, or the only one,
 * or any when they all agree; otherwise a clear refusal listing them.
 */
function pickOne<T>(items: T[], names: (x: T) => string[], hashes: (x: T) => HashSet, describe: (x: T) => string, r: Reader, target: string | undefined, what: string): T {
  if (items.length === 1) return items[0]!;
  if (target !== undefined) {
    const want = basename(target);
    const named = items.filter((x) => names(x).some((n) => baseOf(n) === want));
    if (named.length === 1) return named[0]!;
  }
  const key = (x: T) => JSON.stringify(ALGORITHMS.map((a) => hashes(x)[a] ?? ''));
  if (items.every((x) => key(x) === key(items[0]!))) return items[0]!;
  r.fail(`holds ${items.length} ${what} with different hashes and none is clearly about ${target ? show(basename(target)) : 'this image'}: ${items.slice(0, 5).map(describe).join('; ')}`, 'Give a record of only the run that made this image (or its values with --expect ALG=HEX).');
}

// ---------------------------------------------------------------------------------------------
// dcfldd (hashlog=, md5log=…, or stderr): "Total (md5): HEX", hash windows "START - END: HEX".
// ---------------------------------------------------------------------------------------------

const DCFLDD_TOTAL = /^Total \((md5|sha1|sha256|sha384|sha512)\): ([0-9a-fA-F]{1,200})\s*$/;

function parseDcfldd(lines: string[], r: Reader): ExpectRecord {
  const hashes: HashSet = {};
  const notes: string[] = [];
  const windows = new Map<string, ExpectPiece>();
  const lengths = new Map<number, Algorithm>();
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    const m = DCFLDD_TOTAL.exec(line);
    if (!m) return;
    const alg = ALG_BY_NAME[m[1]!];
    if (!alg) {
      if (!seen.has(m[1]!)) notes.push(`dcfldd's ${m[1]} is not an algorithm custos computes; it is not compared`);
      seen.add(m[1]!);
      return;
    }
    r.add(hashes, alg, m[2]!, `line ${i + 1}`);
    lengths.set(ALGORITHM_INFO[alg].bytes * 2, alg);
  });
  if (Object.keys(hashes).length === 0) r.fail('holds no dcfldd total hash custos can compare (md5, sha1, sha256 or sha512)', 'Give the hash with --expect ALG=HEX instead.');
  lines.forEach((line, i) => {
    const m = /^(\d{1,20}) - (\d{1,20}): ([0-9a-fA-F]{1,200})\s*$/.exec(line);
    if (!m) return;
    const alg = lengths.get(m[3]!.length);
    if (!alg) return;
    const start = r.int(m[1]!, `line ${i + 1}`);
    const end = r.int(m[2]!, `line ${i + 1}`);
    if (end < start) r.fail(`line ${i + 1}: the hash window ends (byte ${end}) before it starts (byte ${start})`, 'The log is damaged or was edited.');
    const key = `${start}-${end}`;
    const piece = windows.get(key) ?? { offset: start, length: end - start, hashes: {} };
    windows.set(key, piece);
    r.add(piece.hashes, alg, m[3]!, `line ${i + 1}`);
  });
  const pieces = [...windows.values()].sort((a, b) => a.offset! - b.offset!);
  const size = coveredSize(pieces);
  return { file: r.file, format: 'dcfldd', tool: 'dcfldd', hashes, imageFiles: [], ...(size !== undefined ? { size } : {}), pieces, notes };
}

// ---------------------------------------------------------------------------------------------
// libewf tools (ewfacquire, ewfverify, ewfexport): printed output or the -l log file.
// ---------------------------------------------------------------------------------------------

const EWF_HASH = /^(MD5|SHA1|SHA256) hash (stored in file|calculated over data):\s*(\S+)\s*$/;

function parseEwf(lines: string[], r: Reader): ExpectRecord {
  const stored: HashSet = {};
  const calculated: HashSet = {};
  const notes: string[] = [];
  let tool: string | undefined;
  let version: string | undefined;
  let size: number | undefined;
  let additional = false;
  let status: string | undefined;
  let sectorErrors = 0;
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let m: RegExpExecArray | null;
    if (!tool && (m = /^(ewf[a-z]+) (\d{8})\s*$/.exec(line))) {
      tool = m[1]!;
      version = m[2]!;
    } else if ((m = EWF_HASH.exec(line))) {
      additional = false;
      const alg = ALG_BY_NAME[m[1]!.toLowerCase()]!;
      if (m[3] === 'N/A') return;
      r.add(m[2] === 'stored in file' ? stored : calculated, alg, m[3]!, where);
    } else if (/^Additional hash values:\s*$/.test(line)) {
      additional = true;
    } else if (additional && (m = /^(MD5|SHA1|SHA256):\s*([0-9a-fA-F]{1,200})\s*$/.exec(line))) {
      r.add(stored, ALG_BY_NAME[m[1]!.toLowerCase()]!, m[2]!, where);
    } else if ((m = /^(?:Media size|Read):.*\((\d{1,20}) bytes\)/.exec(line))) {
      size = r.int(m[1]!, where);
    } else if ((m = /^(ewf[a-z]+): (SUCCESS|FAILURE)\s*$/.exec(line))) {
      status = m[2]!;
    } else if ((m = /^\s*total number: (\d{1,20})\s*$/.exec(line))) {
      sectorErrors += r.int(m[1]!, where);
    } else if (line.trim() === '') additional = false;
  });
  const hashes: HashSet = {};
  for (const alg of ALGORITHMS) {
    const s = stored[alg];
    const c = calculated[alg];
    if (s !== undefined) {
      hashes[alg] = s;
      if (c !== undefined && c !== s) {
        notes.push(`${ALGORITHM_INFO[alg].label}: the data hashed to ${c} when this was written, not to the ${s} stored at acquisition; the stored value is the one expected`);
      }
    } else if (c !== undefined) hashes[alg] = c;
  }
  if (Object.keys(hashes).length === 0) r.fail('holds no hash value of the libewf tools ("MD5 hash calculated over data:" and the like)', 'Give the hash with --expect ALG=HEX instead.');
  const name = tool ?? (Object.keys(stored).length > 0 ? 'ewfverify' : 'ewfacquire');
  if (status === 'FAILURE') notes.push(`${name} reported FAILURE`);
  if (sectorErrors > 0) notes.push(`${name} found ${sectorErrors} range(s) of sectors that failed their checksum`);
  return { file: r.file, format: 'ewf', tool: name, ...(version ? { version } : {}), hashes, imageFiles: [], ...(size !== undefined ? { size } : {}), pieces: [], notes };
}

// ---------------------------------------------------------------------------------------------
// Guymager .info files.
// ---------------------------------------------------------------------------------------------

function parseGuymager(lines: string[], r: Reader): ExpectRecord {
  const acquired: HashSet = {};
  const verifiedSource: HashSet = {};
  const verifiedImage: HashSet = {};
  const notes: string[] = [];
  const imageFiles: string[] = [];
  let version: string | undefined;
  let device: string | undefined;
  let size: number | undefined;
  let state: string | undefined;
  let fileTable = false;
  lines.forEach((raw, i) => {
    const where = `line ${i + 1}`;
    const line = raw.trimEnd();
    let m: RegExpExecArray | null;
    if (!version && (m = /^Version\s*:\s*(\S+)/.exec(line))) version = m[1]!;
    else if ((m = /^(MD5|SHA1|SHA256) hash(?: verified (source|image))?\s*:\s*(\S+)$/.exec(line))) {
      if (m[3] === '--') return;
      const alg = ALG_BY_NAME[m[1]!.toLowerCase()]!;
      r.add(m[2] === 'source' ? verifiedSource : m[2] === 'image' ? verifiedImage : acquired, alg, m[3]!, where);
    } else if ((m = /^Linux device\s*:\s*(.+)$/.exec(line))) device = m[1]!;
    else if ((m = /^Device size\s*:\s*(\d{1,20})\b/.exec(line))) size = r.int(m[1]!, where);
    else if ((m = /^Image path and file name\s*:\s*(.+)$/.exec(line))) imageFiles.push(m[1]!);
    else if ((m = /^State:\s*(.+)$/.exec(line))) state = m[1]!;
    else if ((m = /^During acquisition, (\d{1,20}) bad sectors/.exec(line))) notes.push(`Guymager replaced ${m[1]} bad sector(s) of the source by zeros; the hashes include those zeros`);
    else if (/^Generated image files and their MD5 hashes/.test(line)) fileTable = true;
    else if (fileTable && (m = /^([0-9a-fA-F]{32}|n\/a)\s+(\S.*)$/.exec(line)) && m[2] !== 'Image file') imageFiles.push(m[2]!);
  });
  if (Object.keys(acquired).length === 0) {
    r.fail(`holds no acquisition hash (the "MD5 hash" and "SHA256 hash" rows are empty)${state ? `; Guymager's state: ${show(state, 100)}` : ''}`, 'Guymager writes the hashes only when the acquisition finished with hash calculation on; give the hash with --expect ALG=HEX instead.');
  }
  if (state && !/^Finished/.test(state)) notes.push(`Guymager's state: ${show(state, 100)}`);
  for (const alg of ALGORITHMS) {
    const a = acquired[alg];
    if (a === undefined) continue;
    if (verifiedImage[alg] !== undefined && verifiedImage[alg] !== a) notes.push(`Guymager's own verification read ${verifiedImage[alg]} back from the image, not ${a} (${ALGORITHM_INFO[alg].label})`);
    if (verifiedSource[alg] !== undefined && verifiedSource[alg] !== a) notes.push(`Guymager read ${verifiedSource[alg]} from the source the second time, not ${a} (${ALGORITHM_INFO[alg].label})`);
  }
  return {
    file: r.file,
    format: 'guymager',
    tool: 'Guymager',
    ...(version ? { version } : {}),
    hashes: acquired,
    ...(device ? { subject: device } : {}),
    imageFiles,
    ...(size !== undefined ? { size } : {}),
    pieces: [],
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// FTK Imager .txt reports ("[Computed Hashes]", "Image Verification Results:").
// ---------------------------------------------------------------------------------------------

const FTK_CHECKSUM = /^\s*(MD5|SHA1|SHA-1|SHA256|SHA-256)\s+checksum\s*:\s*([0-9a-fA-F]{1,200})(?:\s*:\s*(.*)|\s*)$/i;

function parseFtk(lines: string[], r: Reader, target?: string): ExpectRecord {
  const blocks: HashSet[] = [];
  const verified: HashSet = {};
  const statuses: string[] = [];
  const notes: string[] = [];
  const imageFiles: string[] = [];
  let version: string | undefined;
  let subject: string | undefined;
  let sectorCount: number | undefined;
  let bytesPerSector: number | undefined;
  let section: 'computed' | 'verify' | 'segments' | undefined;
  const number = (s: string, where: string) => r.int(s.replace(/[\s,.']/g, '') || 'NaN', where);
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let m: RegExpExecArray | null;
    if (/^\s*\[Computed Hashes\]\s*$/i.test(line)) {
      section = 'computed';
      blocks.push({});
      return;
    }
    if (/^\s*Image Verification Results:\s*$/i.test(line)) {
      section = 'verify';
      return;
    }
    if (/^\s*Segment list:\s*$/i.test(line)) {
      section = 'segments';
      return;
    }
    if (section === 'segments' && /^\s{2,}\S/.test(line)) {
      imageFiles.push(line.trim());
      return;
    }
    if ((section === 'computed' || section === 'verify') && (m = FTK_CHECKSUM.exec(line))) {
      const alg = ALG_BY_NAME[m[1]!.toLowerCase()]!;
      if (section === 'computed') r.add(blocks[blocks.length - 1]!, alg, m[2]!, where);
      else {
        r.add(verified, alg, m[2]!, where);
        const status = m[3]?.trim();
        if (status !== undefined && !/^verified$/i.test(status)) statuses.push(`${ALGORITHM_INFO[alg].label}: ${show(status, 60)}`);
      }
      return;
    }
    if (/^\S/.test(line) || /^\s*\[/.test(line)) section = undefined;
    if (!version && line.startsWith('Created By ') && (m = /Imager\s{1,10}(\d{1,6}(?:\.\d{1,6}){1,5})/i.exec(line))) version = m[1]!;
    else if ((m = /^Information for (.+?):\s*$/.exec(line))) subject = m[1]!;
    else if ((m = /^\s*Sector count:\s*([\d\s,.']{1,40})$/i.exec(line))) sectorCount = number(m[1]!, where);
    else if ((m = /^\s*Bytes per Sector:\s*([\d\s,.']{1,20})$/i.exec(line))) bytesPerSector = number(m[1]!, where);
  });
  const distinct = blocks.filter((b) => Object.keys(b).length > 0);
  if (distinct.length === 0) r.fail('holds no "[Computed Hashes]" values', 'FTK Imager writes them when an image is created with hashing on; give the hash with --expect ALG=HEX instead.');
  const hashes = pickOne(distinct, () => [...imageFiles, ...(subject ? [subject] : [])], (b) => b, (b) => JSON.stringify(b), r, target, '"[Computed Hashes]" blocks');
  for (const alg of ALGORITHMS) {
    if (verified[alg] !== undefined && hashes[alg] !== undefined && verified[alg] !== hashes[alg]) {
      notes.push(`FTK Imager's verification read ${verified[alg]} back from the image, not ${hashes[alg]} (${ALGORITHM_INFO[alg].label})`);
    }
  }
  if (statuses.length > 0) notes.push(`FTK Imager's verification results: ${statuses.join(', ')}`);
  if (imageFiles.some((f) => /\.ad1$/i.test(f))) notes.push('an AD1 is a logical image (files, not a disk): its hashes are over its contents, not over a disk image custos can read');
  const size = sectorCount !== undefined && bytesPerSector !== undefined && Number.isSafeInteger(sectorCount * bytesPerSector) ? sectorCount * bytesPerSector : undefined;
  return {
    file: r.file,
    format: 'ftk-imager',
    tool: 'FTK Imager',
    ...(version ? { version } : {}),
    hashes,
    ...(subject ? { subject } : {}),
    imageFiles,
    ...(size !== undefined && size > 0 ? { size } : {}),
    pieces: [],
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Sums files: GNU ("HEX  NAME", "HEX *NAME", "\HEX  ESCAPED"), BSD/--tag ("SHA256 (NAME) = HEX"),
// and openssl dgst ("SHA2-256(NAME)= HEX").
// ---------------------------------------------------------------------------------------------

const GNU_LINE = /^(\\?)([0-9a-fA-F]{8,200}) ([ *])([^]+)$/;
const TAG_LINE = /^(\\?)([A-Za-z0-9-]{2,20}) \(([^]+)\) = ([0-9a-fA-F]{8,200})$/;
const OPENSSL_LINE = /^([A-Za-z0-9-]{2,20})\(([^]+)\)= ([0-9a-fA-F]{8,200})$/;

const ALG_BY_TAG: Record<string, Algorithm> = {
  MD5: 'md5',
  SHA1: 'sha1',
  SHA256: 'sha256',
  'SHA2-256': 'sha256',
  SHA512: 'sha512',
  'SHA2-512': 'sha512',
  'SHA3-256': 'sha3-256',
  BLAKE3: 'blake3',
};

/** Undoes the escaping of md5sum and friends (a leading backslash; \\ \n \r in the name). */
function unescapeName(name: string, r: Reader, where: string): string {
  return name.replace(/\\(.?)/gs, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    return r.fail(`${where}: the escaped name has an unknown escape \\${show(c, 4)}`, 'The sums file is damaged or was edited.');
  });
}

interface SumsEntry {
  name: string;
  hashes: HashSet;
}

function parseSums(lines: string[], r: Reader, target?: string): ExpectRecord {
  const entries = new Map<string, SumsEntry>();
  const notes: string[] = [];
  const styles = new Set<string>();
  const algs = new Set<Algorithm>();
  const skipped = new Set<string>();
  // A 64-digit GNU line is SHA-256 unless the file's own name says SHA3-256 or BLAKE3.
  const fileName = basename(r.file).toLowerCase();
  const by64: Algorithm = /sha3/.test(fileName) ? 'sha3-256' : /b3|blake3/.test(fileName) ? 'blake3' : 'sha256';
  const byLength: Record<number, Algorithm> = { 32: 'md5', 40: 'sha1', 64: by64, 128: 'sha512' };
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line.trim() === '') return;
    let alg: Algorithm | undefined;
    let name: string;
    let hex: string;
    let m: RegExpExecArray | null;
    if ((m = TAG_LINE.exec(line))) {
      styles.add('tag');
      name = m[1] ? unescapeName(m[3]!, r, where) : m[3]!;
      hex = m[4]!;
      alg = ALG_BY_TAG[m[2]!.toUpperCase()];
      if (!alg) skipped.add(m[2]!);
    } else if ((m = OPENSSL_LINE.exec(line))) {
      styles.add('openssl');
      name = m[2]!;
      hex = m[3]!;
      alg = ALG_BY_TAG[m[1]!.toUpperCase()];
      if (!alg) skipped.add(m[1]!);
    } else if ((m = GNU_LINE.exec(line))) {
      styles.add('gnu');
      hex = m[2]!;
      name = m[1] ? unescapeName(m[4]!, r, where) : m[4]!;
      alg = byLength[hex.length];
      if (!alg) {
        if (hex.length === 56 || hex.length === 96) skipped.add(hex.length === 56 ? 'SHA224' : 'SHA384');
        else r.fail(`${where}: a digest of ${hex.length} hex digits is not MD5, SHA-1, SHA-256 or SHA-512`, 'The sums file is damaged or was edited.');
      }
    } else {
      return r.fail(`${where} is not a checksum line: ${show(line, 80)}`, 'A sums file has one "HEX  NAME" or "ALG (NAME) = HEX" line per file, as md5sum, sha256sum and cksum write them.');
    }
    if (!alg) return;
    algs.add(alg);
    const entry = entries.get(name) ?? { name, hashes: {} };
    entries.set(name, entry);
    r.add(entry.hashes, alg, hex, `${where} (${show(name, 80)})`);
  });
  if (skipped.size > 0) notes.push(`${[...skipped].slice(0, 5).join(', ')} digests are not algorithms custos computes; they are not compared`);
  if (entries.size === 0) r.fail('holds no digest custos can compare (MD5, SHA-1, SHA-256, SHA-512, SHA3-256 or BLAKE3)', 'Give the hash with --expect ALG=HEX instead.');
  const chosen = pickSumsEntry([...entries.values()], r, target);
  const only = algs.size === 1 ? [...algs][0]! : undefined;
  const sumTool = (a: Algorithm) => (a === 'blake3' ? 'b3sum' : `${a}sum`);
  const tool = styles.size === 1 && styles.has('openssl') ? 'openssl dgst' : only && styles.size === 1 ? (styles.has('gnu') ? sumTool(only) : `${sumTool(only)} --tag`) : 'cksum';
  if (entries.size > 1) notes.push(`picked the line for ${show(chosen.name, 80)} among ${entries.size} files`);
  return { file: r.file, format: styles.size === 1 && styles.has('openssl') ? 'openssl' : 'sums', tool, hashes: chosen.hashes, subject: chosen.name, imageFiles: [chosen.name], pieces: [], notes };
}

/** The line of a sums file about the target: its only line, or the one naming the target (by path, then by file name). */
function pickSumsEntry(entries: SumsEntry[], r: Reader, target?: string): SumsEntry {
  if (entries.length === 1) return entries[0]!;
  const names = entries.map((e) => e.name);
  if (target === undefined) r.fail(`lists ${entries.length} files (${showList(names)}) and no image was named to pick one`, 'Name the image to verify, or give a sums file with one line.');
  const wanted = resolve(target);
  const byPath = entries.filter((e) => !e.name.includes('\\') && resolve(dirname(r.file), e.name) === wanted);
  if (byPath.length === 1) return byPath[0]!;
  const byName = entries.filter((e) => baseOf(e.name) === basename(target));
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) {
    r.fail(`lists ${byName.length} files named ${show(basename(target))} (${showList(byName.map((e) => e.name))}) and cannot tell which is ${show(target)}`, 'Give a sums file with only the line of this image, or its value with --expect ALG=HEX.');
  }
  return r.fail(`has no line for ${show(basename(target))}; it lists ${showList(names)}`, 'Check that this sums file belongs to this image; give the value with --expect ALG=HEX if the image was renamed.');
}

// ---------------------------------------------------------------------------------------------

/**
 * Parses the text of a hash record written by another tool (the format is recognised from the
 * content, not the file name). `target` is the image being verified: it picks the right line or
 * run when a record holds several.
 */
export function parseExpectText(text: string, o: { file: string; target?: string }): ExpectRecord {
  const r: Reader = new Reader(o.file);
  const lines = splitLines(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, r);
  const head = lines.slice(0, 5);
  if (head.some((l) => l.trim() === 'GUYMAGER ACQUISITION INFO FILE')) return parseGuymager(lines, r);
  if (lines.some((l) => /^\s*\[Computed Hashes\]\s*$/i.test(l)) || head.some((l) => l.startsWith('Created By ') && l.includes('FTK') && /imager/i.test(l))) return parseFtk(lines, r, o.target);
  if (lines.some((l) => /^dc3dd \S+ started at /.test(l))) return parseDc3dd(lines, r, o.target);
  if (lines.some((l) => EWF_HASH.test(l))) return parseEwf(lines, r);
  if (lines.some((l) => DCFLDD_TOTAL.test(l))) return parseDcfldd(lines, r);
  const first = lines.find((l) => l.trim() !== '');
  if (first !== undefined && (GNU_LINE.test(first) || TAG_LINE.test(first) || OPENSSL_LINE.test(first))) return parseSums(lines, r, o.target);
  return r.fail('is not a hash record custos understands');
}

/**
 * Reads a hash record (at most 16 MiB, a regular file) and parses it for `target`. A sums line about
 * the target's own E01 file, or about one segment of a split target, is refused: those are hashes
 * of a container or a part, not of the image that verify re-hashes.
 */
export function readExpectFile(path: string, target?: string): ExpectRecord {
  const data = readBoundedFile(path, 'hash record', MAX_EXPECT_FILE_BYTES);
  const record = parseExpectText(decodeRecordText(data, path), { file: path, target });
  if ((record.format === 'sums' || record.format === 'openssl') && target !== undefined && record.subject !== undefined && baseOf(record.subject) === basename(target)) {
    const r: Reader = new Reader(path);
    const container = /\.(e01|ex01|s01|l01|lx01|aff4?|ad1)$/i.exec(target);
    if (container) {
      r.fail(`the line for ${show(record.subject, 80)} is the hash of the .${container[1]} file itself, not of the disk image inside it`, 'Give the hash the acquisition tool recorded for the media (its log), or check the file itself with sha256sum -c.');
    }
    let segments = 1;
    try {
      segments = findSegments(target).length;
    } catch (err) {
      if (!isCustosError(err)) throw err;
    }
    if (segments > 1) {
      r.fail(`the line for ${show(record.subject, 80)} is the hash of that one segment, not of the whole split image (${segments} segments)`, 'Check each segment with sha256sum -c, or give the hash of the whole image (the acquisition log has it).');
    }
  }
  return record;
}

/** True when an --expect value is written as ALG=HEX (or ALG:HEX) rather than naming a file. */
function isAlgHex(value: string): boolean {
  return /^[A-Za-z0-9_-]+[=:][0-9a-fA-F]*$/.test(value.trim());
}

/**
 * Resolves `--expect` values for verifying `target`: each is either ALG=HEX or a hash record file
 * of another tool (see {@link readExpectFile}). Values for the same algorithm must agree.
 */
export function resolveExpected(values: readonly string[], target: string): { expected: HashSet; sources: ExpectSource[] } {
  const expected: HashSet = {};
  const origin: Partial<Record<Algorithm, string>> = {};
  const sources: ExpectSource[] = [];
  for (const value of values) {
    let set: HashSet;
    let from: string;
    if (isAlgHex(value)) {
      set = parseExpected([value]);
      from = `--expect ${value.trim()}`;
    } else {
      // "md5=xyz" was meant as a value, not as a file name: say what is wrong with the value.
      if (/^[A-Za-z0-9_-]+[=:]/.test(value) && !existsSync(value)) parseExpected([value]);
      const record = readExpectFile(value, target);
      set = record.hashes;
      from = `${record.tool} record ${value}`;
      sources.push({
        file: value,
        tool: record.tool,
        ...(record.version ? { version: record.version } : {}),
        ...(record.subject !== undefined ? { subject: record.subject } : {}),
        ...(record.size !== undefined ? { size: record.size } : {}),
        notes: record.notes,
      });
    }
    for (const alg of ALGORITHMS) {
      const v = set[alg];
      if (v === undefined) continue;
      const had = expected[alg];
      if (had !== undefined && had !== v) {
        throw new CustosError('INVALID_INPUT', `--expect: ${ALGORITHM_INFO[alg].label} ${had} (from ${origin[alg]}) differs from ${v} (from ${from})`, {
          hint: 'The expected values disagree: keep only the record that belongs to this image.',
        });
      }
      expected[alg] = v;
      origin[alg] ??= from;
    }
  }
  return { expected, sources };
}

/** "md5=HEX" pairs (as given to --expect) into a hash set; anything malformed is a usage error. */
export function parseExpected(values: string[]): HashSet {
  const out: HashSet = {};
  for (const v of values) {
    const m = /^([^=:]+)[=:]([0-9a-fA-F]+)$/.exec(v.trim());
    const alg = m ? parseAlgorithms(m[1]!)[0] : undefined;
    if (!m || !alg || !isAlgorithm(alg) || m[2]!.length !== ALGORITHM_INFO[alg].bytes * 2) {
      throw new CustosError('USAGE', `--expect '${v}' is not ALG=HEX with a full-length digest`, {
        hint: 'Write it like --expect md5=e59bf7cee4c9e04c2b81e8580a848d74.',
      });
    }
    out[alg] = m[2]!.toLowerCase();
  }
  return out;
}
