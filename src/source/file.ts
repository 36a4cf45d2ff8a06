import { promises as fsp, type Stats } from 'node:fs';
import { CustosError, fromFsError } from '../errors';

/** What a readable evidence path turned out to be. */
export type SourceKind = 'file' | 'block-device';

/** Classifies a stat result, or explains why the path cannot be read as evidence. */
export function classify(path: string, st: Stats): SourceKind {
  if (st.isFile()) return 'file';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isDirectory()) {
    throw new CustosError('IS_DIRECTORY', `${path}: is a directory, not a file`, {
      path,
      hint: 'Name the files inside it, e.g. with a shell glob (dir/*).',
    });
  }
  throw new CustosError('NOT_A_FILE', `${path}: is not a regular file or block device`, {
    path,
    hint: 'custos reads regular files and block devices; copy other inputs to a file first.',
  });
}

/** Checks that `path` exists and can be read as evidence, without opening it. */
export async function checkReadable(path: string): Promise<SourceKind> {
  let st: Stats;
  try {
    st = await fsp.stat(path);
  } catch (err) {
    throw fromFsError(err, path, 'looking it up') ?? err;
  }
  return classify(path, st);
}
