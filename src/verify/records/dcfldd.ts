/**
 * dcfldd hash logs (hashlog=, md5log=…, or its stderr): the totals "Total (md5): HEX" and the
 * hash windows "START - END: HEX" (hashwindow=), whose algorithm is told by the digest's length.
 */
import { type Algorithm, ALGORITHM_INFO } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import { ALG_BY_NAME, coveredSize, type ExpectPiece, type ExpectRecord } from './record';
import type { RecordReader } from './text';

const DCFLDD_TOTAL = /^Total \((md5|sha1|sha256|sha384|sha512)\): ([0-9a-fA-F]{1,200})\s*$/;

/** The dcfldd totals, and the hash windows as pieces when they cover the input from byte 0. */
export function parseDcfldd(lines: string[], r: RecordReader): ExpectRecord {
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

/** True when the text holds a dcfldd total ("Total (md5): HEX"). */
export function isDcflddLog(lines: readonly string[]): boolean {
  return lines.some((l) => DCFLDD_TOTAL.test(l));
}
