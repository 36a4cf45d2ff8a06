/**
 * Sums files: GNU ("HEX  NAME", "HEX *NAME", "\HEX  ESCAPED") as md5sum, sha256sum and friends
 * write them, BSD/--tag ("SHA256 (NAME) = HEX") as cksum writes them, and openssl dgst
 * ("SHA2-256(NAME)= HEX"). The line about the image is picked by path, then by file name.
 */
import { basename, dirname, resolve } from 'node:path';
import type { Algorithm } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import type { ExpectRecord } from './record';
import { baseOf, type RecordReader, show, showList } from './text';

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
function unescapeName(name: string, r: RecordReader, where: string): string {
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

/** The sums line about `target` (or the only one), and the tool that writes lines of its style. */
export function parseSums(lines: string[], r: RecordReader, target?: string): ExpectRecord {
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
function pickSumsEntry(entries: SumsEntry[], r: RecordReader, target?: string): SumsEntry {
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

/** True when the first line that says something is a checksum line of one of the three styles. */
export function isSumsFile(lines: readonly string[]): boolean {
  const first = lines.find((l) => l.trim() !== '');
  return first !== undefined && (GNU_LINE.test(first) || TAG_LINE.test(first) || OPENSSL_LINE.test(first));
}
