import { existsSync, statSync } from 'node:fs';
import { sha256Hex } from '../custody/canonical';
import { readBoundedFile } from '../fsutil';
import { basename, dirname, join } from 'node:path';
import { hashStream, type PipelineProgress } from '../stream/pipeline';
import { CustosBug, CustosError, printable } from '../errors';
import type { DamagedRange } from '../formats/types';
import { type ExpectSource, resolveExpected } from './records';

export { parseExpected } from './records';
import { type Algorithm, ALGORITHM_INFO, ALGORITHMS } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import { type AcquisitionManifest, readManifest } from '../manifest/manifest';
import { DEFAULT_CHUNK_SIZE } from '../source/file';
import { openImage } from '../source/image';
import { hashFile } from './hash-files';
import { describeSource } from '../source/info';
import { SourceReader } from '../source/reader';
import { type ByteRange } from '../formats/types';

/** One algorithm's expected and computed value. */
export interface HashComparison {
  algorithm: Algorithm;
  expected: string;
  actual: string;
  match: boolean;
}

/** Compares every algorithm present in both sets; an algorithm missing from `actual` is a bug. */
export function compareHashes(expected: HashSet, actual: HashSet): HashComparison[] {
  return ALGORITHMS.filter((a) => expected[a] !== undefined).map((algorithm) => {
    const e = expected[algorithm]!.toLowerCase();
    const a = actual[algorithm];
    if (a === undefined) throw new CustosBug(`compareHashes: ${algorithm} was not computed`);
    return { algorithm, expected: e, actual: a, match: e === a };
  });
}

export const allMatch = (c: readonly HashComparison[]) => c.length > 0 && c.every((x) => x.match);

export interface ImageHashResult {
  files: { path: string; size: number }[];
  size: number;
  hashes: HashSet;
  segments: HashSet[];
  /** Digests of each window, when a window size was asked for. */
  windows: HashSet[];
  /** Damage found in an E01 read with tolerateDamage. */
  damage?: { count: number; ranges: DamagedRange[] };
  durationSeconds: number;
}

export interface ProgressHooks {
  onProgress?: (phase: string, total: number, p: PipelineProgress) => void;
  now?: () => number;
}

/**
 * Re-hashes an image from its files: per-segment digests for split images, per-window digests
 * with `windowSize`, and with `tolerateDamage` an E01's damaged chunks listed instead of stopping
 * at the first (their hashes cover what could be read, as ewfverify's do).
 */
export async function hashImage(
  path: string,
  algorithms: readonly Algorithm[],
  o: ProgressHooks & { segmentSize?: number; windowSize?: number; tolerateDamage?: boolean } = {},
): Promise<ImageHashResult> {
  const now = o.now ?? Date.now;
  const t0 = now();
  const image = openImage(path, { tolerateDamage: o.tolerateDamage });
  try {
    const r = await hashStream(image, algorithms, {
      end: image.size,
      chunkSize: DEFAULT_CHUNK_SIZE,
      segmentSize: o.segmentSize,
      windowSize: o.windowSize,
      onProgress: (p) => o.onProgress?.('verify image', image.size, p),
    });
    return {
      files: [...image.parts],
      size: image.size,
      hashes: r.hashes,
      segments: r.segments,
      windows: r.windows,
      ...(image.damage && image.damage.count > 0 ? { damage: { count: image.damage.count, ranges: [...image.damage.ranges] } } : {}),
      durationSeconds: (now() - t0) / 1000,
    };
  } finally {
    image.close();
  }
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
  const now = o.now ?? Date.now;
  const t0 = now();
  const info = describeSource(path);
  const reader = SourceReader.open(path, { retries: o.retries, sectorSize: info.logicalSectorSize, resumable: false });
  try {
    const r = await hashStream(reader, algorithms, {
      end: info.sizeBytes,
      chunkSize: DEFAULT_CHUNK_SIZE,
      maxRate: o.maxRate,
      onProgress: (p) => o.onProgress?.('verify source', info.sizeBytes, p),
    });
    return { hashes: r.hashes, readErrors: r.readErrors.map((x) => ({ ...x })), size: info.sizeBytes, durationSeconds: (now() - t0) / 1000 };
  } finally {
    reader.close();
  }
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
  /** --expect values: ALG=HEX, or files holding another tool's hash record (src/verify/expect-files.ts). */
  expectValues?: string[];
  retries?: number;
}

function storedE01Hashes(path: string): HashSet {
  const s = openImage(path);
  try {
    return { ...(s.e01?.stored.md5 ? { md5: s.e01.stored.md5 } : {}), ...(s.e01?.stored.sha1 ? { sha1: s.e01.stored.sha1 } : {}) };
  } finally {
    s.close();
  }
}

/** The manifest beside an image file: BASE.manifest.json for BASE.raw, BASE.001 or BASE.E01. */
export function manifestBeside(imagePath: string): string | undefined {
  const base = basename(imagePath).replace(/\.(raw|dd|img|\d{3,}|e01)$/i, '');
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
  // An E01 carries its own MD5/SHA-1 (digest and hash sections): what it claims is what it is checked against.
  const stored: HashSet = !manifest && /\.e01$/i.test(target) ? storedE01Hashes(target) : {};
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
  const segmentSize = manifest?.acquisition.format === 'split' ? manifest.acquisition.splitSize : undefined;
  // A manifest's E01 outputs are read through the E01 reader: give it the first segment.
  if (manifest?.acquisition.format === 'e01') first = join(dirname(manifestPath!), manifest.outputs[0]!.name);
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
  if (manifest && manifest.acquisition.format === 'e01') {
    // E01 segment files carry their own container hashes in the manifest.
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
