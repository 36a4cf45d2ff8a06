/**
 * An acquisition from start to end: the plan checked (./plan), the outputs prepared off the
 * evidence, the source write-blocked and opened read-only, one pass through the stream engine
 * into the writer the format registry gives, checkpoints for --resume (./journal, ./resume), and
 * the record written before the files get their final names (./record).
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { CustosError, isCustosError } from '../errors';
import type { ByteRange, ImageWriter } from '../formats/types';
import { ensureDir, syncDir } from '../fsutil';
import { ParallelHasher } from '../hash/parallel';
import { type AcquisitionManifest, type AcquisitionSession, writeManifest } from '../manifest/manifest';
import { protectSource } from '../source/evidence';
import { SourceReader } from '../source/reader';
import { applyWriteBlock, readOnlyNow, systemBlockdev, type WriteBlockRecord } from '../source/writeblock';
import { digest } from '../stream/digest';
import { alignmentError, type PipelineProgress, runPipeline } from '../stream/pipeline';
import { SlotRing } from '../stream/ring';
import { toolInfo } from '../tool';
import { compareHashes } from '../verify/compare';
import { openImage } from '../formats/registry';
import { Checkpoints, loadJournal, rangesBelow, removeJournal, type ResumeJournal, sourceIdentity } from './journal';
import { type AcquireOptions, type AcquireResult, plan, type Plan, type ResumeCheck } from './plan';
import { RateSampler } from './progress';
import { iso, outputsOf, readErrorRecords, round3, runRecord, verificationCheck, writeWindows } from './record';
import { checkSameAcquisition, completeCommit, replayPartial, stoppedWhileCommitting } from './resume';

export { DEFAULT_SPLIT_SIZE, defaultBaseName, MAX_HASH_WINDOWS, safeName } from './plan';
export type { AcquireOptions, AcquireResult, ResumeCheck } from './plan';

/** Slots in the acquisition ring: 8 × 4 MiB measured best here (NOTES.md). */
const ACQUIRE_SLOTS = 8;

function openFlagsOf(reader: SourceReader): string[] {
  return ['O_RDONLY', ...(reader.direct ? ['O_DIRECT'] : []), ...(reader.kind === 'file' ? ['O_NOATIME'] : [])];
}

/**
 * Creates the output folder (off the evidence) and decides how this run starts: finishing one that
 * stopped while committing, resuming an interrupted one, or new; refuses anything else that exists.
 */
async function prepare(p: Plan): Promise<{ finished: AcquireResult } | { journal?: ResumeJournal }> {
  const { o, paths } = p;
  // Nothing is written before the output is known to be off the evidence (src/protect.ts).
  protectSource(o.source);
  for (const d of ensureDir(paths.outDir)) p.events(`created output folder ${d}`);
  if (existsSync(paths.manifest)) {
    const committing = stoppedWhileCommitting(paths.manifest);
    if (o.resume && committing) return { finished: await completeCommit(paths.manifest, paths.journal, p.events) };
    throw new CustosError('OUTPUT_EXISTS', `${paths.manifest} already exists; custos never overwrites a record`, {
      path: paths.manifest,
      hint: committing
        ? 'The acquisition stopped while its files were getting their final names: run the same command with --resume to finish it.'
        : 'Choose another --out folder or --name.',
    });
  }
  if (o.resume && !p.resumable) {
    throw new CustosError('USAGE', `--resume is not supported for ${o.format.toUpperCase()} acquisitions, except to finish one whose manifest was written`, {
      hint: 'Delete the BASE.E01.partial files and acquire again, or acquire as raw/split (resumable) and convert.',
    });
  }
  if (o.resume) {
    if (!existsSync(paths.journal)) {
      throw new CustosError('INVALID_INPUT', `nothing to resume: ${paths.journal} does not exist`, {
        path: paths.journal,
        hint: 'Run without --resume to start a new acquisition (or check --out and --name).',
      });
    }
    const journal = loadJournal(paths.journal);
    checkSameAcquisition(journal, p.info, p.settings, paths.journal);
    return { journal };
  }
  if (existsSync(paths.journal)) {
    throw new CustosError('OUTPUT_EXISTS', `${paths.journal} exists: an acquisition into ${p.layout.base} was interrupted`, {
      path: paths.journal,
      hint: 'Continue it with --resume (same command line), or delete its .resume.json and .partial files to start over.',
    });
  }
  return {};
}

/**
 * Acquires a source into an image of any format of the registry with every hash computed in the
 * same pass, bad sectors recovered and zero-filled, a resumable journal, optional verification,
 * and a schema-valid manifest written before the files get their final names.
 */
export async function acquire(options: AcquireOptions): Promise<AcquireResult> {
  const p = plan(options);
  const { o, env, events, info, paths, settings } = p;
  const prepared = await prepare(p);
  if ('finished' in prepared) return prepared.finished;
  const { journal } = prepared;

  const blockdev = o.blockdev ?? systemBlockdev;
  const sessionStart = env.now();
  const reader = SourceReader.open(o.source, { retries: o.retries, sectorSize: info.logicalSectorSize });
  let writer: ImageWriter | undefined;
  let hasher: ParallelHasher | undefined;
  try {
    let writeBlock: WriteBlockRecord = applyWriteBlock(info, { allowMounted: Boolean(o.allowMounted), openFlags: openFlagsOf(reader) }, blockdev);
    if (writeBlock.method === 'kernel-read-only-flag') events(`write-block: kernel read-only flag set on ${info.path} (was ${writeBlock.readOnlyBefore ? 'set' : 'not set'})`);
    if (writeBlock.method === 'not-set-mounted-read-write') {
      events(`WARNING: ${info.path} is mounted read-write; acquiring anyway (--allow-mounted) WITHOUT the kernel read-only flag, which would break the running system's writes`);
    }
    // E01 is bound by compression, not reading: a shorter ring keeps its workers within the memory budget.
    const ring = new SlotRing(p.resumable ? ACQUIRE_SLOTS : ACQUIRE_SLOTS / 2, p.chunkSize);
    if (reader.directFds.length > 0 && !ring.alignFor(reader.directFds)) throw alignmentError(o.source);
    hasher = new ParallelHasher(ring.buffer, o.algorithms, { segmentSize: settings.splitSize, windowSize: settings.windowSize });

    const readErrors: ByteRange[] = [];
    let start = 0;
    let resumeCheck: ResumeCheck | undefined;
    if (journal) {
      resumeCheck = await replayPartial(journal, p.format, p.layout, reader, ring, hasher, readErrors, o, events);
      start = resumeCheck.matchedBytes;
      writer = p.format.resume!(p.layout, start);
      events(`resume: ${start} bytes of the partial image match the source; continuing from there`);
    } else {
      const now = env.now();
      writer = await p.format.create(p.layout, {
        sectorSize: info.logicalSectorSize,
        compression: o.compression,
        segmentSize: o.segmentSize,
        caseFields: o.case,
        device: info.device,
        toolVersion: toolInfo().version,
        os: env.host().platform === 'linux' ? 'Linux' : env.host().platform,
        acquired: sessionStart,
        now,
        utcOffsetMinutes: env.utcOffsetMinutes(now),
      });
    }

    const sampler = new RateSampler();
    const t0 = Date.now();
    const previousSeconds = journal?.durationSeconds ?? 0;
    for (const s of journal?.rateSamples ?? []) sampler.samples.push(s);
    let latest: PipelineProgress = { bytesRead: start, bytesDone: start, readErrors };
    const session = (outcome: AcquisitionSession['outcome'], end: Date, to: number): AcquisitionSession => ({
      start: iso(sessionStart),
      end: iso(end),
      fromOffset: start,
      toOffset: to,
      outcome,
      ...(resumeCheck ? { resumeCheck } : {}),
    });
    const checkpoints = new Checkpoints(p.resumable ? paths.journal : undefined, o.checkpointInterval ?? 2000, (outcome) => ({
      journalVersion: 1,
      source: { realPath: info.realPath, kind: info.kind, sizeBytes: info.sizeBytes, ...sourceIdentity(info) },
      settings,
      case: o.case ?? {},
      bytesDone: latest.bytesDone,
      readErrors: rangesBelow(latest.readErrors, latest.bytesDone),
      sessions: [...(journal?.sessions ?? []), session(outcome, env.now(), latest.bytesDone)],
      writeBlock: journal?.writeBlock ?? writeBlock,
      rateSamples: sampler.samples,
      durationSeconds: previousSeconds + (Date.now() - t0) / 1000,
    }));
    checkpoints.save('interrupted');

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
          for (const r of readErrorRecords(ranges, info.logicalSectorSize)) {
            const last = r.firstSector + r.sectorCount - 1;
            events(`READ ERROR: sector${last > r.firstSector ? `s ${r.firstSector}-${last}` : ` ${r.firstSector}`} (bytes ${r.offset}-${r.offset + r.length - 1}) unreadable after ${o.retries} retries; zero-filled`);
          }
        },
        onProgress: (pr) => {
          latest = pr;
          sampler.add(previousSeconds + (Date.now() - t0) / 1000, pr.bytesDone);
          o.onProgress?.('acquire', info.sizeBytes, pr);
          checkpoints.maybeSave();
        },
      });
    } catch (err) {
      await writer.sync().catch(() => undefined);
      checkpoints.saveQuietly('failed');
      throw err;
    }
    latest = result;
    if (result.stopped) {
      await writer.sync();
      if (!p.resumable) {
        throw new CustosError('INTERRUPTED', `acquisition interrupted after ${result.bytesDone} of ${info.sizeBytes} bytes; the ${o.format.toUpperCase()} segments are left as .partial files`, {
          hint: 'This format cannot be resumed: delete the .partial files and acquire again.',
        });
      }
      checkpoints.save('interrupted');
      throw new CustosError('INTERRUPTED', `acquisition interrupted after ${result.bytesDone} of ${info.sizeBytes} bytes; the partial image and ${basename(paths.journal)} are kept`, {
        hint: 'Run the same command again with --resume to continue where it stopped.',
      });
    }
    // The journal now says everything was read: a stop while finishing resumes with a check, not a re-read.
    checkpoints.saveQuietly('interrupted');

    o.onPhase?.('finish');
    const digests = await hasher.finish();
    const errors = readErrorRecords(result.readErrors, info.logicalSectorSize);
    const files = await writer.finish({ md5: digests.hashes.md5 ?? '', sha1: digests.hashes.sha1 ?? '', readErrors: errors });
    const sessionEnd = env.now();
    const acquireSeconds = previousSeconds + (Date.now() - t0) / 1000;
    const outputs = await outputsOf(p.format, files, digests);
    const hashWindows = settings.windowSize > 0 ? writeWindows(paths.windows, settings.windowSize, o.algorithms, digests.windows, info.sizeBytes, Boolean(journal)) : undefined;
    writeBlock = { ...(journal?.writeBlock ?? writeBlock), readOnlyAtEnd: readOnlyNow(info, blockdev) };
    const manifest: AcquisitionManifest = {
      ...runRecord(env, [...(journal?.sessions ?? []), session('complete', sessionEnd, info.sizeBytes)], sessionEnd, acquireSeconds),
      case: o.case ?? {},
      source: info,
      writeBlock,
      acquisition: {
        format: o.format,
        ...p.format.settings(p.layout, o),
        chunkSize: p.chunkSize,
        sectorSize: info.logicalSectorSize,
        retries: o.retries,
        bytesRead: info.sizeBytes,
        bytesWritten: files.reduce((n, f) => n + f.size, 0),
        resumed: Boolean(journal),
        directIo: reader.direct,
      },
      hashes: digests.hashes,
      ...(hashWindows ? { hashWindows } : {}),
      readErrors: errors,
      outputs,
      verification: {},
      rateSamples: sampler.samples,
    };
    // The record first, then the final names: a stop in between leaves a manifest and .partial
    // files, which --resume checks against the manifest and renames (completeCommit).
    o.onPhase?.('record');
    writeRecord(paths.manifest, manifest, p.resumable);
    o.onPhase?.('commit');
    await writer.commit();
    if (p.resumable) removeJournal(paths.journal);
    syncDir(paths.outDir);
    const durations: AcquireResult['durations'] = { acquireSeconds: round3(acquireSeconds) };

    if (o.verify) {
      const r = await digest(openImage(files[0]!.path), info.sizeBytes, o.algorithms, { onProgress: (pr) => o.onProgress?.('verify image', info.sizeBytes, pr) });
      manifest.verification.image = verificationCheck(compareHashes(digests.hashes, r.hashes), r.hashes, env.now(), r.durationSeconds);
      durations.verifyImageSeconds = round3(r.durationSeconds);
      writeManifest(paths.manifest, manifest, { replace: true });
    }
    if (o.verifySource) {
      const again = SourceReader.open(o.source, { retries: o.retries, sectorSize: info.logicalSectorSize, resumable: false });
      const r = await digest(again, info.sizeBytes, o.algorithms, { maxRate: o.maxRate, onProgress: (pr) => o.onProgress?.('verify source', info.sizeBytes, pr) });
      manifest.verification.source = { ...verificationCheck(compareHashes(digests.hashes, r.hashes), r.hashes, env.now(), r.durationSeconds), readErrors: r.readErrors };
      durations.verifySourceSeconds = round3(r.durationSeconds);
      writeManifest(paths.manifest, manifest, { replace: true });
    }
    return {
      manifestPath: paths.manifest,
      manifest,
      outputs: files.map((f, i) => ({ path: f.path, size: f.size, hashes: outputs[i]!.hashes })),
      hashes: digests.hashes,
      readErrors: manifest.readErrors,
      verification: manifest.verification,
      durations,
      ...(hashWindows ? { windowsPath: paths.windows } : {}),
      ...(resumeCheck ? { resumeCheck } : {}),
    };
  } finally {
    await writer?.close();
    await hasher?.terminate();
    reader.close();
  }
}

/** Writes a new manifest; a full disk here leaves a complete image whose record can be written by --resume. */
function writeRecord(path: string, manifest: AcquisitionManifest, resumable: boolean): void {
  try {
    writeManifest(path, manifest);
  } catch (err) {
    if (!isCustosError(err) || err.code !== 'IO_ERROR') throw err;
    throw new CustosError('IO_ERROR', `the image is complete, but its manifest could not be written: ${err.message}`, {
      path,
      cause: err,
      hint: resumable
        ? 'Free space on the destination, then run the same command with --resume: it checks the image against the source and writes the manifest.'
        : 'Free space on the destination and acquire again (E01 cannot be resumed before its manifest exists).',
    });
  }
}
