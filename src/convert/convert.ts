/**
 * custos convert: an image of any format the registry reads, written in another in one pass
 * through the stream engine, its media hashed on the way and checked against what the input
 * records (its manifest, the container's own hashes, or --expect values) before the new files get
 * their final names. The new image's manifest says it is a derived copy and names its parent.
 */
import { existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { CustosError } from '../errors';
import { sha256Hex } from '../custody/canonical';
import { readErrorRecords } from '../acquire/record';
import { DEFAULT_SPLIT_SIZE, safeName } from '../acquire/plan';
import { RateSampler } from '../acquire/progress';
import { formatByName, type FormatName, openImage } from '../formats/registry';
import type { ImageWriter, MediaImage } from '../formats/types';
import { ensureDir, readBoundedFile, syncDir } from '../fsutil';
import { type Algorithm, ALGORITHMS, DEFAULT_ALGORITHMS } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import { ParallelHasher } from '../hash/parallel';
import { type Environment, systemEnvironment } from '../host';
import { type AcquisitionManifest, readManifest, writeManifest } from '../manifest/manifest';
import { describeSource } from '../source/info';
import { readOnlyOpen } from '../source/writeblock';
import { alignmentError, DEFAULT_CHUNK_SIZE, type PipelineProgress, runPipeline } from '../stream/pipeline';
import { SlotRing } from '../stream/ring';
import { toolInfo } from '../tool';
import { allMatch, compareHashes, type HashComparison } from '../verify/compare';
import { resolveExpected } from '../verify/records';
import { manifestBeside } from '../verify/verify';
import { iso, outputsOf, round3, runRecord } from '../acquire/record';

export interface ConvertOptions {
  /** The image to convert: any file of it, or its manifest. */
  input: string;
  to: FormatName;
  outDir: string;
  /** Base name of the new files; default: the evidence number, else the input's name. */
  name?: string;
  splitSize?: number;
  compression?: 'none' | 'fast' | 'best';
  segmentSize?: number;
  /** Algorithms to compute; those the input records are always computed too. */
  algorithms?: Algorithm[];
  /** Expected media values when the input records none (ALG=HEX, or another tool's record). */
  expectValues?: string[];
  env?: Environment;
  signal?: AbortSignal;
  onProgress?: (phase: string, total: number, p: PipelineProgress) => void;
  onEvent?: (message: string) => void;
}

export interface ConvertResult {
  manifestPath: string;
  manifest: AcquisitionManifest;
  outputs: { path: string; size: number; hashes: HashSet }[];
  hashes: HashSet;
  /** The input's recorded media hashes against those computed while converting. */
  comparisons: HashComparison[];
  parent: NonNullable<AcquisitionManifest['derivedFrom']>;
  seconds: number;
}

/** The input's record: its manifest when it has one, and the image itself. */
function parentOf(input: string): { manifestPath?: string; manifest?: AcquisitionManifest; imagePath: string } {
  if (input.endsWith('.json')) {
    const manifest = readManifest(input);
    const name = manifest.outputs[0]!.name;
    if (basename(name) !== name) throw new CustosError('INVALID_INPUT', `${input}: output name '${name.slice(0, 80)}' is not a plain file name`, { path: input, hint: 'Restore the manifest from a copy.' });
    return { manifestPath: input, manifest, imagePath: join(resolve(input, '..'), name) };
  }
  const beside = manifestBeside(input);
  return beside ? { manifestPath: beside, manifest: readManifest(beside), imagePath: input } : { imagePath: input };
}

/** Converts an image to another format, checking every media hash against the input's record (derived copy). */
export async function convert(o: ConvertOptions): Promise<ConvertResult> {
  const env = o.env ?? systemEnvironment;
  const events = o.onEvent ?? (() => undefined);
  const format = formatByName(o.to);
  const parent = parentOf(o.input);
  const image: MediaImage = openImage(parent.imagePath);
  let writer: ImageWriter | undefined;
  let hasher: ParallelHasher | undefined;
  try {
    const given = o.expectValues && o.expectValues.length > 0 ? resolveExpected(o.expectValues, parent.imagePath) : undefined;
    const recorded: HashSet = parent.manifest?.hashes ?? (Object.keys(image.storedHashes).length > 0 ? image.storedHashes : (given?.expected ?? {}));
    const recordedBy = parent.manifest ? 'manifest' : Object.keys(image.storedHashes).length > 0 ? 'container' : 'expected-values';
    if (Object.keys(recorded).length === 0) {
      throw new CustosError('INVALID_INPUT', `${o.input}: nothing to check the conversion against: no manifest beside it, no hashes in it, no --expect values`, {
        path: o.input,
        hint: 'Convert the BASE.manifest.json custos wrote, or give the media hashes with --expect md5=HEX (or another tool\'s hash record).',
      });
    }
    const wanted = new Set<Algorithm>([...(o.algorithms ?? DEFAULT_ALGORITHMS), ...ALGORITHMS.filter((a) => recorded[a] !== undefined), ...format.requiredAlgorithms]);
    const algorithms = ALGORITHMS.filter((a) => wanted.has(a));
    const splitSize = o.splitSize ?? DEFAULT_SPLIT_SIZE;
    const caseFields = parent.manifest?.case ?? image.caseFields;
    const outDir = resolve(o.outDir);
    const input = basename(parent.imagePath);
    const base = o.name ? safeName(o.name) : safeName(caseFields.evidenceNumber ?? (input.slice(0, input.length - extname(input).length) || input));
    // The media's sector size as recorded (a raw image of a 4Kn drive does not say it itself).
    const sectorSize = parent.manifest?.acquisition.sectorSize ?? image.sectorSize;
    const layout = { dir: outDir, base, format: o.to, splitSize, totalSize: image.size };
    format.check(layout, { sectorSize, segmentSize: o.segmentSize });
    const manifestPath = join(outDir, `${base}.manifest.json`);
    for (const d of ensureDir(outDir)) events(`created output folder ${d}`);
    if (existsSync(manifestPath)) {
      throw new CustosError('OUTPUT_EXISTS', `${manifestPath} already exists; custos never overwrites a record`, { path: manifestPath, hint: 'Choose another --out folder or --name.' });
    }
    const started = env.now();
    const acquired = parent.manifest ? new Date(parent.manifest.time.start) : started;
    writer = await format.create(layout, {
      sectorSize,
      compression: o.compression,
      segmentSize: o.segmentSize,
      caseFields,
      device: parent.manifest?.source.device,
      toolVersion: toolInfo().version,
      os: env.host().platform === 'linux' ? 'Linux' : env.host().platform,
      acquired,
      now: started,
      utcOffsetMinutes: env.utcOffsetMinutes(started),
    });
    const ring = new SlotRing(format.filesHoldMedia ? 8 : 4, DEFAULT_CHUNK_SIZE);
    if (image.directFds.length > 0 && !ring.alignFor(image.directFds)) throw alignmentError(image.path);
    hasher = new ParallelHasher(ring.buffer, algorithms, { segmentSize: format.mediaSegmentSize(layout) });
    const sampler = new RateSampler();
    const t0 = Date.now();
    const r = await runPipeline({
      source: image,
      end: image.size,
      ring,
      hasher,
      writer,
      shouldStop: () => Boolean(o.signal?.aborted),
      onProgress: (p) => {
        sampler.add((Date.now() - t0) / 1000, p.bytesDone);
        o.onProgress?.('convert', image.size, p);
      },
    });
    if (r.stopped) {
      throw new CustosError('INTERRUPTED', `conversion interrupted after ${r.bytesDone} of ${image.size} bytes; the new files are left as .partial`, {
        hint: 'Delete the .partial files and convert again.',
      });
    }
    const digests = await hasher.finish();
    const comparisons = compareHashes(recorded, digests.hashes);
    if (!allMatch(comparisons)) {
      const bad = comparisons.filter((c) => !c.match).map((c) => `${c.algorithm} ${c.actual} where the record says ${c.expected}`);
      throw new CustosError('HASH_MISMATCH', `${o.input}: the media read while converting does not match its record (${bad.join('; ')}); the new files keep their .partial names`, {
        path: o.input,
        hint: 'The input image was changed or damaged since it was recorded: run custos verify on it, and convert a good copy.',
      });
    }
    // Sectors the original acquisition could not read stay recorded in the copy (E01: error2),
    // counted again from their bytes in the copy's sector size.
    const errorBytes = parent.manifest
      ? parent.manifest.readErrors.map((r) => ({ offset: r.offset, length: r.length }))
      : image.readErrors.map((e) => ({ offset: e.firstSector * image.sectorSize, length: e.sectorCount * image.sectorSize }));
    const errors = readErrorRecords(errorBytes, sectorSize);
    const files = await writer.finish({ md5: digests.hashes.md5 ?? '', sha1: digests.hashes.sha1 ?? '', readErrors: errors });
    const outputs = await outputsOf(format, files, digests);
    const seconds = (Date.now() - t0) / 1000;
    const ended = env.now();
    const derivedFrom: ConvertResult['parent'] = {
      path: parent.manifestPath ?? parent.imagePath,
      format: image.format,
      hashes: recorded,
      recordedBy,
      ...(parent.manifestPath ? { manifest: { path: parent.manifestPath, sha256: sha256Hex(readBoundedFile(parent.manifestPath, 'manifest')) } } : {}),
      files: image.parts.map((p) => ({ path: p.path, size: p.size })),
    };
    const manifest: AcquisitionManifest = {
      ...runRecord(env, [{ start: iso(started), end: iso(ended), fromOffset: 0, toOffset: image.size, outcome: 'complete' }], ended, seconds),
      case: caseFields,
      // The source of a derived copy is the parent's media (not its first container file).
      source: { ...describeSource(image.parts[0]!.path), path: parent.imagePath, sizeBytes: image.size, logicalSectorSize: sectorSize, physicalSectorSize: sectorSize, sectors: Math.ceil(image.size / sectorSize) },
      writeBlock: readOnlyOpen('image files opened O_RDONLY for conversion; the original evidence was not read'),
      acquisition: {
        format: o.to,
        ...format.settings(layout, o),
        chunkSize: DEFAULT_CHUNK_SIZE,
        sectorSize,
        retries: 0,
        bytesRead: image.size,
        bytesWritten: files.reduce((n, f) => n + f.size, 0),
        resumed: false,
      },
      hashes: digests.hashes,
      readErrors: errors,
      outputs,
      derivedFrom,
      verification: {},
      rateSamples: sampler.samples,
    };
    writeManifest(manifestPath, manifest);
    await writer.commit();
    syncDir(outDir);
    return {
      manifestPath,
      manifest,
      outputs: files.map((f, i) => ({ path: f.path, size: f.size, hashes: outputs[i]!.hashes })),
      hashes: digests.hashes,
      comparisons,
      parent: derivedFrom,
      seconds: round3(seconds),
    };
  } finally {
    await writer?.close();
    await hasher?.terminate();
    image.close();
  }
}
