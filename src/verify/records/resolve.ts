/**
 * The values of `custos verify --expect`: each is ALG=HEX or a hash record file of another tool,
 * merged into one set of expected hashes (values for one algorithm must agree), with where each
 * came from for verify to show.
 */
import { existsSync } from 'node:fs';
import { CustosError } from '../../errors';
import { type Algorithm, ALGORITHM_INFO, ALGORITHMS, isAlgorithm, parseAlgorithms } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import { readExpectFile } from './read';

/** Where expected values came from, for verify to show. */
export interface ExpectSource {
  file: string;
  tool: string;
  version?: string;
  subject?: string;
  size?: number;
  notes: string[];
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
