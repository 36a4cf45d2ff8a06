/**
 * Split image sets by their names: from any one segment, the complete ordered set, as custos,
 * dc3dd (ofs=), dcfldd (split=) and split(1) name them.
 */
import { type Dir, type Dirent, opendirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CustosError, fromFsError, isCustosError } from '../errors';

/**
 * Finds the complete split image that `path` belongs to, in order, from any one of its segments:
 * BASE.001, BASE.002, … (custos, dcfldd splitformat=WIN, dc3dd ofs=BASE.111), sets starting at
 * BASE.000 (dc3dd ofs=BASE.000, dcfldd split=, split -d), wider numbers (BASE.0000) and letters
 * as split(1) and dc3dd ofs=BASE.aa write them (BASE.aa, BASE.ab, …, BASE.aaa). The set stops at the
 * first gap; a `path` after a gap, or a set whose first segment is missing, is refused naming the
 * missing file. Three to six digits always name a segment; letters and one or two digits only when
 * the set's first segment or a neighbour exists, so a lone `disk.img` is an image of one file.
 * The folder is listed once, and at most 100,000 segments are accepted.
 */
export function findSegments(path: string): string[] {
  const MAX_SEGMENTS = 100_000;
  const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
  type Kind = 'digits' | 'letters';
  const parse = (name: string) => {
    const m = /^([^]+)\.([0-9]{1,6}|[a-z]{1,8})$/.exec(name);
    if (!m) return undefined;
    const [, stem, suffix] = m as unknown as [string, string, string];
    if (/^[0-9]/.test(suffix)) return { stem, kind: 'digits' as Kind, width: suffix.length, index: Number(suffix) };
    let index = 0;
    for (const c of suffix) index = index * 26 + (c.charCodeAt(0) - 97);
    return { stem, kind: 'letters' as Kind, width: suffix.length, index };
  };
  const given = basename(path);
  const seg = parse(given);
  if (!seg) return [path];
  const nameAt = (index: number): string | undefined => {
    if (index < 0) return undefined;
    if (seg.kind === 'digits') {
      const digits = String(index);
      return digits.length > seg.width ? undefined : `${seg.stem}.${digits.padStart(seg.width, '0')}`;
    }
    if (index >= 26 ** seg.width) return undefined;
    let suffix = '';
    for (let i = 0, n = index; i < seg.width; i++, n = Math.floor(n / 26)) suffix = LETTERS[n % 26] + suffix;
    return `${seg.stem}.${suffix}`;
  };
  const fsProblem = (err: unknown, at: string, doing: string): CustosError =>
    isCustosError(err)
      ? err
      : (fromFsError(err, at, doing) ??
        new CustosError('IO_ERROR', `${at}: ${(err as NodeJS.ErrnoException)?.code ?? 'error'} while ${doing}: ${(err as Error)?.message ?? String(err)}`, {
          path: at,
          cause: err,
          hint: 'Check the folder and the storage it is on.',
        }));

  // One pass over the folder, keeping only names of the same stem, kind and width (bounded).
  const dir = dirname(path);
  const names = new Set<string>();
  const prefix = `${seg.stem}.`;
  let listing: Dir;
  try {
    listing = opendirSync(dir);
  } catch (err) {
    throw fsProblem(err, dir, 'listing the folder of a split image');
  }
  try {
    for (;;) {
      let entry: Dirent | null;
      try {
        entry = listing.readSync();
      } catch (err) {
        throw fsProblem(err, dir, 'listing the folder of a split image');
      }
      if (entry === null) break;
      const name = entry.name;
      if (name.length !== prefix.length + seg.width || !name.startsWith(prefix)) continue;
      const other = parse(name);
      if (!other || other.kind !== seg.kind || other.stem !== seg.stem) continue;
      names.add(name);
      if (names.size > MAX_SEGMENTS) {
        throw new CustosError('INVALID_INPUT', `${path}: more than ${MAX_SEGMENTS} files in ${dir} are named like segments of ${seg.stem}`, {
          path,
          hint: `A split image has at most ${MAX_SEGMENTS} segments: move unrelated files away, or join the segments first.`,
        });
      }
    }
  } finally {
    listing.closeSync();
  }

  // Digits start at 0 when a 0 segment exists (dc3dd ofs=BASE.000, dcfldd split=, split -d), else at 1.
  const start = seg.kind === 'letters' || names.has(nameAt(0)!) ? 0 : 1;
  const first = nameAt(start)!;
  const strong = seg.kind === 'digits' && seg.width >= 3;
  const exists = (index: number) => {
    const n = nameAt(index);
    return n !== undefined && names.has(n);
  };
  if (!strong && !names.has(first) && !exists(seg.index - 1) && !exists(seg.index + 1)) return [path];
  if (!names.has(given)) {
    throw new CustosError('FILE_NOT_FOUND', `${path}: no such file or directory`, { path, hint: 'Check the path; quote it if it contains spaces.' });
  }
  const out: string[] = [];
  for (let i = start; exists(i); i++) out.push(join(dir, nameAt(i)!));
  if (out.length === 0) {
    throw new CustosError('FILE_NOT_FOUND', `${path}: the first segment ${first} of this split image is missing`, {
      path,
      hint: `Put every segment of the split image, from ${first} on, in the same folder.`,
    });
  }
  if (seg.index >= start + out.length) {
    const missing = nameAt(start + out.length)!;
    throw new CustosError('FILE_NOT_FOUND', `${path}: segment ${missing} is missing, so ${given} is not part of the complete split image (${first} to ${basename(out[out.length - 1]!)} before the gap)`, {
      path,
      hint: `Restore ${missing} beside the other segments, then name any segment of the image.`,
    });
  }
  return out;
}
