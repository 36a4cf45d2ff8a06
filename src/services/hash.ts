/** custos hash as a service: the hashes with their custody entry. */
import { join } from 'node:path';
import { canonicalBytes, sha256Hex } from '../custody/canonical';
import { ensureDir, writeNewFile } from '../fsutil';
import type { Algorithm } from '../hash/algorithms';
import { systemEnvironment } from '../host';
import { type FileHashes, hashFiles, type HashFilesOptions } from '../verify/hash-files';
import { type Custody, MAX_LISTED, record } from './session';

/** Canonical bytes of results an entry holds in full; more go to a results file the entry pins by hash. */
export const MAX_INLINE_RESULTS_BYTES = 192 * 1024;

/** Folder of a case for records too large for a ledger entry, each pinned by its SHA-256 in one. */
export const RECORDS_DIR = 'records';

/** Hashes files, recording what was hashed and the values. */
export async function hashRecorded(paths: string[], algorithms: Algorithm[], o: HashFilesOptions, c?: Custody): Promise<FileHashes[]> {
  const files = await hashFiles(paths, algorithms, o);
  if (c) await record(c, { action: 'hash', evidence: paths.slice(0, MAX_LISTED), details: hashDetails(c, files) });
  return files;
}

/**
 * The hashes as the entry records them: every file's when they fit; else the count, the first
 * ones, and the whole result (in the hash-result schema) as a file in the case folder, pinned by
 * its SHA-256, so a hash of ten thousand files is recorded as completely as one of ten.
 */
function hashDetails(c: Custody, files: FileHashes[]): Record<string, unknown> {
  const result = { files };
  if (files.length <= MAX_LISTED || canonicalBytes(result).length <= MAX_INLINE_RESULTS_BYTES) return result;
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const dir = join(c.caseDir, RECORDS_DIR);
  ensureDir(dir);
  const stamp = (c.env ?? systemEnvironment).now().toISOString().replace(/[-:.]/g, '');
  const path = join(dir, `hash-${stamp}-${sha256Hex(Buffer.from(text)).slice(0, 12)}.json`);
  writeNewFile(path, text);
  return { count: files.length, files: files.slice(0, MAX_LISTED), results: { path, sha256: sha256Hex(Buffer.from(text)) } };
}
