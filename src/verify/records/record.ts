/**
 * What a hash record says, whatever tool wrote it, and the decisions every record kind shares:
 * algorithm names as the tools print them, the bytes a run of pieces covers, and choosing the one
 * run or block about the image when a record holds several.
 */
import { basename } from 'node:path';
import { type Algorithm, ALGORITHMS } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import { baseOf, type RecordReader, show } from './text';

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

/** Algorithm names as dc3dd, dcfldd, libewf, Guymager and FTK Imager print them (lower-cased). */
export const ALG_BY_NAME: Record<string, Algorithm> = { md5: 'md5', sha1: 'sha1', 'sha-1': 'sha1', sha256: 'sha256', 'sha-256': 'sha256', sha512: 'sha512' };

/** Bytes the pieces cover when they run from byte 0 without a hole or an overlap. */
export function coveredSize(pieces: readonly ExpectPiece[]): number | undefined {
  let covered = 0;
  for (const p of pieces) {
    if (p.offset !== covered || p.length === undefined) return undefined;
    covered += p.length;
  }
  return covered > 0 ? covered : undefined;
}

/**
 * One record among several (runs appended to one log): the one naming the target, or the only one,
 * or any when they all agree; otherwise a clear refusal listing them.
 */
export function pickOne<T>(items: T[], names: (x: T) => string[], hashes: (x: T) => HashSet, describe: (x: T) => string, r: RecordReader, target: string | undefined, what: string): T {
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
