/** Report kinds, and writing a report so that no half-written PDF ever stands under its final name. */
import { existsSync } from 'node:fs';
import { CustosError } from '../src/errors';
import { sha256Hex } from '../src/custody/canonical';
import { writeFileAtomic } from '../src/fsutil';

export { acquisitionReport } from './acquisition';
export { verificationReport } from './verification';
export { custodyReport } from './custody';

export interface WrittenReport {
  kind: 'acquisition' | 'verification' | 'custody';
  path: string;
  size: number;
  sha256: string;
}

/**
 * Writes the PDF under a temporary name and links or renames it into place; an existing file is
 * kept unless `force`, and never replaced when it is a link or evidence being read.
 */
export function writeReport(kind: WrittenReport['kind'], path: string, pdf: Buffer, force = false): WrittenReport {
  if (existsSync(path) && !force) {
    throw new CustosError('OUTPUT_EXISTS', `${path} already exists`, { path, hint: 'Choose another --out, or pass --force to replace it.' });
  }
  writeFileAtomic(path, pdf, { replace: force });
  return { kind, path, size: pdf.length, sha256: sha256Hex(pdf) };
}
