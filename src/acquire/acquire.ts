import { createHash } from 'node:crypto';
import { closeSync, existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { CustosError, isCustosError } from '../errors';
import { PARTIAL_SUFFIX, RawImageWriter } from '../formats/raw';
import { ensureDir, openRegularForRead, renameIntoPlace, syncDir, writeFileAtomic } from '../fsutil';
import { protectSource } from '../source/evidence';
import type { ImageLayout, ImageWriter } from '../formats/types';
import { DEFAULT_SEGMENT_SIZE, E01Writer } from '../formats/e01/writer';
import type { CompressionLevel } from '../formats/e01/sections';
import { hashFile } from '../verify/hash-files';
import { type Algorithm, ALGORITHMS } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import { ParallelHasher } from '../hash/parallel';
import { type Environment, formatOffset, localTimestamp, systemEnvironment } from '../host';
import { type AcquisitionManifest, type AcquisitionSession, type CaseMetadata, readManifest, type VerificationCheck, writeManifest } from '../manifest/manifest';
import { SlotRing } from '../stream/ring';
import { DEFAULT_CHUNK_SIZE } from '../source/file';
import { ImageSource } from '../source/image';
import { describeSource, type SourceInfo } from '../source/info';
import { SourceReader } from '../source/reader';
import { addRange, type ByteRange } from '../formats/types';
import { applyWriteBlock, type Blockdev, readOnlyNow, systemBlockdev, type WriteBlockRecord } from '../source/writeblock';
import { toolInfo } from '../tool';
import { allMatch, compareHashes, hashImage, hashSourceAgain } from '../verify/verify';
import { type JournalSettings, loadJournal, rangesBelow, removeJournal, type ResumeJournal, saveJournal } from './journal';
import { alignmentError, hashStream, type PipelineProgress, runPipeline } from '../stream/pipeline';
import { RateSampler } from './progress';

/** Default segment size of split images: 2 GiB, as the issue and most labs use. */
export const DEFAULT_SPLIT_SIZE = 2 * 1024 ** 3;
/** Slots in the acquisition ring: 8 × 4 MiB measured best here (NOTES.md). */
const ACQUIRE_SLOTS = 8;

export interface AcquireOptions {
  source: string;
  outDir: string;
  /** Base name of the output files; default: the evidence number, else the source's name. */
  name?: string;
  format: 'raw' | 'split' | 'e01';
  splitSize?: number;
  /** E01 only: chunk compression (default fast) and segment file size (default 1.4 GiB). */
  compression?: CompressionLevel;
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
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'image';
}

export function defaultBaseName(source: string, evidenceNumber?: string): string {
  if (evidenceNumber) return safeName(evidenceNumber);
  const b = basename(source);
  return safeName(b.slice(0, b.length - extname(b).length) || b);
}

function openFlagsOf(reader: SourceReader): string[] {
  return ['O_RDONLY', ...(reader.direct ? ['O_DIRECT'] : []), ...(reader.kind === 'file' ? ['O_NOATIME'] : [])];
}

/**
 * Acquires a source into a raw or split image with every hash computed in the same pass,
 * bad sectors recovered and zero-filled, a resumable journal, optional verification, and a
 * schema-valid manifest written only once the image is complete and flushed.
 */
export async function acquire(options: AcquireOptions): Promise<AcquireResult> {
  // EWF stores MD5 and SHA-1 in its digest section, so an E01 acquisition always computes both.
  const o: AcquireOptions =
    options.format === 'e01' ? { ...options, algorithms: ALGORITHMS.filter((a) => a === 'md5' || a === 'sha1' || options.algorithms.includes(a)) } : options;
  const env = o.env ?? systemEnvironment;
  const resumable = o.format !== 'e01';
  const events = o.onEvent ?? (() => undefined);
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
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
  const layout = { dir: outDir, base, format: o.format, splitSize, totalSize: info.sizeBytes };
  const manifestPath = join(outDir, `${base}.manifest.json`);
  const journalPath = join(outDir, `${base}.resume.json`);
  const windowsPath = join(outDir, `${base}.windows.json`);
  // Nothing is written before the output is known to be off the evidence (src/protect.ts).
  protectSource(o.source);
  for (const d of ensureDir(outDir)) events(`created output folder ${d}`);
  if (existsSync(manifestPath)) {
    const committing = stoppedWhileCommitting(manifestPath);
    if (o.resume && committing) return completeCommit(manifestPath, journalPath, events);
    throw new CustosError('OUTPUT_EXISTS', `${manifestPath} already exists; custos never overwrites a record`, {
      path: manifestPath,
      hint: committing
        ? 'The acquisition stopped while its files were getting their final names: run the same command with --resume to finish it.'
        : 'Choose another --out folder or --name.',
    });
  }
  if (o.resume && !resumable) {
    throw new CustosError('USAGE', '--resume is not supported for E01 acquisitions, except to finish one whose manifest was written', {
      hint: 'Delete the BASE.E01.partial files and acquire again, or acquire as raw/split (resumable) and convert.',
    });
  }
  const settings: JournalSettings = {
    format: o.format,
    splitSize: o.format === 'split' ? layout.splitSize : 0,
    algorithms: o.algorithms,
    windowSize: o.windowSize ?? 0,
    chunkSize,
    sectorSize: info.logicalSectorSize,
    retries: o.retries,
  };
  let journal: ResumeJournal | undefined;
  if (o.resume) {
    if (!existsSync(journalPath)) {
      throw new CustosError('INVALID_INPUT', `nothing to resume: ${journalPath} does not exist`, {
        path: journalPath,
        hint: 'Run without --resume to start a new acquisition (or check --out and --name).',
      });
    }
    journal = loadJournal(journalPath);
    checkSameAcquisition(journal, info, settings, journalPath);
  } else if (existsSync(journalPath)) {
    throw new CustosError('OUTPUT_EXISTS', `${journalPath} exists: an acquisition into ${base} was interrupted`, {
      path: journalPath,
      hint: 'Continue it with --resume (same command line), or delete its .resume.json and .partial files to start over.',
    });
  }

  const blockdev = o.blockdev ?? systemBlockdev;
  const sessionStart = env.now();
  const reader = SourceReader.open(o.source, { retries: o.retries, sectorSize: info.logicalSectorSize });
  const sectorOf = (byte: number) => Math.floor(byte / info.logicalSectorSize);
  let writeBlock: WriteBlockRecord;
  let writer: ImageWriter | undefined;
  let hasher: ParallelHasher | undefined;
  try {
    writeBlock = applyWriteBlock(info, { allowMounted: Boolean(o.allowMounted), openFlags: openFlagsOf(reader) }, blockdev);
    if (writeBlock.method === 'kernel-read-only-flag') events(`write-block: kernel read-only flag set on ${info.path} (was ${writeBlock.readOnlyBefore ? 'set' : 'not set'})`);
    if (writeBlock.method === 'not-set-mounted-read-write') {
      events(`WARNING: ${info.path} is mounted read-write; acquiring anyway (--allow-mounted) WITHOUT the kernel read-only flag, which would break the running system's writes`);
    }

    // E01 is bound by compression, not reading: a shorter ring keeps its workers within the memory budget.
    const ring = new SlotRing(o.format === 'e01' ? ACQUIRE_SLOTS / 2 : ACQUIRE_SLOTS, chunkSize);
    if (reader.directFds.length > 0 && !ring.alignFor(reader.directFds)) throw alignmentError(o.source);
    hasher = new ParallelHasher(ring.buffer, o.algorithms, { segmentSize: settings.splitSize, windowSize: settings.windowSize });

    const readErrors: ByteRange[] = [];
    let start = 0;
    let resumeCheck: ResumeCheck | undefined;
    if (journal) {
      resumeCheck = await replayPartial(journal, layout, reader, ring, hasher, readErrors, o, events);
      start = resumeCheck.matchedBytes;
      writer = RawImageWriter.resume(layout, start);
      events(`resume: ${start} bytes of the partial image match the source; continuing from there`);
    } else if (o.format === 'e01') {
      const now = env.now();
      writer = await E01Writer.create({
        dir: outDir,
        base,
        totalSize: info.sizeBytes,
        bytesPerSector: info.logicalSectorSize,
        segmentSize: o.segmentSize ?? DEFAULT_SEGMENT_SIZE,
        compression: o.compression ?? 'fast',
        mediaType: info.device?.removable ? 'removable' : 'fixed',
        physical: !info.device?.isPartition,
        header: {
          description: o.case?.description,
          caseNumber: o.case?.caseNumber,
          evidenceNumber: o.case?.evidenceNumber,
          examiner: o.case?.examiner,
          notes: o.case?.notes,
          model: info.device?.model,
          serial: info.device?.serial,
          version: toolInfo().version.slice(0, 11),
          os: env.host().platform === 'linux' ? 'Linux' : env.host().platform,
          acquired: sessionStart,
          system: now,
          utcOffsetMinutes: env.utcOffsetMinutes(now),
        },
      });
    } else {
      writer = RawImageWriter.create(layout);
    }

    const sampler = new RateSampler();
    const t0 = Date.now();
    const previousSeconds = journal?.durationSeconds ?? 0;
    for (const s of journal?.rateSamples ?? []) sampler.samples.push(s);
    let latest: PipelineProgress = { bytesRead: start, bytesDone: start, readErrors };
    const journalFor = (outcome: AcquisitionSession['outcome']): ResumeJournal => ({
      journalVersion: 1,
      source: { realPath: info.realPath, kind: info.kind, sizeBytes: info.sizeBytes, ...identity(info) },
      settings,
      case: o.case ?? {},
      bytesDone: latest.bytesDone,
      readErrors: rangesBelow(latest.readErrors, latest.bytesDone),
      sessions: [
        ...(journal?.sessions ?? []),
        { start: iso(sessionStart), end: iso(env.now()), fromOffset: start, toOffset: latest.bytesDone, outcome, ...(resumeCheck ? { resumeCheck } : {}) },
      ],
      writeBlock: journal?.writeBlock ?? writeBlock,
      rateSamples: sampler.samples,
      durationSeconds: previousSeconds + (Date.now() - t0) / 1000,
    });
    let lastCheckpoint = Date.now();
    const interval = o.checkpointInterval ?? 2000;
    if (resumable) saveJournal(journalPath, journalFor('interrupted'));

    let result;
    try {
      result = await runPipeline({
        source: reader,
        start,
        end: info.sizeBytes,
        ring,
        hasher,
        writer,
        readErrors,
        maxRate: o.maxRate,
        shouldStop: () => Boolean(o.signal?.aborted),
        onReadErrors: (ranges) => {
          for (const r of ranges) {
            const first = sectorOf(r.offset);
            const last = sectorOf(r.offset + r.length - 1);
            events(`READ ERROR: sector${last > first ? `s ${first}-${last}` : ` ${first}`} (bytes ${r.offset}-${r.offset + r.length - 1}) unreadable after ${o.retries} retries; zero-filled`);
          }
        },
        onProgress: (p) => {
          latest = p;
          sampler.add(previousSeconds + (Date.now() - t0) / 1000, p.bytesDone);
          o.onProgress?.('acquire', info.sizeBytes, p);
          if (resumable && Date.now() - lastCheckpoint >= interval) {
            lastCheckpoint = Date.now();
            saveJournal(journalPath, journalFor('interrupted'));
          }
        },
      });
    } catch (err) {
      await writer.sync().catch(() => undefined);
      if (resumable) saveJournalQuietly(journalPath, journalFor('failed'));
      throw err;
    }
    latest = result;
    // The journal now says everything was read: a stop while finishing resumes with a check, not a re-read.
    if (resumable && !result.stopped) saveJournalQuietly(journalPath, journalFor('interrupted'));
    if (result.stopped) {
      await writer.sync();
      if (!resumable) {
        throw new CustosError('INTERRUPTED', `acquisition interrupted after ${result.bytesDone} of ${info.sizeBytes} bytes; the E01 segments are left as .partial files`, {
          hint: 'E01 acquisitions cannot be resumed yet: delete the .partial files and acquire again.',
        });
      }
      saveJournal(journalPath, journalFor('interrupted'));
      throw new CustosError('INTERRUPTED', `acquisition interrupted after ${result.bytesDone} of ${info.sizeBytes} bytes; the partial image and ${basename(journalPath)} are kept`, {
        hint: 'Run the same command again with --resume to continue where it stopped.',
      });
    }

    o.onPhase?.('finish');
    const digests = await hasher.finish();
    const sectorSize = info.logicalSectorSize;
    const readErrorRecords = result.readErrors.map((r) => ({
      offset: r.offset,
      length: r.length,
      firstSector: Math.floor(r.offset / sectorSize),
      sectorCount: Math.ceil((r.offset + r.length) / sectorSize) - Math.floor(r.offset / sectorSize),
    }));
    const files = await writer.finish({ md5: digests.hashes.md5 ?? '', sha1: digests.hashes.sha1 ?? '', readErrors: readErrorRecords });
    const sessionEnd = env.now();
    const acquireSeconds = previousSeconds + (Date.now() - t0) / 1000;
    // Raw files hold the media itself; an E01 segment's own hashes are those of its container bytes.
    const outputs: { name: string; size: number; hashes: HashSet }[] = [];
    for (const [i, f] of files.entries()) {
      const hashes = o.format === 'e01' ? (await hashFile(f.partialPath ?? f.path, ['sha256'])).hashes : o.format === 'split' ? (digests.segments[i] ?? digests.hashes) : digests.hashes;
      outputs.push({ name: f.name, size: f.size, hashes });
    }
    let hashWindows: AcquisitionManifest['hashWindows'];
    if (settings.windowSize > 0) {
      const text = `${JSON.stringify(
        {
          windowSize: settings.windowSize,
          algorithms: o.algorithms,
          windows: digests.windows.map((h, i) => ({
            index: i,
            offset: i * settings.windowSize,
            length: Math.min(settings.windowSize, info.sizeBytes - i * settings.windowSize),
            hashes: h,
          })),
        },
        null,
        1,
      )}\n`;
      writeFileAtomic(windowsPath, text, { replace: Boolean(journal) });
      hashWindows = { windowSize: settings.windowSize, count: digests.windows.length, file: basename(windowsPath), sha256: createHash('sha256').update(text).digest('hex') };
    }
    writeBlock = { ...(journal?.writeBlock ?? writeBlock), readOnlyAtEnd: readOnlyNow(info, blockdev) };
    const sessions: AcquisitionSession[] = [
      ...(journal?.sessions ?? []),
      { start: iso(sessionStart), end: iso(sessionEnd), fromOffset: start, toOffset: info.sizeBytes, outcome: 'complete', ...(resumeCheck ? { resumeCheck } : {}) },
    ];
    const firstStart = new Date(sessions[0]!.start);
    const offset = env.utcOffsetMinutes(firstStart);
    const manifest: AcquisitionManifest = {
      manifestVersion: 1,
      status: 'complete',
      tool: toolInfo(),
      commandLine: env.commandLine(),
      host: env.host(),
      time: {
        start: iso(firstStart),
        end: iso(sessionEnd),
        timeZone: env.timeZone(),
        utcOffset: formatOffset(offset),
        startLocal: localTimestamp(firstStart, offset),
        endLocal: localTimestamp(sessionEnd, env.utcOffsetMinutes(sessionEnd)),
        durationSeconds: round3(acquireSeconds),
        sessions,
      },
      case: o.case ?? {},
      source: info,
      writeBlock,
      acquisition: {
        format: o.format,
        ...(o.format === 'split' ? { splitSize: layout.splitSize } : {}),
        ...(o.format === 'e01' ? { compression: o.compression ?? 'fast', segmentSize: o.segmentSize ?? DEFAULT_SEGMENT_SIZE } : {}),
        chunkSize,
        sectorSize,
        retries: o.retries,
        bytesRead: info.sizeBytes,
        bytesWritten: files.reduce((n, f) => n + f.size, 0),
        resumed: Boolean(journal),
        directIo: reader.direct,
      },
      hashes: digests.hashes,
      ...(hashWindows ? { hashWindows } : {}),
      readErrors: readErrorRecords,
      outputs,
      verification: {},
      rateSamples: sampler.samples,
    };
    // The record first, then the final names: a stop in between leaves a manifest, the journal and
    // .partial files, which --resume checks against the manifest and renames (completeCommit).
    o.onPhase?.('record');
    try {
      writeManifest(manifestPath, manifest);
    } catch (err) {
      if (!isCustosError(err) || err.code !== 'IO_ERROR') throw err;
      throw new CustosError('IO_ERROR', `the image is complete, but its manifest could not be written: ${err.message}`, {
        path: manifestPath,
        cause: err,
        hint: resumable
          ? 'Free space on the destination, then run the same command with --resume: it checks the image against the source and writes the manifest.'
          : 'Free space on the destination and acquire again (E01 cannot be resumed before its manifest exists).',
      });
    }
    o.onPhase?.('commit');
    await writer.commit();
    if (resumable) removeJournal(journalPath);
    syncDir(outDir);
    const durations: AcquireResult['durations'] = { acquireSeconds: round3(acquireSeconds) };

    if (o.verify) {
      const r = await hashImage(files[0]!.path, o.algorithms, { onProgress: o.onProgress });
      manifest.verification.image = check(compareHashes(digests.hashes, r.hashes), r.hashes, env.now(), r.durationSeconds);
      durations.verifyImageSeconds = round3(r.durationSeconds);
      writeManifest(manifestPath, manifest, { replace: true });
    }
    if (o.verifySource) {
      const r = await hashSourceAgain(o.source, o.algorithms, { retries: o.retries, maxRate: o.maxRate, onProgress: o.onProgress });
      manifest.verification.source = {
        ...check(compareHashes(digests.hashes, r.hashes), r.hashes, env.now(), r.durationSeconds),
        readErrors: r.readErrors,
      };
      durations.verifySourceSeconds = round3(r.durationSeconds);
      writeManifest(manifestPath, manifest, { replace: true });
    }
    return {
      manifestPath,
      manifest,
      outputs: files.map((f, i) => ({ path: f.path, size: f.size, hashes: outputs[i]!.hashes })),
      hashes: digests.hashes,
      readErrors: manifest.readErrors,
      verification: manifest.verification,
      durations,
      ...(hashWindows ? { windowsPath } : {}),
      ...(resumeCheck ? { resumeCheck } : {}),
    };
  } finally {
    await writer?.close();
    await hasher?.terminate();
    reader.close();
  }
}

function check(c: ReturnType<typeof compareHashes>, hashes: HashSet, at: Date, seconds: number): VerificationCheck {
  return { result: allMatch(c) ? 'match' : 'mismatch', at: iso(at), durationSeconds: round3(seconds), hashes };
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const round3 = (n: number) => Math.round(n * 1000) / 1000;

function identity(info: SourceInfo): { serial?: string; model?: string } {
  return { ...(info.device?.serial ? { serial: info.device.serial } : {}), ...(info.device?.model ? { model: info.device.model } : {}) };
}

function saveJournalQuietly(path: string, j: ResumeJournal): void {
  try {
    saveJournal(path, j);
  } catch {
    // The original failure (often a full disk) matters more than the journal update.
  }
}

/** Smallest --split-size and --segment-size: below it a disk becomes millions of files (--split-size 100 made two million). */
export const MIN_SEGMENT_BYTES = 1024 * 1024;
/** Most files one image may be split into. */
export const MAX_IMAGE_FILES = 100_000;
/** Most hash windows one acquisition records (the windows file stays well under the size custos reads back). */
export const MAX_HASH_WINDOWS = 200_000;

/** Refuses segment and window sizes that would make an absurd number of files or windows, before anything is written. */
function checkSizes(o: AcquireOptions, info: SourceInfo, splitSize: number): void {
  const size = info.sizeBytes;
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
    const sector = info.logicalSectorSize;
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

/** True when a manifest's files still have .partial names: the run stopped between writing the manifest and renaming them. */
function stoppedWhileCommitting(manifestPath: string): boolean {
  let names: string[];
  try {
    names = readManifest(manifestPath).outputs.map((f) => f.name);
  } catch {
    return false;
  }
  return names.some((n) => basename(n) === n && existsSync(join(dirname(manifestPath), n + PARTIAL_SUFFIX)));
}

/**
 * Finishes an acquisition that stopped after its manifest was written but before every file had
 * its final name (a kill, a crash, a full disk in that moment): each file still under its
 * .partial name must have the size and hashes the manifest records for it; only then is it
 * renamed, and the journal removed. Nothing is re-read from the source: the manifest's hashes
 * were computed in the acquisition pass.
 */
async function completeCommit(manifestPath: string, journalPath: string, events: (m: string) => void): Promise<AcquireResult> {
  const manifest = readManifest(manifestPath);
  const dir = dirname(manifestPath);
  let renamed = 0;
  const outputs: AcquireResult['outputs'] = [];
  for (const f of manifest.outputs) {
    if (basename(f.name) !== f.name) throw new CustosError('INVALID_INPUT', `${manifestPath}: output name ${f.name} is not a plain file name`, { path: manifestPath, hint: 'Restore the manifest from a copy.' });
    const final = join(dir, f.name);
    const partial = final + PARTIAL_SUFFIX;
    const where = existsSync(final) ? final : partial;
    const { fd, size } = openRegularForRead(where, 'image file');
    closeSync(fd);
    if (size !== f.size) {
      throw new CustosError('INVALID_INPUT', `cannot finish the acquisition: ${where} has ${size} bytes, the manifest records ${f.size}`, {
        path: where,
        hint: 'The file was changed after the acquisition stopped; acquire again under another --name.',
      });
    }
    if (where === partial) {
      const algorithms = ALGORITHMS.filter((a) => f.hashes[a] !== undefined);
      const image = new ImageSource(partial, [{ path: partial, size }], { ownOutput: true });
      let hashes: HashSet;
      try {
        hashes = (await hashStream(image, algorithms, { end: size, chunkSize: DEFAULT_CHUNK_SIZE })).hashes;
      } finally {
        image.close();
      }
      if (!allMatch(compareHashes(f.hashes, hashes))) {
        throw new CustosError('HASH_MISMATCH', `cannot finish the acquisition: ${partial} does not have the hashes its manifest records`, {
          path: partial,
          hint: 'The file was changed after the acquisition stopped; acquire again under another --name.',
        });
      }
      renameIntoPlace(partial, final);
      renamed++;
    }
    outputs.push({ path: final, size: f.size, hashes: f.hashes });
  }
  syncDir(dir);
  removeJournal(journalPath);
  syncDir(dir);
  events(`resume: the acquisition had stopped while giving its files their final names; ${renamed} file(s) checked against ${basename(manifestPath)} and renamed: complete`);
  const windowsPath = manifest.hashWindows ? join(dir, manifest.hashWindows.file) : undefined;
  return {
    manifestPath,
    manifest,
    outputs,
    hashes: manifest.hashes,
    readErrors: manifest.readErrors,
    verification: manifest.verification,
    durations: { acquireSeconds: manifest.time.durationSeconds },
    ...(windowsPath ? { windowsPath } : {}),
  };
}

/** The journal must describe this source and these settings, or resuming would splice two images. */
function checkSameAcquisition(j: ResumeJournal, info: SourceInfo, s: JournalSettings, path: string): void {
  const differ: string[] = [];
  if (j.source.sizeBytes !== info.sizeBytes) differ.push(`source size ${info.sizeBytes} (was ${j.source.sizeBytes})`);
  const id = identity(info);
  if (j.source.serial !== id.serial) differ.push(`serial ${id.serial ?? 'none'} (was ${j.source.serial ?? 'none'})`);
  if (j.source.model !== id.model) differ.push(`model ${id.model ?? 'none'} (was ${j.source.model ?? 'none'})`);
  if (info.kind === 'file' && j.source.realPath !== info.realPath) differ.push(`file ${info.realPath} (was ${j.source.realPath})`);
  for (const k of ['format', 'splitSize', 'windowSize', 'chunkSize', 'sectorSize'] as const) {
    if (j.settings[k] !== s[k]) differ.push(`${k} ${s[k]} (was ${j.settings[k]})`);
  }
  if (j.settings.algorithms.join(',') !== s.algorithms.join(',')) differ.push(`--hash ${s.algorithms.join(',')} (was ${j.settings.algorithms.join(',')})`);
  if (differ.length > 0) {
    throw new CustosError('RESUME_MISMATCH', `cannot resume: this is not the same acquisition as ${path}: ${differ.join('; ')}`, {
      path,
      hint: 'Resume with the same source and the same command line, or start a new acquisition under another --name.',
    });
  }
}

/**
 * Re-reads the partial image written before the interruption and compares it chunk by chunk with
 * the source read again now, with the same bad-sector recovery as acquisition: the journal is not
 * evidence, so sectors it calls unreadable are read again (they may read now) and only the
 * sectors still unreadable are taken as zero-filled. The matching prefix feeds the hashers so that
 * their state is as if never interrupted; acquisition goes on from the first chunk that differs.
 */
async function replayPartial(
  journal: ResumeJournal,
  layout: ImageLayout,
  reader: SourceReader,
  ring: SlotRing,
  hasher: ParallelHasher,
  readErrors: ByteRange[],
  o: AcquireOptions,
  events: (m: string) => void,
): Promise<ResumeCheck> {
  const chunk = journal.settings.chunkSize;
  const available = Math.min(journal.bytesDone, RawImageWriter.partialBytes(layout));
  // Whole chunks keep O_DIRECT reads aligned; only the source's own end may cut a chunk short.
  const limit = available === layout.totalSize ? available : available - (available % chunk);
  if (limit === 0) return { partialBytes: 0, matchedBytes: 0, matched: true };
  const partial = RawImageWriter.resume(layout, limit);
  const files = partial.partialFiles;
  await partial.close();
  const image = new ImageSource(
    files[0]!,
    files.map((p) => ({ path: p, size: statSync(p).size })),
    { ownOutput: true },
  );
  const scratch = new SlotRing(1, chunk);
  if (reader.directFds.length > 0) scratch.alignFor(reader.directFds);
  let mismatch: { at: number; firstByte: number } | undefined;
  try {
    const r = await runPipeline({
      source: image,
      end: limit,
      ring,
      hasher,
      onProgress: (p) => o.onProgress?.('resume check', limit, p),
      inspect: async (view, offset) => {
        const again = scratch.view(0, view.length);
        const bad = await reader.readFully(again, offset);
        if (Buffer.compare(again, view) !== 0) {
          let i = 0;
          while (i < view.length && again[i] === view[i]) i++;
          mismatch = { at: offset, firstByte: offset + i };
          return false;
        }
        for (const b of bad) addRange(readErrors, b.offset, b.length);
        return true;
      },
    });
    if (!mismatch) return { partialBytes: limit, matchedBytes: r.bytesDone, matched: true };
    const { at, firstByte } = mismatch;
    const wasUnreadable = journal.readErrors.some((e) => firstByte >= e.offset && firstByte < e.offset + e.length);
    if (wasUnreadable) {
      events(`resume: sectors recorded as unreadable before the interruption read now (byte ${firstByte}); acquiring again from byte ${at}`);
      return { partialBytes: limit, matchedBytes: r.bytesDone, matched: true, mismatchAt: at, reason: 'sectors-now-readable' };
    }
    events(
      `WARNING: the partial image differs from the source from byte ${firstByte}: the source changed or was replaced, or the partial image was altered, since the interruption. ` +
        `Everything from byte ${at} is acquired again; the manifest and the custody ledger record this.`,
    );
    return { partialBytes: limit, matchedBytes: r.bytesDone, matched: false, mismatchAt: at, reason: 'source-changed' };
  } finally {
    image.close();
  }
}
