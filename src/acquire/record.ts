/**
 * The acquisition's record: the manifest built from what the run found (schemas/
 * acquisition-manifest.schema.json), the hash-windows file beside it, each output file's own
 * hashes, and the verification results added afterwards.
 */
import { CustosBug } from '../errors';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { ImageSource } from '../formats/image-source';
import type { ByteRange, ImageFormat, OutputFile } from '../formats/types';
import { writeFileAtomic } from '../fsutil';
import type { Algorithm } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import type { StreamDigests } from '../hash/parallel';
import { type Environment, formatOffset, localTimestamp } from '../host';
import type { AcquisitionManifest, AcquisitionSession, ReadErrorRecord, VerificationCheck } from '../manifest/manifest';
import { digest } from '../stream/digest';
import { toolInfo } from '../tool';
import { allMatch, type HashComparison } from '../verify/compare';

/** RFC 3339 UTC without milliseconds, as the manifest records instants. */
export const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
export const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Unreadable byte ranges as the manifest lists them: bytes and whole sectors. */
export function readErrorRecords(ranges: readonly ByteRange[], sectorSize: number): ReadErrorRecord[] {
  return ranges.map((r) => ({
    offset: r.offset,
    length: r.length,
    firstSector: Math.floor(r.offset / sectorSize),
    sectorCount: Math.ceil((r.offset + r.length) / sectorSize) - Math.floor(r.offset / sectorSize),
  }));
}

/**
 * Each output file with its own hashes: raw and split files hold the media, so theirs are the
 * media's (per segment for split); a container's (E01) are of its own bytes, hashed from the
 * finished .partial file.
 */
export async function outputsOf(format: ImageFormat, files: readonly OutputFile[], digests: StreamDigests): Promise<AcquisitionManifest['outputs']> {
  const out: AcquisitionManifest['outputs'] = [];
  for (const [i, f] of files.entries()) {
    let hashes: HashSet;
    if (format.filesHoldMedia) {
      const own = files.length > 1 ? digests.segments[i] : digests.hashes;
      // A segment without its own hashes would be recorded with the whole media's: wrong, never written.
      if (!own) throw new CustosBug(`no hashes were computed for ${f.name}, segment ${i + 1} of ${files.length}`);
      hashes = own;
    }
    else {
      const at = f.partialPath ?? f.path;
      hashes = (await digest(ImageSource.ofFiles(at, [at], 'raw', { ownOutput: true }), f.size, ['sha256'])).hashes;
    }
    out.push({ name: f.name, size: f.size, hashes });
  }
  return out;
}

/** Writes BASE.windows.json (dcfldd's hashwindow, every algorithm) and returns what the manifest records of it. */
export function writeWindows(path: string, windowSize: number, algorithms: readonly Algorithm[], windows: readonly HashSet[], mediaSize: number, replace: boolean): NonNullable<AcquisitionManifest['hashWindows']> {
  const text = `${JSON.stringify(
    {
      windowSize,
      algorithms,
      windows: windows.map((h, i) => ({ index: i, offset: i * windowSize, length: Math.min(windowSize, mediaSize - i * windowSize), hashes: h })),
    },
    null,
    1,
  )}\n`;
  writeFileAtomic(path, text, { replace });
  return { windowSize, count: windows.length, file: basename(path), sha256: createHash('sha256').update(text).digest('hex') };
}

/** The parts of the manifest about the run itself: tool, command line, host, and the times of every session. */
export function runRecord(env: Environment, sessions: AcquisitionSession[], end: Date, seconds: number): Pick<AcquisitionManifest, 'manifestVersion' | 'status' | 'tool' | 'commandLine' | 'host' | 'time'> {
  const firstStart = new Date(sessions[0]!.start);
  const offset = env.utcOffsetMinutes(firstStart);
  return {
    manifestVersion: 1,
    status: 'complete',
    tool: toolInfo(),
    commandLine: env.commandLine(),
    host: env.host(),
    time: {
      start: iso(firstStart),
      end: iso(end),
      timeZone: env.timeZone(),
      utcOffset: formatOffset(offset),
      startLocal: localTimestamp(firstStart, offset),
      endLocal: localTimestamp(end, env.utcOffsetMinutes(end)),
      durationSeconds: round3(seconds),
      sessions,
    },
  };
}

/** A verification result as the manifest records it. */
export function verificationCheck(c: readonly HashComparison[], hashes: HashSet, at: Date, seconds: number): VerificationCheck {
  return { result: allMatch(c) ? 'match' : 'mismatch', at: iso(at), durationSeconds: round3(seconds), hashes };
}
