/**
 * The acquisition manifest (schemas/acquisition-manifest.schema.json): what custos acquire records
 * about an image, written beside it. Written only once the schema accepts it, read back only from a
 * bounded regular file that the schema accepts.
 */
import { FORMAT_NAMES, type FormatName } from '../formats/registry';
import { CustosError, printable } from '../errors';
import type { HashSet } from '../hash/hashset';
import { assertSchema, readValidatedJson } from '../schema';
import type { SourceInfo, SourceMount } from '../source/info';
import type { WriteBlockRecord } from '../source/writeblock';
import type { HostFacts } from '../host';
import type { ToolInfo } from '../tool';
import { writeFileAtomic } from '../fsutil';

/** Case metadata as recorded (every field optional: an acquisition may precede a case number). */
export interface CaseMetadata {
  caseNumber?: string;
  evidenceNumber?: string;
  examiner?: string;
  description?: string;
  notes?: string;
}

export interface AcquisitionSession {
  start: string;
  end: string;
  fromOffset: number;
  toOffset: number;
  outcome: 'complete' | 'interrupted' | 'failed';
  /** A --resume session's check of the partial image against the source. */
  resumeCheck?: { partialBytes: number; matchedBytes: number; matched: boolean; mismatchAt?: number; reason?: 'source-changed' | 'sectors-now-readable' };
}

export interface ReadErrorRecord {
  offset: number;
  length: number;
  firstSector: number;
  sectorCount: number;
}

export interface VerificationCheck {
  result: 'match' | 'mismatch';
  at: string;
  durationSeconds: number;
  hashes: HashSet;
  readErrors?: { offset: number; length: number }[];
}

/** The acquisition record (schemas/acquisition-manifest.schema.json). */
export interface AcquisitionManifest {
  manifestVersion: 1;
  status: 'complete';
  tool: ToolInfo;
  commandLine: string[];
  host: HostFacts;
  time: {
    start: string;
    end: string;
    timeZone: string;
    utcOffset: string;
    startLocal: string;
    endLocal: string;
    durationSeconds: number;
    sessions: AcquisitionSession[];
  };
  case: CaseMetadata;
  source: SourceInfo;
  writeBlock: WriteBlockRecord & { mountsAtStart: SourceMount[] };
  acquisition: {
    format: FormatName;
    splitSize?: number;
    compression?: 'none' | 'fast' | 'best';
    segmentSize?: number;
    chunkSize: number;
    sectorSize: number;
    retries: number;
    bytesRead: number;
    bytesWritten: number;
    resumed: boolean;
    directIo?: boolean;
  };
  hashes: HashSet;
  hashWindows?: { windowSize: number; count: number; file: string; sha256: string };
  readErrors: ReadErrorRecord[];
  outputs: { name: string; size: number; hashes: HashSet }[];
  /** A derived copy (custos convert): the image it was made from. */
  derivedFrom?: {
    path: string;
    format: string;
    hashes: HashSet;
    recordedBy?: 'manifest' | 'container' | 'expected-values';
    manifest?: { path: string; sha256: string };
    files: { path: string; size: number }[];
  };
  verification: { image?: VerificationCheck; source?: VerificationCheck };
  rateSamples: { seconds: number; bytes: number }[];
}

/**
 * Validates the manifest against its schema and only then writes it (atomically). A new manifest
 * never replaces a file; `replace` is for adding verification results to the one this run wrote.
 */
export function writeManifest(path: string, manifest: AcquisitionManifest, o: { replace?: boolean } = {}): void {
  assertSchema('acquisition-manifest', manifest, `manifest for ${path}`);
  writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`, { replace: o.replace });
}

/** Reads and validates a manifest; every problem is an input error naming the file. */
export function readManifest(path: string): AcquisitionManifest {
  const hint = 'Name a BASE.manifest.json written by custos acquire, or restore it from your evidence copy.';
  const m = readValidatedJson('acquisition-manifest', path, hint) as AcquisitionManifest;
  // The schema takes any format name; the registry says which this custos can read.
  if (!(FORMAT_NAMES as readonly string[]).includes(m.acquisition.format)) {
    throw new CustosError('INVALID_INPUT', `${path}: image format '${printable(m.acquisition.format, 40)}' is not one this custos knows (${FORMAT_NAMES.join(', ')})`, { path, hint });
  }
  return m;
}
