import type { FormatName } from '../formats/registry';
import { existsSync, unlinkSync } from 'node:fs';
import { CustosError, printable } from '../errors';
import { isAlgorithm, type Algorithm } from '../hash/algorithms';
import type { AcquisitionSession, CaseMetadata } from '../manifest/manifest';
import { readBoundedFile, writeFileAtomic } from '../fsutil';
import { schemaProblems } from '../schema';
import type { ByteRange } from '../formats/types';
import type { SourceInfo } from '../source/info';
import type { WriteBlockRecord } from '../source/writeblock';

/** The settings that must be the same for a resumed acquisition to give the same image. */
export interface JournalSettings {
  format: FormatName;
  splitSize: number;
  algorithms: Algorithm[];
  windowSize: number;
  chunkSize: number;
  sectorSize: number;
  retries: number;
}

/** Which source the journal belongs to. */
export interface JournalSource {
  realPath: string;
  kind: string;
  sizeBytes: number;
  serial?: string;
  model?: string;
}

/**
 * BASE.resume.json: the state of an acquisition that has not finished, rewritten (atomically)
 * every few seconds and when it stops. It is a hint, never trusted: --resume re-reads the
 * partial image and compares it with the source before going on.
 */
export interface ResumeJournal {
  journalVersion: 1;
  source: JournalSource;
  settings: JournalSettings;
  case: CaseMetadata;
  /** Bytes hashed and written with nothing missing before them. */
  bytesDone: number;
  /** Unreadable ranges below bytesDone. */
  readErrors: ByteRange[];
  sessions: AcquisitionSession[];
  /** The write-block record of the first session, kept for the manifest. */
  writeBlock: WriteBlockRecord;
  rateSamples: { seconds: number; bytes: number }[];
  /** Reading time of earlier sessions. */
  durationSeconds: number;
}

const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;

export function saveJournal(path: string, j: ResumeJournal): void {
  writeFileAtomic(path, `${JSON.stringify(j)}\n`, { replace: true });
}

export function removeJournal(path: string): void {
  if (existsSync(path)) unlinkSync(path);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads a journal defensively: any missing or odd field makes it unusable, with a clear error. */
export function loadJournal(path: string): ResumeJournal {
  const bad = (why: string) =>
    new CustosError('RESUME_MISMATCH', `${path}: cannot resume from this journal: ${why}`, {
      path,
      hint: 'Delete BASE.resume.json and the .partial files, then acquire again from the start.',
    });
  let data: ResumeJournal;
  const text = readBoundedFile(path, 'resume journal', MAX_JOURNAL_BYTES).toString('utf8');
  try {
    data = JSON.parse(text) as ResumeJournal;
  } catch (err) {
    throw bad(`it is not valid JSON (${printable((err as Error).message)})`);
  }
  const s = data?.settings;
  if (data?.journalVersion !== 1) throw bad('unknown journal version');
  if (!isInt(data.bytesDone) || !isInt(data.source?.sizeBytes) || data.bytesDone > data.source.sizeBytes) throw bad('bytesDone is not a valid offset');
  if (!s || (s.format !== 'raw' && s.format !== 'split') || !isInt(s.splitSize) || !isInt(s.windowSize) || !isInt(s.chunkSize) || !isInt(s.sectorSize) || !isInt(s.retries)) {
    throw bad('settings are incomplete');
  }
  if (!Array.isArray(s.algorithms) || !s.algorithms.every((a) => typeof a === 'string' && isAlgorithm(a))) throw bad('unknown hash algorithms');
  if (!Array.isArray(data.readErrors) || !data.readErrors.every((r) => isInt(r?.offset) && isInt(r?.length) && r.offset + r.length <= data.bytesDone)) {
    throw bad('read errors are not valid ranges');
  }
  if (!Array.isArray(data.sessions) || !Array.isArray(data.rateSamples) || typeof data.durationSeconds !== 'number' || !data.writeBlock) throw bad('history is missing');
  // The history becomes the manifest's: hold it to the manifest's rules now, not after the whole source is read.
  const problems = schemaProblems('resume-journal', data);
  if (problems.length > 0) throw bad(`it does not match the resume-journal schema: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`);
  return data;
}

/** Ranges of `errors` that lie below `limit`, clipped to it. */
export function rangesBelow(errors: readonly ByteRange[], limit: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of errors) {
    if (r.offset >= limit) break;
    out.push({ offset: r.offset, length: Math.min(r.length, limit - r.offset) });
  }
  return out;
}

/** The identity a journal pins its source by, besides size and path: serial and model, where the device has them. */
export function sourceIdentity(info: SourceInfo): { serial?: string; model?: string } {
  return { ...(info.device?.serial ? { serial: info.device.serial } : {}), ...(info.device?.model ? { model: info.device.model } : {}) };
}

/**
 * Saves the journal as the acquisition goes: at the start, every `interval` milliseconds, and when
 * it stops. `path` undefined: a format that cannot be resumed keeps no journal.
 */
export class Checkpoints {
  private last = Date.now();

  constructor(
    private readonly path: string | undefined,
    private readonly interval: number,
    private readonly snapshot: (outcome: AcquisitionSession['outcome']) => ResumeJournal,
  ) {}

  save(outcome: AcquisitionSession['outcome']): void {
    this.last = Date.now();
    if (this.path) saveJournal(this.path, this.snapshot(outcome));
  }

  /** A checkpoint when the interval has passed (called on every progress report). */
  maybeSave(): void {
    if (this.path && Date.now() - this.last >= this.interval) this.save('interrupted');
  }

  /** Saves, ignoring failure: the failure that brought us here (often a full disk) matters more. */
  saveQuietly(outcome: AcquisitionSession['outcome']): void {
    try {
      this.save(outcome);
    } catch {
      // the original error is the one reported
    }
  }
}
