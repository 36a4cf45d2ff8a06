import { type Algorithm, ALGORITHM_INFO } from '../hash/algorithms';
import { hashStream } from '../stream/pipeline';
import type { HashSet } from '../hash/hashset';
import { checkReadable, DEFAULT_CHUNK_SIZE, type SourceKind } from '../source/file';
import { describeSource } from '../source/info';
import { SourceReader } from '../source/reader';
import { openImage } from '../source/image';

/** The hashes of one file, as `custos hash --json` reports them. */
export interface FileHashes {
  path: string;
  /** What was hashed: a file's or device's bytes, or the media inside an E01. */
  kind: SourceKind | 'e01-media';
  /** Bytes hashed, which for a block device is its full size. */
  size: number;
  hashes: HashSet;
}

export interface HashFilesOptions {
  chunkSize?: number;
  /** Hash the media inside E01 files rather than the files themselves. */
  media?: boolean;
  /** Called after each chunk with the bytes done for the current file. */
  onProgress?: (path: string, bytesDone: number) => void;
}

/** Hashes one file or block device with every algorithm in a single streaming pass. */
export async function hashFile(
  path: string,
  algorithms: readonly Algorithm[],
  options: HashFilesOptions = {},
): Promise<FileHashes> {
  if (options.media && /\.e01$/i.test(path)) {
    // The media inside an E01, as ewfverify hashes it: what the evidence was, not its container.
    const image = openImage(path);
    try {
      const r = await hashStream(image, algorithms, { end: image.size, chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE, onProgress: (p) => options.onProgress?.(path, p.bytesDone) });
      return { path, kind: 'e01-media', size: r.bytesDone, hashes: r.hashes };
    } finally {
      image.close();
    }
  }
  const info = describeSource(path);
  const source = SourceReader.open(path, { retries: 0, sectorSize: info.logicalSectorSize, recover: false });
  try {
    const r = await hashStream(source, algorithms, {
      end: info.sizeBytes,
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      onProgress: (p) => options.onProgress?.(path, p.bytesDone),
    });
    return { path, kind: info.kind, size: r.bytesDone, hashes: r.hashes };
  } finally {
    source.close();
  }
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
