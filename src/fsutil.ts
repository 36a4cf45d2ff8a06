/**
 * Every file custos writes or reads as a record goes through here. Writes are exclusive (a file is
 * created new, never truncated), never through a symbolic link, never onto evidence (src/protect.ts),
 * and checked for short writes; reads of records take regular files only, with a bound on their size.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CustosError, fromFsError } from './errors';
import { assertWritable } from './protect';

/** fsync of a folder, so that renames and new files in it survive a crash. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function wrap(err: unknown, path: string, doing: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ELOOP') {
    return new CustosError('UNSAFE_OUTPUT', `${path} is a symbolic link; custos never writes through a link`, {
      path,
      cause: err,
      hint: 'Remove the link, or choose another output name.',
    });
  }
  if (code === 'EEXIST') {
    return new CustosError('OUTPUT_EXISTS', `${path} already exists; custos never overwrites a file it did not create in this run`, {
      path,
      cause: err,
      hint: 'Choose another name or folder.',
    });
  }
  return fromFsError(err, path, doing) ?? err;
}

/** Creates `path` new (O_CREAT|O_EXCL|O_NOFOLLOW) after the evidence check; returns the descriptor. */
export function createExclusive(path: string, mode = 0o644, access: number = constants.O_WRONLY): number {
  assertWritable(path);
  try {
    return openSync(path, access | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (err) {
    throw wrap(err, path, 'creating it');
  }
}

/**
 * Opens a file this run (or an interrupted one) created, to go on writing it: never through a
 * link, only a regular file with no other hard link, never evidence.
 */
export function openExistingForWrite(path: string, access: number = constants.O_WRONLY, o: { ownRecord?: boolean } = {}): number {
  assertWritable(path, o);
  let fd: number;
  try {
    fd = openSync(path, access | constants.O_NOFOLLOW);
  } catch (err) {
    throw wrap(err, path, 'opening it for writing');
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.nlink !== 1) {
    closeSync(fd);
    throw new CustosError('UNSAFE_OUTPUT', `${path} is ${st.isFile() ? `a file with ${st.nlink} hard links` : 'not a regular file'}; custos only goes on writing files it created`, {
      path,
      hint: 'Something replaced this file since custos wrote it: move it away and start again.',
    });
  }
  return fd;
}

/** Writes all of `data` (at `position`, or at the file offset when null), looping over short writes. */
export function writeAll(fd: number, data: Uint8Array, position: number | null, path: string): void {
  let done = 0;
  while (done < data.length) {
    let n: number;
    try {
      n = writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
    } catch (err) {
      throw wrap(err, path, `writing ${data.length} bytes`);
    }
    if (n <= 0) throw new CustosError('IO_ERROR', `${path}: the write stopped after ${done} of ${data.length} bytes`, { path, hint: 'Check the destination (full, or failing).' });
    done += n;
  }
}

const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** Writes a whole new file: exclusive create, every byte written, fsync; removed again when anything fails. */
export function writeNewFile(path: string, data: string | Uint8Array, mode = 0o644): void {
  const fd = createExclusive(path, mode);
  try {
    writeAll(fd, bytesOf(data), 0, path);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw wrap(err, path, 'writing it');
  }
  closeSync(fd);
}

/**
 * Writes a file atomically: a new temporary file with an unpredictable name (exclusive, never a
 * link), fsync, then either link() to the final name, which fails rather than replace anything,
 * or, with `replace`, rename() over it after checking that the name is not a link or evidence.
 * The folder is fsynced, so the file survives a crash once this returns.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, o: { replace?: boolean; mode?: number } = {}): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) {
    throw new CustosError('FILE_NOT_FOUND', `${path}: the folder ${dir} does not exist`, { path, hint: 'Create the folder first, or name a file in an existing one.' });
  }
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeNewFile(tmp, data, o.mode ?? 0o644);
    assertWritable(path);
    if (o.replace) renameSync(tmp, path);
    else {
      linkSync(tmp, path);
      unlinkSync(tmp);
    }
    syncDir(dir);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw wrap(err, path, 'writing it');
  }
}

/**
 * Gives a finished file its final name: never over an existing file or link (the name was checked
 * free when the run started, so anything there now was planted), never onto evidence.
 */
export function renameIntoPlace(from: string, to: string): void {
  assertWritable(to);
  if (entryExists(to)) {
    throw new CustosError('OUTPUT_EXISTS', `${to} appeared while custos was writing ${basename(from)}; it is left alone`, {
      path: to,
      hint: 'Find out what created it; move it away, then run the same command with --resume.',
    });
  }
  try {
    renameSync(from, to);
  } catch (err) {
    // ENOENT here is the finished file gone (the final name was just seen free): name that file.
    const gone = (err as NodeJS.ErrnoException).code === 'ENOENT' && !entryExists(from);
    throw gone ? wrap(err, from, `renaming it to ${basename(to)}`) : wrap(err, to, `renaming ${basename(from)} into place`);
  }
}

/** True when anything (a file, a link, even a dangling one) has this name. */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates a folder and its missing parents (after the evidence check); returns the folders it
 * created, outermost first, so the caller can say so.
 */
export function ensureDir(path: string, mode = 0o755): string[] {
  const abs = resolve(path);
  const missing: string[] = [];
  for (let d = abs; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  if (missing.length > 0) assertWritable(join(missing[0]!, '.custos-probe'));
  for (const d of missing) {
    try {
      mkdirSync(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw wrap(err, d, 'creating the folder');
    }
  }
  try {
    if (!statSync(abs).isDirectory()) {
      throw new CustosError('INVALID_INPUT', `${path}: is not a folder`, { path, hint: 'Name a folder (it is created when missing).' });
    }
  } catch (err) {
    if (err instanceof CustosError) throw err;
    throw wrap(err, path, 'looking up the folder');
  }
  return missing;
}

/** "a manifest", "an image file": the noun with its indefinite article, for messages. */
function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** Bytes of records custos reads whole (manifests, case files, journals, certificates, keys): 64 MiB. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/**
 * Opens `path` for reading as a record: O_NONBLOCK, so a FIFO cannot hang the open, then only a
 * regular file is accepted (not a device such as /dev/zero, not a pipe). Returns the descriptor.
 */
export function openRegularForRead(path: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw fromFsError(err, path, `opening the ${what}`) ?? err;
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a pipe (FIFO)' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw new CustosError(st.isDirectory() ? 'IS_DIRECTORY' : 'NOT_A_FILE', `${path}: is ${kind}; ${withArticle(what)} is read only from a regular file`, {
      path,
      hint: `Name the ${what} file itself.`,
    });
  }
  return { fd, size: st.size };
}

/** Reads a whole record file, refusing anything but a regular file of at most `maxBytes` (the size field is not trusted). */
export function readBoundedFile(path: string, what: string, maxBytes = MAX_RECORD_BYTES): Buffer {
  const { fd, size } = openRegularForRead(path, what);
  try {
    const tooLarge = () =>
      new CustosError('INVALID_INPUT', `${path}: larger than ${maxBytes} bytes, too large for ${withArticle(what)}`, { path, hint: `Check that this is the ${what} you meant.` });
    if (size > maxBytes) throw tooLarge();
    const buf = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let done = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, done, buf.length - done, done);
      } catch (err) {
        throw fromFsError(err, path, `reading the ${what}`) ?? err;
      }
      if (n === 0) break;
      done += n;
      if (done > maxBytes) throw tooLarge();
      if (done === buf.length) {
        throw new CustosError('IO_ERROR', `${path}: the ${what} grew while it was being read`, { path, hint: 'Wait until whatever writes it has finished.' });
      }
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
