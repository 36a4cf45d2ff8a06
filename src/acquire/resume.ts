/**
 * Going on after an interruption without trusting what it left: the journal must describe the
 * same acquisition, the partial image is compared with the source read again, and a run that
 * stopped between its manifest and its final file names is finished only after each file is
 * checked against the manifest.
 */
import { closeSync, existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CustosError } from '../errors';
import { imageFileNames, PARTIAL_SUFFIX } from '../formats/files';
import { ImageSource } from '../formats/image-source';
import { addRange, type ByteRange, type ImageFormat, type ImageLayout } from '../formats/types';
import { openRegularForRead, renameIntoPlace, syncDir } from '../fsutil';
import { ALGORITHMS } from '../hash/algorithms';
import type { ParallelHasher } from '../hash/parallel';
import { readManifest } from '../manifest/manifest';
import type { SourceInfo } from '../source/info';
import type { SourceReader } from '../source/reader';
import { digest } from '../stream/digest';
import { runPipeline } from '../stream/pipeline';
import { SlotRing } from '../stream/ring';
import { allMatch, compareHashes } from '../verify/compare';
import { type JournalSettings, removeJournal, type ResumeJournal, sourceIdentity } from './journal';
import type { AcquireOptions, AcquireResult, ResumeCheck } from './plan';

/** True when a manifest's files still have .partial names: the run stopped between writing the manifest and renaming them. */
export function stoppedWhileCommitting(manifestPath: string): boolean {
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
export async function completeCommit(manifestPath: string, journalPath: string, events: (m: string) => void): Promise<AcquireResult> {
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
      const { hashes } = await digest(ImageSource.ofFiles(partial, [partial], 'raw', { ownOutput: true }), size, algorithms);
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
export function checkSameAcquisition(j: ResumeJournal, info: SourceInfo, s: JournalSettings, path: string): void {
  const differ: string[] = [];
  if (j.source.sizeBytes !== info.sizeBytes) differ.push(`source size ${info.sizeBytes} (was ${j.source.sizeBytes})`);
  const id = sourceIdentity(info);
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
export async function replayPartial(
  journal: ResumeJournal,
  format: ImageFormat,
  layout: ImageLayout,
  reader: SourceReader,
  ring: SlotRing,
  hasher: ParallelHasher,
  readErrors: ByteRange[],
  o: AcquireOptions,
  events: (m: string) => void,
): Promise<ResumeCheck> {
  const chunk = journal.settings.chunkSize;
  const available = Math.min(journal.bytesDone, format.partialBytes?.(layout) ?? 0);
  // Whole chunks keep O_DIRECT reads aligned; only the source's own end may cut a chunk short.
  const limit = available === layout.totalSize ? available : available - (available % chunk);
  if (limit === 0) return { partialBytes: 0, matchedBytes: 0, matched: true };
  await format.resume!(layout, limit).close();
  const files = imageFileNames(layout).map((n) => join(layout.dir, n + PARTIAL_SUFFIX));
  const image = new ImageSource(
    files[0]!,
    files.map((p) => ({ path: p, size: statSync(p).size })),
    layout.format,
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
