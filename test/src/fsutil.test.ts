/**
 * The file helpers every write and every record read goes through: files created new and never
 * truncated, short writes looped over (and a full disk reported, the half-written file removed),
 * atomic writes that name a missing folder, final renames that never replace anything, folders
 * created with their parents, and records read only from regular files of bounded size, refused
 * when they grow while read.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createExclusive,
  ensureDir,
  entryExists,
  openExistingForWrite,
  readBoundedFile,
  renameIntoPlace,
  writeAll,
  writeFileAtomic,
  writeNewFile,
} from '../../src/fsutil';
import { forgetProtectedEvidence } from '../../src/protect';
import { hasTool, isRoot, makeTempDir, pseudoRandomBytes } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());
afterEach(() => forgetProtectedEvidence());

let n = 0;
/** A new empty folder for one test. */
const fresh = () => {
  const d = join(tmp.dir, `t${n++}`);
  mkdirSync(d);
  return d;
};

describe('files are created new and written whole', () => {
  test('files are created new: an existing name is refused unless replacing was asked for', () => {
    const p = join(tmp.dir, 'exists.json');
    writeFileSync(p, 'old');
    expect(() => writeNewFile(p, 'new')).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(() => writeFileAtomic(p, 'new')).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(readFileSync(p, 'utf8')).toBe('old');
    writeFileAtomic(p, 'new', { replace: true });
    expect(readFileSync(p, 'utf8')).toBe('new');
  });

  test('a file that custos goes on writing must have a single link', () => {
    const p = join(tmp.dir, 'partial');
    writeFileSync(p, 'data');
    linkSync(p, join(tmp.dir, 'partial-twin'));
    expect(() => openExistingForWrite(p)).toThrow(/a file with 2 hard links/);
  });

  test('openExistingForWrite: a folder is not a file custos goes on writing; a missing file is named', () => {
    const d = fresh();
    expect(() => openExistingForWrite(d, constants.O_RDONLY)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: `${d} is not a regular file; custos only goes on writing files it created` }));
    expect(() => openExistingForWrite(join(d, 'gone'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND', path: join(d, 'gone') }));
    const own = join(d, 'own');
    writeFileSync(own, 'abc');
    const fd = openExistingForWrite(own);
    try {
      writeAll(fd, Buffer.from('XY'), 1, own);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(own, 'utf8')).toBe('aXY');
  });

  test('createExclusive gives the mode asked for and never opens an existing name', () => {
    const d = fresh();
    const p = join(d, 'key.pem');
    closeSync(createExclusive(p, 0o600));
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(() => createExclusive(p)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS', message: expect.stringContaining(`${p} already exists`) }));
  });

  test('writeNewFile and writeFileAtomic write every byte (8 MiB, compared with the data)', () => {
    const d = fresh();
    const data = pseudoRandomBytes(8 << 20, 41);
    writeNewFile(join(d, 'a.bin'), data);
    writeFileAtomic(join(d, 'b.bin'), data);
    expect(readFileSync(join(d, 'a.bin')).equals(data)).toBe(true);
    expect(readFileSync(join(d, 'b.bin')).equals(data)).toBe(true);
    // No temporary file is left beside them.
    expect(readdirSync(d).sort()).toEqual(['a.bin', 'b.bin']);
  });

  test('writeAll at a position leaves the bytes before it alone, at the file offset appends', () => {
    const d = fresh();
    const p = join(d, 'pos.bin');
    writeFileSync(p, 'aaaaaaaaaa');
    const fd = openSync(p, 'r+');
    try {
      writeAll(fd, Buffer.from('XYZ'), 4, p);
      writeAll(fd, Buffer.from('12'), null, p);
      writeAll(fd, Buffer.from('34'), null, p);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(p, 'utf8')).toBe('1234XYZaaa');
  });
});

const tmpfsSkip = !isRoot ? 'not root (mounting a small tmpfs needs root; CI runs as root)' : !hasTool('mount') ? 'mount missing (apt-get install mount)' : undefined;
if (tmpfsSkip) test.skip(`full-disk tests skipped: ${tmpfsSkip}`, () => undefined);

(tmpfsSkip ? describe.skip : describe)('a full destination (a 64 KiB tmpfs): the short write is followed, the failure reported', () => {
  let mnt: string;
  beforeAll(() => {
    mnt = join(tmp.dir, 'full');
    mkdirSync(mnt);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  });
  afterAll(() => {
    spawnSync('umount', [mnt]);
  });

  test('writeAll: the first write is short (what fits), the next one fails with ENOSPC as IO_ERROR naming the file', () => {
    const p = join(mnt, 'short.bin');
    const data = pseudoRandomBytes(200_000, 42);
    const fd = openSync(p, 'w');
    let err: unknown;
    try {
      writeAll(fd, data, 0, p);
    } catch (e) {
      err = e;
    }
    const written = fstatSync(fd).size;
    closeSync(fd);
    expect(err).toMatchObject({ code: 'IO_ERROR', path: p, message: expect.stringMatching(new RegExp(`^${p}: ENOSPC while writing 200000 bytes`)) });
    // The kernel took part of the data (a short write), and exactly those bytes are there: writeAll
    // did not stop at the short count as if it had been everything.
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(data.length);
    expect(readFileSync(p).equals(data.subarray(0, written))).toBe(true);
    spawnSync('rm', ['-f', p]);
  });

  test('writeNewFile and writeFileAtomic on a full disk: IO_ERROR, and no half-written file (nor temporary one) is left', () => {
    const data = pseudoRandomBytes(200_000, 43);
    for (const write of [writeNewFile, writeFileAtomic]) {
      const p = join(mnt, `${write.name}.json`);
      expect(() => write(p, data)).toThrow(expect.objectContaining({ code: 'IO_ERROR', message: expect.stringContaining('ENOSPC') }));
      expect(readdirSync(mnt)).toEqual([]);
    }
    // The space is free again: the same file fits once it is small enough.
    writeNewFile(join(mnt, 'small.json'), data.subarray(0, 1000));
    expect(readFileSync(join(mnt, 'small.json')).equals(data.subarray(0, 1000))).toBe(true);
  });
});

describe('atomic writes and final names', () => {
  test('writeFileAtomic into a missing folder names the folder, and creates nothing', () => {
    const d = fresh();
    const p = join(d, 'no', 'such', 'head.json');
    expect(() => writeFileAtomic(p, '{}')).toThrow(
      expect.objectContaining({ code: 'FILE_NOT_FOUND', path: p, message: `${p}: the folder ${join(d, 'no', 'such')} does not exist`, hint: expect.stringContaining('Create the folder first') }),
    );
    expect(readdirSync(d)).toEqual([]);
  });

  test('writeFileAtomic with replace: the old content is replaced whole, the inode is a new one', () => {
    const d = fresh();
    const p = join(d, 'r.json');
    writeFileSync(p, 'old content, longer than the new');
    const before = statSync(p).ino;
    writeFileAtomic(p, 'new', { replace: true, mode: 0o600 });
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(statSync(p).ino).not.toBe(before);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['r.json']);
  });

  test('renameIntoPlace refuses an existing target (file or dangling link) and leaves both files alone; a free name is taken', () => {
    const d = fresh();
    const from = join(d, 'ev.raw.partial');
    const to = join(d, 'ev.raw');
    writeFileSync(from, 'image');
    writeFileSync(to, 'planted');
    expect(() => renameIntoPlace(from, to)).toThrow(
      expect.objectContaining({ code: 'OUTPUT_EXISTS', path: to, message: `${to} appeared while custos was writing ev.raw.partial; it is left alone`, hint: expect.stringContaining('--resume') }),
    );
    expect(readFileSync(from, 'utf8')).toBe('image');
    expect(readFileSync(to, 'utf8')).toBe('planted');

    const linked = join(d, 'ev2.raw');
    symlinkSync(join(d, 'nowhere'), linked);
    expect(() => renameIntoPlace(from, linked)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: expect.stringContaining('is a symbolic link') }));
    expect(existsSync(join(d, 'nowhere'))).toBe(false);

    const free = join(d, 'ev3.raw');
    renameIntoPlace(from, free);
    expect(readFileSync(free, 'utf8')).toBe('image');
    expect(existsSync(from)).toBe(false);
  });

  test('renameIntoPlace of a finished file that has gone: FILE_NOT_FOUND naming that file, not the free final name', () => {
    const d = fresh();
    const from = join(d, 'ev.raw.partial');
    let err: unknown;
    try {
      renameIntoPlace(from, join(d, 'ev.raw'));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'FILE_NOT_FOUND' });
    // What is missing is the .partial file; the final name is free, as it must be.
    expect((err as Error).message).toContain(from);
  });

  test('entryExists is true for anything with the name, a dangling link too', () => {
    const d = fresh();
    symlinkSync(join(d, 'nowhere'), join(d, 'dangling'));
    expect(entryExists(join(d, 'dangling'))).toBe(true);
    expect(existsSync(join(d, 'dangling'))).toBe(false);
    expect(entryExists(d)).toBe(true);
    expect(entryExists(join(d, 'nowhere'))).toBe(false);
  });
});

describe('folders', () => {
  test('ensureDir creates missing parents and says which', () => {
    const d = join(tmp.dir, 'new1', 'new2', 'new3');
    expect(ensureDir(d)).toEqual([join(tmp.dir, 'new1'), join(tmp.dir, 'new1', 'new2'), d]);
    expect(ensureDir(d)).toEqual([]);
  });

  test('ensureDir on a file: INVALID_INPUT "is not a folder"; below a file: the path cannot be resolved; the file untouched', () => {
    const d = fresh();
    const f = join(d, 'a-file');
    writeFileSync(f, 'keep');
    expect(() => ensureDir(f)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', path: f, message: `${f}: is not a folder` }));
    expect(() => ensureDir(join(f, 'sub'))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: `${join(f, 'sub')}: ENOTDIR: the path cannot be resolved` }));
    expect(readFileSync(f, 'utf8')).toBe('keep');
  });

  test('ensureDir through a link to a folder is a folder; its mode is the one asked for', () => {
    const d = fresh();
    mkdirSync(join(d, 'real'));
    symlinkSync(join(d, 'real'), join(d, 'link'));
    expect(ensureDir(join(d, 'link'))).toEqual([]);
    expect(ensureDir(join(d, 'm'), 0o700)).toEqual([join(d, 'm')]);
    expect(statSync(join(d, 'm')).mode & 0o777).toBe(0o700);
  });
});

describe('records are read only from regular files of bounded size', () => {
  test('a FIFO is refused at once instead of blocking the open', () => {
    const fifo = join(tmp.dir, 'fifo.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => readBoundedFile(fifo, 'manifest')).toThrow(/is a pipe \(FIFO\); a manifest is read only from a regular file/);
  });

  test('/dev/zero, directly or through a link, is refused without reading it', () => {
    const link = join(tmp.dir, 'zero.json');
    symlinkSync('/dev/zero', link);
    for (const p of ['/dev/zero', link]) expect(() => readBoundedFile(p, 'manifest')).toThrow(/is a character device/);
  });

  test('a file larger than the bound is refused; one within it is read whole', () => {
    const p = join(tmp.dir, 'big.json');
    writeFileSync(p, Buffer.alloc(2049, 0x20));
    expect(() => readBoundedFile(p, 'case file', 2048)).toThrow(/larger than 2048 bytes, too large for a case file/);
    expect(readBoundedFile(p, 'case file', 4096)).toHaveLength(2049);
  });

  test('a folder is IS_DIRECTORY, a missing file FILE_NOT_FOUND, an empty file an empty buffer, a file of exactly the bound is read', () => {
    const d = fresh();
    expect(() => readBoundedFile(d, 'journal')).toThrow(expect.objectContaining({ code: 'IS_DIRECTORY', message: `${d}: is a directory; a journal is read only from a regular file` }));
    expect(() => readBoundedFile(join(d, 'nope'), 'journal')).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    writeFileSync(join(d, 'empty'), '');
    expect(readBoundedFile(join(d, 'empty'), 'journal')).toHaveLength(0);
    const exact = pseudoRandomBytes(4096, 44);
    writeFileSync(join(d, 'exact'), exact);
    expect(readBoundedFile(join(d, 'exact'), 'journal', 4096).equals(exact)).toBe(true);
  });

  test('a file whose size field says less than it holds (/proc/self/status says 0) is refused as growing, not read past its size', () => {
    expect(statSync('/proc/self/status').size).toBe(0);
    expect(() => readBoundedFile('/proc/self/status', 'manifest')).toThrow(
      expect.objectContaining({ code: 'IO_ERROR', message: '/proc/self/status: the manifest grew while it was being read', hint: expect.stringContaining('Wait until') }),
    );
  });

  test('a file another process appends to while it is read: IO_ERROR "grew while it was being read", never a silently cut record', async () => {
    const d = fresh();
    const p = join(d, 'growing.json');
    const start = pseudoRandomBytes(4 << 20, 45);
    writeFileSync(p, start);
    // An independent writer appends 4 KiB at a time, one process per block, for a few seconds at most (20 MiB in all).
    const writer = spawn('sh', ['-c', `i=0; while [ $i -lt 5000 ]; do head -c 4096 /dev/zero >> '${p}'; i=$((i+1)); done`]);
    const started = new Promise((r) => writer.once('spawn', r));
    await started;
    let grew: unknown;
    const deadline = Date.now() + 5000;
    try {
      while (!grew && Date.now() < deadline) {
        let got: Buffer;
        try {
          got = readBoundedFile(p, 'manifest');
        } catch (err) {
          grew = err;
          break;
        }
        // Whatever was read without the error is a prefix of the file as it then stood.
        expect(got.subarray(0, start.length).equals(start)).toBe(true);
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      writer.kill('SIGKILL');
      await new Promise((r) => (writer.exitCode !== null || writer.signalCode !== null ? r(undefined) : writer.once('exit', r)));
    }
    expect(grew).toMatchObject({ code: 'IO_ERROR', message: `${p}: the manifest grew while it was being read` });
  });
});
