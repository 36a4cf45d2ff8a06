/** The evidence-handling commands with their chain-of-custody entries: the one place where acquisition, verification and the ledger meet. */
import { acquire, type AcquireOptions, type AcquireResult } from './acquire/acquire';
import { fromFsError, isCustosError } from './errors';
import { statSync } from 'node:fs';
import { type Environment, systemEnvironment } from './host';
import type { Algorithm } from './hash/algorithms';
import { describeSource, type SourceInfo } from './source/info';
import { protectSource } from './source/evidence';
import { detectFormat } from './formats/registry';
import { convert, type ConvertOptions, type ConvertResult } from './convert/convert';
import { type FileHashes, hashFiles, type HashFilesOptions } from './verify/hash-files';
import { verifyTarget, type VerifyOptions, type VerifyResult } from './verify/verify';
import { sha256Hex } from './custody/canonical';
import { readBoundedFile } from './fsutil';
import { readManifest } from './manifest/manifest';
import { custosHome, loadSigner, type Signer } from './custody/identity';
import { appendEntry, type EntryInput, type LedgerEntry, protectCaseRecords } from './custody';

/** Where and as whom evidence handling is recorded. */
export interface Custody {
  caseDir: string;
  signer: Signer;
  purpose?: string;
  env?: Environment;
}

/** Opens the signer for a case folder (identity from CUSTOS_HOME, key unlocked with the passphrase). */
export function openCustody(o: { caseDir: string; identity?: string; passphrase: string; purpose?: string; home?: string; env?: Environment }): Custody {
  const env = o.env ?? systemEnvironment;
  protectCaseRecords(o.caseDir);
  return { caseDir: o.caseDir, signer: loadSigner(o.home ?? custosHome(), o.identity, o.passphrase, env.now()), purpose: o.purpose, env };
}

/** Appends one entry for this custody session. */
export function record(c: Custody, input: EntryInput): Promise<LedgerEntry> {
  return appendEntry(c.caseDir, { ...input, ...(c.purpose && !input.purpose ? { purpose: c.purpose } : {}) }, c.signer, c.env);
}

function failure(err: unknown): Record<string, unknown> {
  return isCustosError(err) ? { error: { code: err.code, message: err.message } } : { error: { code: 'INTERNAL', message: String((err as Error)?.message ?? err) } };
}

/** Acquires, recording acquire-start before the first read and acquire-complete (or -failed) after. */
export async function acquireRecorded(o: AcquireOptions, c?: Custody): Promise<AcquireResult> {
  if (!c) return acquire(o);
  // Before the first entry is written: the case folder must not be on the evidence either.
  protectSource(o.source);
  const evidence = [o.case?.evidenceNumber ?? o.source];
  await record(c, { action: 'acquire-start', evidence, details: { source: o.source, outDir: o.outDir, format: o.format, algorithms: o.algorithms, resume: Boolean(o.resume) } });
  try {
    const r = await acquire({ ...o, env: o.env ?? c.env });
    await record(c, { action: 'acquire-complete', evidence, details: acquisitionDetails(o.source, r) });
    return r;
  } catch (err) {
    await record(c, { action: 'acquire-failed', evidence, details: { source: o.source, ...failure(err) } });
    throw err;
  }
}

/** Files listed in full in an entry; beyond this, a count (the manifest, pinned by its hash, lists them all). */
const MAX_LISTED = 20;

/**
 * What an acquire-complete entry records: the hashes and a summary; long lists (read errors,
 * many output files) stay in the manifest, which the entry pins by its SHA-256, so an entry stays
 * small whatever the evidence (8,000 bad ranges once made an entry of 553 KB that was refused).
 */
export function acquisitionDetails(source: string, r: AcquireResult): Record<string, unknown> {
  const sectors = r.readErrors.reduce((n, e) => n + e.sectorCount, 0);
  const outputs = r.outputs.map((f) => ({ path: f.path, size: f.size, hashes: f.hashes }));
  return {
    source,
    sourceSize: r.manifest.source.sizeBytes,
    hashes: r.hashes,
    readErrors: { ranges: r.readErrors.length, sectors },
    outputs: outputs.length <= MAX_LISTED ? outputs : { count: outputs.length, bytes: outputs.reduce((n, f) => n + f.size, 0), first: outputs.slice(0, MAX_LISTED) },
    manifest: { path: r.manifestPath, sha256: sha256Hex(readBoundedFile(r.manifestPath, 'manifest')) },
    verification: r.verification,
    writeBlock: { method: r.manifest.writeBlock.method, readOnlyAtEnd: r.manifest.writeBlock.readOnlyAtEnd },
    ...(r.manifest.time.sessions.length > 1 ? { sessions: r.manifest.time.sessions.length } : {}),
    ...(r.resumeCheck ? { resumeCheck: r.resumeCheck } : {}),
  };
}

/** Converts an image, recording the derived copy (its parent, the checked hashes, the new files) as a convert entry. */
export async function convertRecorded(o: ConvertOptions, c?: Custody): Promise<ConvertResult> {
  const r = await convert({ ...o, env: o.env ?? c?.env });
  if (c) {
    const outputs = r.outputs.map((f) => ({ path: f.path, size: f.size, hashes: f.hashes }));
    await record(c, {
      action: 'convert',
      evidence: [r.manifest.case.evidenceNumber ?? o.input],
      details: {
        input: o.input,
        from: r.parent.format,
        to: o.to,
        parent: { path: r.parent.path, hashes: r.parent.hashes, recordedBy: r.parent.recordedBy, ...(r.parent.manifest ? { manifest: r.parent.manifest } : {}) },
        hashes: r.hashes,
        outputs: outputs.length <= MAX_LISTED ? outputs : { count: outputs.length, bytes: outputs.reduce((n, f) => n + f.size, 0), first: outputs.slice(0, MAX_LISTED) },
        manifest: { path: r.manifestPath, sha256: sha256Hex(readBoundedFile(r.manifestPath, 'manifest')) },
      },
    });
  }
  return r;
}

/** Verifies, recording the result (each algorithm's comparison) as a verify entry. */
export async function verifyRecorded(target: string, o: VerifyOptions, c?: Custody): Promise<VerifyResult> {
  const r = await verifyTarget(target, o);
  if (c) {
    const evidenceNumber = r.manifest ? readManifest(r.manifest).case.evidenceNumber : undefined;
    const files = r.image.files.map((f) => f.path);
    await record(c, {
      action: 'verify',
      evidence: [evidenceNumber ?? target],
      details: {
        target,
        ...(r.manifest ? { manifest: { path: r.manifest, sha256: sha256Hex(readBoundedFile(r.manifest, 'manifest')) } } : {}),
        verdict: r.verdict,
        image: {
          size: r.image.size,
          files: files.length <= MAX_LISTED ? files : { count: files.length, first: files.slice(0, MAX_LISTED) },
          comparisons: r.image.comparisons,
          ...(r.image.damaged ? { damaged: { count: r.image.damaged.count, first: r.image.damaged.ranges.slice(0, MAX_LISTED) } } : {}),
          ...(r.image.windows ? { windowsDiffering: r.image.windows.differing.length } : {}),
          ...(r.image.segments ? { segmentsDiffering: r.image.segments.filter((s) => s.comparisons.some((x) => !x.match)).map((s) => s.name).slice(0, MAX_LISTED) } : {}),
        },
        ...(r.source
          ? { source: { path: r.source.path, comparisons: r.source.comparisons, readErrors: { ranges: r.source.readErrors.length, bytes: r.source.readErrors.reduce((n, e) => n + e.length, 0) } } }
          : {}),
      },
    });
  }
  return r;
}

/** Hashes files, recording what was hashed and the values. */
export async function hashRecorded(paths: string[], algorithms: Algorithm[], o: HashFilesOptions, c?: Custody): Promise<FileHashes[]> {
  const files = await hashFiles(paths, algorithms, o);
  if (c) await record(c, { action: 'hash', evidence: paths, details: { files } });
  return files;
}

/** What `custos info` reports: a source's facts, or what an image of a format with its own records says about itself. */
export type Described = SourceInfo | ({ kind: string } & Record<string, unknown>);

/** Describes a source, or an image (E01, split set: detected by content) by what it records, without hashing. */
export function describeAny(path: string): Described {
  if (statSync(path).isFile()) {
    const format = detectFormat(path);
    if (format.describe) return format.describe(path);
  }
  return describeSource(path, { hiddenAreas: true });
}

/** Describes a source or an image, recording that it was examined. */
export async function infoRecorded(path: string, c?: Custody): Promise<Described> {
  let info: Described;
  try {
    info = describeAny(path);
  } catch (err) {
    throw fromFsError(err, path, 'looking it up') ?? err;
  }
  if (c) await record(c, { action: 'info', evidence: [path], details: { source: info } });
  return info;
}
