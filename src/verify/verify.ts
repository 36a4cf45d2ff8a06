/**
 * Verification: an image (from its manifest, a bare image of any registered format, or against
 * given or recorded hashes) re-hashed through the stream engine, every segment and hash window
 * compared, damage listed, and optionally the source re-read.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sha256Hex } from '../custody/canonical';
import { CustosError, printable } from '../errors';
import { FORMATS, formatByName, openImage } from '../formats/registry';
import { type ByteRange, type DamagedRange } from '../formats/types';
import { readBoundedFile } from '../fsutil';
import { type Algorithm, ALGORITHM_INFO, ALGORITHMS } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import { type AcquisitionManifest, readManifest } from '../manifest/manifest';
import { describeSource } from '../source/info';
import { SourceReader } from '../source/reader';
import { digest } from '../stream/digest';
import type { PipelineProgress } from '../stream/pipeline';
import { allMatch, compareHashes, type HashComparison } from './compare';
import { type ExpectSource, resolveExpected } from './records';
import { hashFile } from './hash-files';

export { allMatch, compareHashes, type HashComparison } from './compare';
export { parseExpected } from './records';

export interface ImageHashResult {
  files: { path: string; size: number }[];
  size: number;
  hashes: HashSet;
  segments: HashSet[];
  /** Digests of each window, when a window size was asked for. */
  windows: HashSet[];
  /** Damage found in an image read with tolerateDamage. */
  damage?: { count: number; ranges: DamagedRange[] };
  durationSeconds: number;
}

export interface ProgressHooks {
  onProgress?: (phase: string, total: number, p: PipelineProgress) => void;
  now?: () => number;
}

/**
 * Re-hashes an image of any registered format from its files: per-segment digests for split
 * images, per-window digests with `windowSize`, and with `tolerateDamage` damaged parts listed
 * instead of stopping at the first (their hashes cover what could be read, as ewfverify's do).
 */
export async function hashImage(
  path: string,
  algorithms: readonly Algorithm[],
  o: ProgressHooks & { segmentSize?: number; windowSize?: number; tolerateDamage?: boolean } = {},
): Promise<ImageHashResult> {
  const image = openImage(path, { tolerateDamage: o.tolerateDamage });
  const { parts, size } = image;
  const r = await digest(image, size, algorithms, {
    segmentSize: o.segmentSize,
    windowSize: o.windowSize,
    now: o.now,
    onProgress: (p) => o.onProgress?.('verify image', size, p),
  });
  const damage = image.damage;
  return {
    files: [...parts],
    size,
    hashes: r.hashes,
    segments: r.segments,
    windows: r.windows,
    ...(damage && damage.count > 0 ? { damage: { count: damage.count, ranges: [...damage.ranges] } } : {}),
    durationSeconds: r.durationSeconds,
  };
}

export interface SourceHashResult {
  hashes: HashSet;
  readErrors: ByteRange[];
  size: number;
  durationSeconds: number;
}

/** Re-reads a source with the same bad-sector handling as acquisition and hashes what it reads. */
export async function hashSourceAgain(
  path: string,
  algorithms: readonly Algorithm[],
  o: ProgressHooks & { retries: number; maxRate?: number } = { retries: 2 },
): Promise<SourceHashResult> {
  const info = describeSource(path);
  const reader = SourceReader.open(path, { retries: o.retries, sectorSize: info.logicalSectorSize, resumable: false });
  const r = await digest(reader, info.sizeBytes, algorithms, { maxRate: o.maxRate, now: o.now, onProgress: (p) => o.onProgress?.('verify source', info.sizeBytes, p) });
  return { hashes: r.hashes, readErrors: r.readErrors, size: info.sizeBytes, durationSeconds: r.durationSeconds };
}

/** What `custos verify` found. */
export interface VerifyResult {
  target: string;
  manifest?: string;
  image: {
    files: { path: string; size: number; expectedSize?: number }[];
    size: number;
    comparisons: HashComparison[];
    /** For each output file of the manifest, its own comparison. */
    segments?: { name: string; comparisons: HashComparison[] }[];
    /** Parts of the image that could not be read as recorded (E01 chunks that fail their checksum); any makes the verdict MISMATCH. */
    damaged?: { count: number; ranges: DamagedRange[] };
    /** With a hash-windows file: the windows whose hashes differ now (byte ranges; the first MAX_LISTED_WINDOWS, differingCount counts all). */
    windows?: { windowSize: number; checked: number; differing: { index: number; offset: number; length: number }[]; differingCount: number; recordIntact: boolean };
  };
  source?: { path: string; comparisons: HashComparison[]; readErrors: ByteRange[]; expectedReadErrors?: ByteRange[] };
  /** Hash records of other tools that the expected values came from (--expect FILE). */
  expectSources?: ExpectSource[];
  verdict: 'match' | 'mismatch';
}

export interface VerifyOptions extends ProgressHooks {
  /** Re-read this source too (a device or file) and compare it with the same hashes. */
  source?: string;
  /** Algorithms to compute; default: those the manifest or the --expect values name. */
  algorithms?: Algorithm[];
  /** Expected values when there is no manifest. */
  expected?: HashSet;
  /** --expect values: ALG=HEX, or files holding another tool's hash record (src/verify/records/). */
  expectValues?: string[];
  retries?: number;
}

/** The hashes an image records about its own media (E01: MD5 and SHA-1), read without hashing. */
function storedHashes(path: string): HashSet {
  const image = openImage(path);
  try {
    return image.storedHashes;
  } finally {
    image.close();
  }
}

/** The manifest beside an image file: BASE.manifest.json for BASE.raw, BASE.001, BASE.E01… (each format's extensions). */
export function manifestBeside(imagePath: string): string | undefined {
  const name = basename(imagePath);
  const ext = FORMATS.flatMap((f) => f.extensions).find((e) => e.test(name));
  const base = ext ? name.replace(ext, '') : name;
  const candidate = join(dirname(imagePath), `${base}.manifest.json`);
  return existsSync(candidate) ? candidate : undefined;
}

/**
 * Verifies a manifest's image (or a raw/split image against given hashes): every file present
 * with its recorded size, every hash recomputed and compared, optionally the source re-read.
 */
export async function verifyTarget(target: string, o: VerifyOptions = {}): Promise<VerifyResult> {
  const manifestPath = target.endsWith('.json') ? target : manifestBeside(target);
  const manifest: AcquisitionManifest | undefined = manifestPath ? readManifest(manifestPath) : undefined;
  // A container that records its own hashes (E01: MD5, SHA-1) is checked against what it claims.
  const stored: HashSet = manifest ? {} : storedHashes(target);
  const given = o.expectValues && o.expectValues.length > 0 ? resolveExpected(o.expectValues, target) : undefined;
  const expected: HashSet = { ...stored, ...(manifest?.hashes ?? {}), ...(o.expected ?? {}), ...(given?.expected ?? {}) };
  if (Object.keys(expected).length === 0) {
    throw new CustosError('INVALID_INPUT', `${target}: nothing to compare with: no manifest beside it and no expected hashes given`, {
      path: target,
      hint: 'Verify the BASE.manifest.json written by custos acquire, or give the expected values with --expect md5=HEX.',
    });
  }
  const algorithms = o.algorithms ?? ALGORITHMS.filter((a) => expected[a] !== undefined);
  const missing = ALGORITHMS.filter((a) => expected[a] !== undefined && !algorithms.includes(a));
  const compute = [...algorithms, ...missing];

  let first = target;
  let expectedSizes: Map<string, number> | undefined;
  if (manifest && manifestPath) {
    const dir = dirname(manifestPath);
    for (const f of manifest.outputs) plainName(f.name, manifestPath);
    expectedSizes = new Map(manifest.outputs.map((f) => [join(dir, f.name), f.size]));
    for (const [path, size] of expectedSizes) {
      if (!existsSync(path)) {
        throw new CustosError('FILE_NOT_FOUND', `${path}: image file listed in ${manifestPath} is missing`, {
          path,
          hint: 'Put every file of the image back beside the manifest.',
        });
      }
      const actual = statSync(path).size;
      if (actual !== size) {
        throw new CustosError('INVALID_INPUT', `${path}: ${actual} bytes, but the manifest records ${size}`, {
          path,
          hint: 'The file was truncated or replaced; restore it from another copy.',
        });
      }
    }
    first = join(dir, manifest.outputs[0]!.name);
  }
  const format = manifest ? formatByName(manifest.acquisition.format) : undefined;
  const segmentSize = manifest?.acquisition.splitSize;
  const recordedWindows = manifest && manifestPath ? readWindows(manifest, manifestPath) : undefined;
  const image = await hashImage(first, compute, { ...o, segmentSize, windowSize: recordedWindows?.windowSize, tolerateDamage: true });
  if (manifest && image.files.length !== manifest.outputs.length) {
    throw new CustosError('INVALID_INPUT', `${first}: found ${image.files.length} image file(s) but the manifest lists ${manifest.outputs.length}`, {
      path: first,
      hint: 'Extra numbered files beside the image do not belong to it; move them away.',
    });
  }
  const comparisons = compareHashes(expected, image.hashes);
  let segments: { name: string; comparisons: HashComparison[] }[] | undefined;
  if (manifest && format && !format.filesHoldMedia) {
    // A container's files carry their own hashes in the manifest (an E01 segment is not media).
    segments = [];
    for (const f of manifest.outputs) {
      const algs = ALGORITHMS.filter((a) => f.hashes[a] !== undefined);
      segments.push({ name: f.name, comparisons: compareHashes(f.hashes, (await hashFile(join(dirname(manifestPath!), f.name), algs)).hashes) });
    }
  } else if (manifest && manifest.outputs.length > 1) {
    segments = manifest.outputs.map((f, i) => ({ name: f.name, comparisons: compareHashes(f.hashes, image.segments[i] ?? {}) }));
  }
  let source: VerifyResult['source'];
  if (o.source) {
    const again = await hashSourceAgain(o.source, compute, { ...o, retries: o.retries ?? manifest?.acquisition.retries ?? 2 });
    source = {
      path: o.source,
      comparisons: compareHashes(expected, again.hashes),
      readErrors: again.readErrors,
      ...(manifest ? { expectedReadErrors: manifest.readErrors.map((r) => ({ offset: r.offset, length: r.length })) } : {}),
    };
  }
  const windows = recordedWindows ? compareWindows(recordedWindows, image.windows, image.size) : undefined;
  const ok =
    allMatch(comparisons) &&
    (!segments || segments.every((s) => allMatch(s.comparisons))) &&
    (!source || allMatch(source.comparisons)) &&
    !image.damage &&
    (!windows || (windows.differingCount === 0 && windows.recordIntact));
  return {
    target,
    ...(manifestPath ? { manifest: manifestPath } : {}),
    image: {
      files: image.files.map((f) => ({ ...f, ...(expectedSizes?.has(f.path) ? { expectedSize: expectedSizes.get(f.path)! } : {}) })),
      size: image.size,
      comparisons,
      ...(segments ? { segments } : {}),
      ...(image.damage ? { damaged: image.damage } : {}),
      ...(windows ? { windows } : {}),
    },
    ...(source ? { source } : {}),
    ...(given && given.sources.length > 0 ? { expectSources: given.sources } : {}),
    verdict: ok ? 'match' : 'mismatch',
  };
}


/** A file name from a manifest must name a file beside it, never a path elsewhere. */
function plainName(name: string, manifestPath: string): string {
  if (name.length === 0 || name.length > 255 || basename(name) !== name || name === '.' || name === '..') {
    throw new CustosError('INVALID_INPUT', `${manifestPath}: '${name.slice(0, 80)}' is not a plain file name beside the manifest`, {
      path: manifestPath,
      hint: 'A manifest names its files by their names in its own folder; restore it from a copy.',
    });
  }
  return name;
}

/** Differing windows listed in a result; the rest are counted. */
export const MAX_LISTED_WINDOWS = 1000;
/** The hash-windows file may be this large (MAX_HASH_WINDOWS windows with every algorithm). */
const MAX_WINDOWS_FILE = 256 * 1024 * 1024;

interface RecordedWindows {
  windowSize: number;
  hashes: HashSet[];
  recordIntact: boolean;
}

/** Reads BASE.windows.json as the manifest names it, checking its SHA-256 and its shape (it is outside data). */
function readWindows(m: AcquisitionManifest, manifestPath: string): RecordedWindows | undefined {
  if (!m.hashWindows) return undefined;
  const path = join(dirname(manifestPath), plainName(m.hashWindows.file, manifestPath));
  const bytes = readBoundedFile(path, 'hash-windows file', MAX_WINDOWS_FILE);
  const bad = (why: string) => new CustosError('INVALID_INPUT', `${path}: ${why}`, { path, hint: 'Restore the hash-windows file from your evidence copy.' });
  let data: { windowSize?: unknown; windows?: unknown };
  try {
    data = JSON.parse(bytes.toString('utf8')) as typeof data;
  } catch (err) {
    throw bad(`not valid JSON (${printable((err as Error).message)})`);
  }
  const size = m.hashWindows.windowSize;
  if (data?.windowSize !== size || !Array.isArray(data.windows)) throw bad(`not the hash windows of ${size} bytes that the manifest records`);
  const expectedCount = Math.ceil(m.source.sizeBytes / size);
  if (data.windows.length !== expectedCount) throw bad(`${data.windows.length} windows where the manifest's ${m.source.sizeBytes} bytes make ${expectedCount}`);
  const hashes = data.windows.map((w: unknown, i: number) => {
    const h = (w as { index?: unknown; hashes?: unknown })?.hashes as Record<string, unknown> | undefined;
    if ((w as { index?: unknown })?.index !== i || typeof h !== 'object' || h === null) throw bad(`window ${i} is malformed`);
    const out: HashSet = {};
    for (const a of ALGORITHMS) {
      const v = h[a];
      if (v === undefined) continue;
      if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${ALGORITHM_INFO[a].bytes * 2}}$`).test(v)) throw bad(`window ${i} has a malformed ${a} value`);
      out[a] = v;
    }
    return out;
  });
  return { windowSize: size, hashes, recordIntact: sha256Hex(bytes) === m.hashWindows.sha256 };
}

/** The windows whose recorded and recomputed hashes differ (every algorithm present in both), as byte ranges of the media. */
function compareWindows(r: RecordedWindows, computed: HashSet[], mediaSize: number): NonNullable<VerifyResult['image']['windows']> {
  const differing: { index: number; offset: number; length: number }[] = [];
  let count = 0;
  r.hashes.forEach((h, i) => {
    const c = computed[i];
    const same = c !== undefined && ALGORITHMS.every((a) => h[a] === undefined || c[a] === undefined || h[a] === c[a]);
    if (same) return;
    count++;
    const offset = i * r.windowSize;
    if (differing.length < MAX_LISTED_WINDOWS) differing.push({ index: i, offset, length: Math.max(0, Math.min(r.windowSize, mediaSize - offset)) });
  });
  return { windowSize: r.windowSize, checked: r.hashes.length, differing, differingCount: count, recordIntact: r.recordIntact };
}
