/**
 * What an acquisition is asked to do and whether it can be done, decided before anything is read
 * or written: the options, the source described, the sizes checked, the format chosen from the
 * registry, the output names, and the settings a resume must repeat.
 */
import { basename, extname, join, resolve } from 'node:path';
import { CustosError } from '../errors';
import { ALGORITHMS, type Algorithm } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import { type Environment, systemEnvironment } from '../host';
import { formatByName, type FormatName } from '../formats/registry';
import type { ImageFormat, ImageLayout } from '../formats/types';
import type { AcquisitionManifest, AcquisitionSession, CaseMetadata } from '../manifest/manifest';
import { describeSource, type SourceInfo } from '../source/info';
import type { Blockdev } from '../source/writeblock';
import { DEFAULT_CHUNK_SIZE, type PipelineProgress } from '../stream/pipeline';
import type { JournalSettings } from './journal';

/** Default segment size of split images: 2 GiB, as most labs use. */
export const DEFAULT_SPLIT_SIZE = 2 * 1024 ** 3;

export interface AcquireOptions {
  source: string;
  outDir: string;
  /** Base name of the output files; default: the evidence number, else the source's name. */
  name?: string;
  format: FormatName;
  splitSize?: number;
  /** E01 only: chunk compression (default fast) and segment file size (default 1.4 GiB). */
  compression?: 'none' | 'fast' | 'best';
  segmentSize?: number;
  algorithms: Algorithm[];
  /** Piecewise hash window in bytes (0: none). */
  windowSize?: number;
  retries: number;
  verify?: boolean;
  verifySource?: boolean;
  resume?: boolean;
  allowMounted?: boolean;
  case?: CaseMetadata;
  chunkSize?: number;
  /** Upper bound on the read rate, bytes per second (spares a failing or overheating drive). */
  maxRate?: number;
  /** Milliseconds between journal checkpoints. */
  checkpointInterval?: number;
  env?: Environment;
  signal?: AbortSignal;
  onProgress?: (phase: string, total: number, p: PipelineProgress) => void;
  /** Human-readable events for stderr (bad sectors, phases). */
  onEvent?: (message: string) => void;
  /**
   * Called as the acquisition enters each closing step: 'finish' (every byte read and hashed; the
   * files are being completed), 'record' (the manifest is written), 'commit' (the manifest is
   * safely on disk and the files get their final names).
   */
  onPhase?: (phase: 'finish' | 'record' | 'commit') => void;
  blockdev?: Blockdev;
}

export interface AcquireResult {
  manifestPath: string;
  manifest: AcquisitionManifest;
  outputs: { path: string; size: number; hashes: HashSet }[];
  hashes: HashSet;
  readErrors: AcquisitionManifest['readErrors'];
  verification: AcquisitionManifest['verification'];
  durations: { acquireSeconds: number; verifyImageSeconds?: number; verifySourceSeconds?: number };
  windowsPath?: string;
  /** For a --resume: how the partial image compared with the source. */
  resumeCheck?: ResumeCheck;
}

/** How a --resume found the partial image (AcquisitionSession.resumeCheck). */
export type ResumeCheck = NonNullable<AcquisitionSession['resumeCheck']>;

/** A file name safe for any file system, from an evidence number or device name. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'image';
}

/** BASE of the output files: the evidence number, else the source's name without its extension. */
export function defaultBaseName(source: string, evidenceNumber?: string): string {
  if (evidenceNumber) return safeName(evidenceNumber);
  const b = basename(source);
  return safeName(b.slice(0, b.length - extname(b).length) || b);
}

/** Smallest --split-size and --segment-size: below it a disk becomes millions of files (--split-size 100 made two million). */
export const MIN_SEGMENT_BYTES = 1024 * 1024;
/** Most files one image may be split into. */
export const MAX_IMAGE_FILES = 100_000;
/** Most hash windows one acquisition records (the windows file stays well under the size custos reads back). */
export const MAX_HASH_WINDOWS = 200_000;

/** Refuses segment and window sizes that would make an absurd number of files or windows, before anything is written. */
export function checkSizes(
  o: { format: FormatName; segmentSize?: number; windowSize?: number },
  media: { sizeBytes: number; logicalSectorSize: number },
  splitSize: number,
): void {
  const size = media.sizeBytes;
  const files = (each: number) => Math.max(1, Math.ceil(size / each));
  if (o.format === 'split') {
    if (!Number.isSafeInteger(splitSize) || splitSize < MIN_SEGMENT_BYTES) {
      throw new CustosError('USAGE', `--split-size ${splitSize} bytes is below the minimum of 1 MiB`, { hint: 'Use a size such as 650MiB, 2GiB (the default) or 4GB.' });
    }
    if (files(splitSize) > MAX_IMAGE_FILES) {
      throw new CustosError('USAGE', `--split-size ${splitSize} would split ${size} bytes into ${files(splitSize)} files, more than ${MAX_IMAGE_FILES}`, {
        hint: `Use a --split-size of at least ${Math.ceil(size / MAX_IMAGE_FILES)} bytes.`,
      });
    }
  }
  if (o.format === 'e01' && o.segmentSize !== undefined && (!Number.isSafeInteger(o.segmentSize) || o.segmentSize < MIN_SEGMENT_BYTES)) {
    throw new CustosError('USAGE', `--segment-size ${o.segmentSize} bytes is below the minimum of 1 MiB`, { hint: 'Use 650MiB, 1.4GiB (the default), 2GiB…' });
  }
  const w = o.windowSize ?? 0;
  if (w > 0) {
    const sector = media.logicalSectorSize;
    if (!Number.isSafeInteger(w) || w < sector || w % sector !== 0) {
      throw new CustosError('USAGE', `--hash-window ${w} is not a whole number of ${sector}-byte sectors`, { hint: 'Use a window such as 1MiB or 64MiB.' });
    }
    if (files(w) > MAX_HASH_WINDOWS) {
      throw new CustosError('USAGE', `--hash-window ${w} would make ${files(w)} windows over ${size} bytes, more than ${MAX_HASH_WINDOWS}`, {
        hint: `Use a window of at least ${Math.ceil(size / MAX_HASH_WINDOWS / sector) * sector} bytes.`,
      });
    }
  }
}

/** Everything decided before the first byte is read or written. */
export interface Plan {
  o: AcquireOptions;
  env: Environment;
  events: (message: string) => void;
  info: SourceInfo;
  format: ImageFormat<FormatName>;
  /** Raw and split continue after an interruption; E01 only finishes a run whose manifest exists. */
  resumable: boolean;
  chunkSize: number;
  layout: ImageLayout;
  paths: { manifest: string; journal: string; windows: string; outDir: string };
  settings: JournalSettings;
}

/** Describes the source and checks the request; refuses what cannot be done, before anything happens. */
export function plan(options: AcquireOptions): Plan {
  // EWF stores MD5 and SHA-1 in its digest section, so an E01 acquisition always computes both.
  const o: AcquireOptions =
    options.format === 'e01' ? { ...options, algorithms: ALGORITHMS.filter((a) => a === 'md5' || a === 'sha1' || options.algorithms.includes(a)) } : options;
  const format = formatByName(o.format);
  const info = describeSource(o.source, { hiddenAreas: true });
  if (o.format === 'e01' && info.sizeBytes % info.logicalSectorSize !== 0) {
    throw new CustosError('INVALID_INPUT', `${o.source}: ${info.sizeBytes} bytes is not a whole number of ${info.logicalSectorSize}-byte sectors, and E01 stores whole sectors only`, {
      path: o.source,
      hint: 'Acquire it as --format raw or split, which keep every byte (ewfacquire would silently drop the last partial sector).',
    });
  }
  const splitSize = o.splitSize ?? DEFAULT_SPLIT_SIZE;
  checkSizes(o, info, splitSize);
  const outDir = resolve(o.outDir);
  const base = o.name ? safeName(o.name) : defaultBaseName(o.source, o.case?.evidenceNumber);
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  return {
    o,
    env: o.env ?? systemEnvironment,
    events: o.onEvent ?? (() => undefined),
    info,
    format,
    resumable: format.resume !== undefined,
    chunkSize,
    layout: { dir: outDir, base, format: o.format, splitSize, totalSize: info.sizeBytes },
    paths: {
      outDir,
      manifest: join(outDir, `${base}.manifest.json`),
      journal: join(outDir, `${base}.resume.json`),
      windows: join(outDir, `${base}.windows.json`),
    },
    settings: {
      format: o.format,
      splitSize: o.format === 'split' ? splitSize : 0,
      algorithms: o.algorithms,
      windowSize: o.windowSize ?? 0,
      chunkSize,
      sectorSize: info.logicalSectorSize,
      retries: o.retries,
    },
  };
}
