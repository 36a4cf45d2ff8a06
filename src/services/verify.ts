/** custos verify as a service: the verification with its custody entry, and its outcome. */
import { sha256Hex } from '../custody/canonical';
import type { Outcome } from '../errors';
import { readBoundedFile } from '../fsutil';
import { readManifest } from '../manifest/manifest';
import { verifyTarget, type VerifyOptions, type VerifyResult } from '../verify/verify';
import { type Custody, listed, MAX_LISTED, record } from './session';

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
          files: listed(files),
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


/** A verification's outcome: any mismatch, damage or differing window is a mismatch (4). */
export const verificationOutcome = (r: VerifyResult): Outcome => (r.verdict === 'match' ? 'ok' : 'mismatch');
