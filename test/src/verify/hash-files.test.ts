import { chmodSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CustosError } from '../../../src/errors';
import { ALGORITHMS } from '../../../src/hash/algorithms';
import { DEFAULT_CHUNK_SIZE } from '../../../src/stream/pipeline';
import { formatHashLines, hashFile, hashFiles } from '../../../src/verify/hash-files';
import { digestOf, hasTool, isRoot, makeTempDir, pseudoRandomBytes, SAMPLE_IMAGE, tool } from '../../helpers';

const COREUTILS = { md5: 'md5sum', sha1: 'sha1sum', sha256: 'sha256sum', sha512: 'sha512sum' } as const;

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

describe('hashFile agrees with coreutils and b3sum on awkward sizes', () => {
  const chunk = DEFAULT_CHUNK_SIZE;
  const sizes = [0, 1, 511, 512, 513, 4096, chunk - 1, chunk, chunk + 1, 2 * chunk + 12_345];
  test.each(sizes.map((s) => [s]))('%i bytes', async (size) => {
    const file = join(tmp.dir, `f-${size}`);
    writeFileSync(file, pseudoRandomBytes(size, size + 1));
    const r = await hashFile(file, ALGORITHMS);
    expect(r.size).toBe(size);
    expect(r.kind).toBe('file');
    for (const [alg, cmd] of Object.entries(COREUTILS)) {
      expect(r.hashes[alg as keyof typeof COREUTILS]).toBe(digestOf(cmd, file));
    }
    if (hasTool('b3sum')) expect(r.hashes.blake3).toBe(digestOf('b3sum', file));
  });

  test('a small read size (many chunks through the ring) changes nothing', async () => {
    const file = join(tmp.dir, 'odd');
    writeFileSync(file, pseudoRandomBytes(100_003, 5));
    const big = await hashFile(file, ['md5', 'sha256']);
    const small = await hashFile(file, ['md5', 'sha256'], { chunkSize: 4096 });
    expect(small.hashes).toEqual(big.hashes);
    expect(small.hashes.sha256).toBe(digestOf('sha256sum', file));
  });

  test('progress is reported after each chunk and ends at the file size', async () => {
    const file = join(tmp.dir, 'progress');
    writeFileSync(file, pseudoRandomBytes(10_000, 9));
    const seen: number[] = [];
    await hashFile(file, ['md5'], { chunkSize: 4096, onProgress: (_p, n) => seen.push(n) });
    expect([...new Set(seen)]).toEqual([4096, 8192, 10_000]);
  });
});

test('the bundled sample hashes to the values coreutils recorded in samples/*SUMS', async () => {
  const [r] = await hashFiles([SAMPLE_IMAGE], ['md5', 'sha1', 'sha256']);
  const dir = join(SAMPLE_IMAGE, '..');
  const recorded = (name: string) => tool('cat', [join(dir, name)]).split(/\s+/)[0];
  expect(r!.hashes).toEqual({ md5: recorded('MD5SUMS'), sha1: recorded('SHA1SUMS'), sha256: recorded('SHA256SUMS') });
  expect(r!.size).toBe(statSync(SAMPLE_IMAGE).size);
});

test('hashing does not change the access time of the evidence (O_NOATIME)', async () => {
  const file = join(tmp.dir, 'atime');
  writeFileSync(file, 'evidence');
  // An access time older than the modification time is one that relatime would update.
  utimesSync(file, new Date('2001-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
  await hashFile(file, ['md5']);
  expect(statSync(file).atime.toISOString()).toBe('2001-01-01T00:00:00.000Z');
});

describe('errors name the file and say what to do', () => {
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(CustosError);
      return { code: (e as CustosError).code, message: (e as CustosError).message, hint: (e as CustosError).hint };
    }
    throw new Error('expected a failure');
  };

  test('a missing file', async () => {
    const missing = join(tmp.dir, 'no-such.img');
    const e = await code(hashFiles([missing], ['md5']));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain(missing);
    expect(e.hint).toBeTruthy();
  });

  test('a directory', async () => {
    const e = await code(hashFile(tmp.dir, ['md5']));
    expect(e).toMatchObject({ code: 'IS_DIRECTORY' });
    expect(e.message).toContain(tmp.dir);
  });

  test('a FIFO is not evidence custos can size or re-read', async () => {
    const fifo = join(tmp.dir, 'pipe');
    spawnSync('mkfifo', [fifo]);
    const e = await code(hashFiles([fifo], ['md5']));
    expect(e).toMatchObject({ code: 'NOT_A_FILE' });
  });

  test('every path is checked before any hashing starts', async () => {
    const good = join(tmp.dir, 'good');
    writeFileSync(good, 'x');
    const seen: string[] = [];
    const e = await code(hashFiles([good, join(tmp.dir, 'missing')], ['md5'], { onProgress: (p) => seen.push(p) }));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(seen).toEqual([]);
  });

  (isRoot ? test.skip : test)('an unreadable file (skipped as root: root reads everything)', async () => {
    const file = join(tmp.dir, 'locked');
    writeFileSync(file, 'secret');
    chmodSync(file, 0o000);
    const e = await code(hashFile(file, ['md5']));
    expect(e.code).toBe('PERMISSION_DENIED');
  });
});

describe('formatHashLines', () => {
  const r = { path: 'a.img', kind: 'file' as const, size: 1, hashes: { md5: 'aa', sha256: 'bb' } };

  test('one algorithm: exactly the md5sum/sha256sum line', () => {
    expect(formatHashLines([r], ['sha256'], 'gnu')).toEqual(['bb  a.img']);
  });

  test('several algorithms: an aligned label column', () => {
    expect(formatHashLines([r], ['md5', 'sha256'], 'gnu')).toEqual(['MD5      aa  a.img', 'SHA-256  bb  a.img']);
  });

  test('BSD tags, and coreutils escaping of awkward names', () => {
    expect(formatHashLines([r], ['sha256'], 'bsd')).toEqual(['SHA256 (a.img) = bb']);
    const odd = { ...r, path: 'new\nline\\x' };
    expect(formatHashLines([odd], ['md5'], 'gnu')).toEqual(['\\aa  new\\nline\\\\x']);
  });

  test('an escaped name is read back by sha256sum -c', () => {
    const dir = join(tmp.dir, 'esc');
    mkdirSync(dir);
    const name = 'we\\ird\nname';
    writeFileSync(join(dir, name), 'data');
    const line = formatHashLines(
      [{ path: name, kind: 'file', size: 4, hashes: { sha256: digestOf('sha256sum', join(dir, name)) } }],
      ['sha256'],
      'gnu',
    );
    writeFileSync(join(dir, 'SUMS'), `${line.join('\n')}\n`);
    expect(spawnSync('sha256sum', ['--strict', '-c', 'SUMS'], { cwd: dir }).status).toBe(0);
  });
});
