/** custos convert as a service: the derived copy with its custody entry. */
import { convert, type ConvertOptions, type ConvertResult } from '../convert/convert';
import { sha256Hex } from '../custody/canonical';
import { readBoundedFile } from '../fsutil';
import { type Custody, listedFiles, record } from './session';

/** Converts an image, recording the derived copy (its parent, the checked hashes, the new files) as a convert entry. */
export async function convertRecorded(o: ConvertOptions, c?: Custody): Promise<ConvertResult> {
  const r = await convert({ ...o, env: o.env ?? c?.env });
  if (c) {
    await record(c, {
      action: 'convert',
      evidence: [r.manifest.case.evidenceNumber ?? o.input],
      details: {
        input: o.input,
        from: r.parent.format,
        to: o.to,
        parent: { path: r.parent.path, hashes: r.parent.hashes, recordedBy: r.parent.recordedBy, ...(r.parent.manifest ? { manifest: r.parent.manifest } : {}) },
        hashes: r.hashes,
        outputs: listedFiles(r.outputs),
        manifest: { path: r.manifestPath, sha256: sha256Hex(readBoundedFile(r.manifestPath, 'manifest')) },
      },
    });
  }
  return r;
}

