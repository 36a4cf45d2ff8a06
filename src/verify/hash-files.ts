import { statSync } from 'node:fs';
import { openImage } from '../formats/registry';
import { type Algorithm, ALGORITHM_INFO } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import { checkReadable, type SourceKind } from '../source/file';
import { describeSource } from '../source/info';
import { SourceReader } from '../source/reader';
import { digest } from '../stream/digest';

/** The hashes of one file, as `custos hash --json` reports them. */
export interface FileHashes {
  path: string;
  /** What was hashed: a file's or device's bytes, or the media inside an image (e01-media, split-media). */
  kind: SourceKind | `${string}-media`;
  /** Bytes hashed, which for a block device is its full size. */
  size: number;
  hashes: HashSet;
}

export interface HashFilesOptions {
  chunkSize?: number;
  /** Hash the media inside images (E01, split sets) rather than the files themselves. */
  media?: boolean;
  /** Called after each chunk with the bytes done for the current file and its total. */
  onProgress?: (path: string, bytesDone: number, total: number) => void;
}

/** How many bytes hashFile will read for `path`: a device's or file's size, or an image's media size with `media`. */
export function hashedSize(path: string, media = false): number {
  if (media && statSync(path).isFile()) {
    const image = openImage(path);
    try {
      return image.format === 'raw' ? describeSource(path).sizeBytes : image.size;
    } finally {
      image.close();
    }
  }
  return describeSource(path).sizeBytes;
}

/**
 * Hashes one file or block device with every algorithm in a single streaming pass. With `media`,
 * an image file (detected by content: E01, a split set from any segment) is hashed as the media it
 * holds, as ewfverify hashes an E01: what the evidence was, not its container.
 */
export async function hashFile(path: string, algorithms: readonly Algorithm[], options: HashFilesOptions = {}): Promise<FileHashes> {
  if (options.media && statSync(path).isFile()) {
    const image = openImage(path);
    if (image.format !== 'raw') {
      const size = image.size;
      const r = await digest(image, size, algorithms, { chunkSize: options.chunkSize, onProgress: (p) => options.onProgress?.(path, p.bytesDone, size) });
      return { path, kind: `${image.format}-media`, size: r.bytes, hashes: r.hashes };
    }
    image.close();
  }
  const info = describeSource(path);
  const source = SourceReader.open(path, { retries: 0, sectorSize: info.logicalSectorSize, recover: false });
  const r = await digest(source, info.sizeBytes, algorithms, { chunkSize: options.chunkSize, onProgress: (p) => options.onProgress?.(path, p.bytesDone, info.sizeBytes) });
  return { path, kind: info.kind, size: r.bytes, hashes: r.hashes };
}

/**
 * Hashes several files in turn. Every path is checked before the first byte is read, so a typo
 * in the last argument fails at once rather than after hours of hashing the first.
 */
export async function hashFiles(
  paths: readonly string[],
  algorithms: readonly Algorithm[],
  options: HashFilesOptions = {},
): Promise<FileHashes[]> {
  for (const p of paths) await checkReadable(p);
  const results: FileHashes[] = [];
  for (const p of paths) results.push(await hashFile(p, algorithms, options));
  return results;
}

/** How `custos hash` prints results for people. */
export type HashLineStyle = 'gnu' | 'bsd';

/**
 * Formats results as text lines. `gnu`: with one algorithm exactly `sha256sum`'s "HEX  PATH",
 * with several a label column first ("SHA-256  HEX  PATH"). `bsd`: coreutils' `--tag` lines
 * "SHA256 (PATH) = HEX", which `cksum -c` checks for md5, sha1, sha256 and sha512.
 */
export function formatHashLines(results: readonly FileHashes[], algorithms: readonly Algorithm[], style: HashLineStyle): string[] {
  const width = Math.max(...algorithms.map((a) => ALGORITHM_INFO[a].label.length));
  const lines: string[] = [];
  for (const r of results) {
    const { escaped, name } = escapeName(r.path);
    const lead = escaped ? '\\' : '';
    for (const alg of algorithms) {
      const hex = r.hashes[alg]!;
      if (style === 'bsd') lines.push(`${lead}${ALGORITHM_INFO[alg].tag} (${name}) = ${hex}`);
      else if (algorithms.length === 1) lines.push(`${lead}${hex}  ${name}`);
      else lines.push(`${lead}${ALGORITHM_INFO[alg].label.padEnd(width)}  ${hex}  ${name}`);
    }
  }
  return lines;
}

/** coreutils' rule: a name with a backslash, newline or carriage return is escaped and the line starts with "\". */
function escapeName(path: string): { escaped: boolean; name: string } {
  if (!/[\\\n\r]/.test(path)) return { escaped: false, name: path };
  return { escaped: true, name: path.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r') };
}
