/** custos acquire as a service: the acquisition with its custody entries, and its outcome. */
import { acquire, type AcquireOptions, type AcquireResult } from '../acquire/acquire';
import { sha256Hex } from '../custody/canonical';
import type { Outcome } from '../errors';
import { readBoundedFile } from '../fsutil';
import { protectSource } from '../source/evidence';
import { anchorAfterAcquisition } from './anchor';
import { type Custody, failure, listedFiles, record } from './session';

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
    // A case that names a TSA gets its ledger checkpointed and timestamped now (never failing the acquisition).
    await anchorAfterAcquisition(c, o.onEvent);
    return r;
  } catch (err) {
    await record(c, { action: 'acquire-failed', evidence, details: { source: o.source, ...failure(err) } });
    throw err;
  }
}

/**
 * What an acquire-complete entry records: the hashes and a summary; long lists (read errors,
 * many output files) stay in the manifest, which the entry pins by its SHA-256, so an entry stays
 * small whatever the evidence (8,000 bad ranges once made an entry of 553 KB that was refused).
 */
export function acquisitionDetails(source: string, r: AcquireResult): Record<string, unknown> {
  const sectors = r.readErrors.reduce((n, e) => n + e.sectorCount, 0);
  return {
    source,
    sourceSize: r.manifest.source.sizeBytes,
    hashes: r.hashes,
    readErrors: { ranges: r.readErrors.length, sectors },
    outputs: listedFiles(r.outputs),
    manifest: { path: r.manifestPath, sha256: sha256Hex(readBoundedFile(r.manifestPath, 'manifest')) },
    verification: r.verification,
    writeBlock: { method: r.manifest.writeBlock.method, readOnlyAtEnd: r.manifest.writeBlock.readOnlyAtEnd },
    ...(r.manifest.time.sessions.length > 1 ? { sessions: r.manifest.time.sessions.length } : {}),
    ...(r.resumeCheck ? { resumeCheck: r.resumeCheck } : {}),
  };
}


/** How an acquisition ended: a verification mismatch (4), else unreadable sectors (6), else ok. */
export function acquisitionOutcome(r: AcquireResult): Outcome {
  if (Object.values(r.verification).some((v) => v?.result === 'mismatch')) return 'mismatch';
  return r.readErrors.length > 0 ? 'read-errors' : 'ok';
}
