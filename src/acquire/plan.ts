/**
 * What an acquisition is asked to do and whether it can be done, decided before anything is read
 * or written: the options, the source described, the sizes checked, the format chosen from the
 * registry, the output names, and the settings a resume must repeat.
 */
import { basename, extname, join, resolve } from 'node:path';
import { CustosError, isCustosError } from '../errors';
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

/** Most hash windows one acquisition records (the windows file stays well under the size custos reads back). */
export const MAX_HASH_WINDOWS = 200_000;

/** Refuses a hash-window size that is not whole sectors or would make an absurd number of windows. */
export function checkWindowSize(w: number, media: { sizeBytes: number; logicalSectorSize: number }): void {
  if (w === 0) return; // no windows; a negative or odd one is refused below
  const sector = media.logicalSectorSize;
  if (!Number.isSafeInteger(w) || w < sector || w % sector !== 0) {
    throw new CustosError('USAGE', `--hash-window ${w} is not a whole number of ${sector}-byte sectors`, { hint: 'Use a window such as 1MiB or 64MiB.' });
  }
  const windows = Math.max(1, Math.ceil(media.sizeBytes / w));
  if (windows > MAX_HASH_WINDOWS) {
    throw new CustosError('USAGE', `--hash-window ${w} would make ${windows} windows over ${media.sizeBytes} bytes, more than ${MAX_HASH_WINDOWS}`, {
      hint: `Use a window of at least ${Math.ceil(media.sizeBytes / MAX_HASH_WINDOWS / sector) * sector} bytes.`,
    });
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
  const format = formatByName(options.format);
  // A container that stores hashes of its own (E01: MD5, SHA-1) gets them computed whatever --hash says.
  const o: AcquireOptions = { ...options, algorithms: ALGORITHMS.filter((a) => options.algorithms.includes(a) || (format.requiredAlgorithms as readonly string[]).includes(a)) };
  const info = describeSource(o.source, { hiddenAreas: true });
  const splitSize = o.splitSize ?? DEFAULT_SPLIT_SIZE;
  const layoutFor = (dir: string, base: string) => ({ dir, base, format: o.format, splitSize, totalSize: info.sizeBytes });
  try {
    format.check(layoutFor('', ''), { sectorSize: info.logicalSectorSize, segmentSize: o.segmentSize });
  } catch (err) {
    if (isCustosError(err) && err.code === 'INVALID_INPUT') throw new CustosError(err.code, `${o.source}: ${err.message}`, { path: o.source, hint: err.hint });
    throw err;
  }
  checkWindowSize(o.windowSize ?? 0, info);
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
    layout: layoutFor(outDir, base),
    paths: {
      outDir,
      manifest: join(outDir, `${base}.manifest.json`),
      journal: join(outDir, `${base}.resume.json`),
      windows: join(outDir, `${base}.windows.json`),
    },
    settings: {
      format: o.format,
      splitSize: format.mediaSegmentSize(layoutFor(outDir, base)),
      algorithms: o.algorithms,
      windowSize: o.windowSize ?? 0,
      chunkSize,
      sectorSize: info.logicalSectorSize,
      retries: o.retries,
    },
  };
}
