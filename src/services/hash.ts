/** custos hash as a service: the hashes with their custody entry. */
import type { Algorithm } from '../hash/algorithms';
import { type FileHashes, hashFiles, type HashFilesOptions } from '../verify/hash-files';
import { type Custody, record } from './session';

/** Hashes files, recording what was hashed and the values. */
export async function hashRecorded(paths: string[], algorithms: Algorithm[], o: HashFilesOptions, c?: Custody): Promise<FileHashes[]> {
  const files = await hashFiles(paths, algorithms, o);
  if (c) await record(c, { action: 'hash', evidence: paths, details: { files } });
  return files;
}

