import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaProblems } from '../../src/schema';
import { digestOf, makeTempDir, pseudoRandomBytes, runCli, SAMPLE_IMAGE, tool } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

describe('custos hash, run as a user would', () => {
  test('prints the same md5, sha1 and sha256 as coreutils for the sample', () => {
    const r = runCli(['hash', SAMPLE_IMAGE]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      `MD5      ${digestOf('md5sum', SAMPLE_IMAGE)}  ${SAMPLE_IMAGE}`,
      `SHA-1    ${digestOf('sha1sum', SAMPLE_IMAGE)}  ${SAMPLE_IMAGE}`,
      `SHA-256  ${digestOf('sha256sum', SAMPLE_IMAGE)}  ${SAMPLE_IMAGE}`,
    ]);
  });

  test('with one algorithm the output is byte-identical to sha256sum and md5sum', () => {
    const files = ['a', 'b c'].map((n, i) => {
      const p = join(tmp.dir, n);
      writeFileSync(p, pseudoRandomBytes(1000 + i, i + 3));
      return p;
    });
    expect(runCli(['hash', '--hash', 'sha256', ...files]).stdout).toBe(tool('sha256sum', files));
    expect(runCli(['hash', '-a', 'md5', ...files]).stdout).toBe(tool('md5sum', files));
  });

  test('--tag output is checked by coreutils cksum -c', () => {
    const r = runCli(['hash', '--tag', '--hash', 'md5,sha1,sha256,sha512', 'samples/fat-disk.img']);
    expect(r.status).toBe(0);
    const sums = join(tmp.dir, 'sample.sums');
    writeFileSync(sums, r.stdout);
    expect(tool('cksum', ['--strict', '-c', sums])).toBe('samples/fat-disk.img: OK\n'.repeat(4));
  });

  test('--json is valid JSON, matches the schema and carries every requested algorithm', () => {
    const r = runCli(['hash', '--json', '--hash', 'md5,sha1,sha256,sha512,sha3-256,blake3', SAMPLE_IMAGE]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(schemaProblems('hash-result', out)).toEqual([]);
    expect(out.files).toHaveLength(1);
    const f = out.files[0];
    expect(f.path).toBe(SAMPLE_IMAGE);
    expect(f.size).toBe(8 * 1024 * 1024);
    expect(Object.keys(f.hashes)).toEqual(['md5', 'sha1', 'sha256', 'sha512', 'sha3-256', 'blake3']);
    expect(f.hashes.sha512).toBe(digestOf('sha512sum', SAMPLE_IMAGE));
    expect(f.hashes.blake3).toBe(digestOf('b3sum', SAMPLE_IMAGE));
  });

  test('CUSTOS_HASH sets the algorithms, and the flag wins over it', () => {
    const env = { CUSTOS_HASH: 'sha512' };
    expect(runCli(['hash', SAMPLE_IMAGE], { env }).stdout).toBe(tool('sha512sum', [SAMPLE_IMAGE]));
    expect(runCli(['hash', '-a', 'md5', SAMPLE_IMAGE], { env }).stdout).toBe(tool('md5sum', [SAMPLE_IMAGE]));
  });
});

describe('custos hash errors: one line, the documented exit code, no stack trace', () => {
  const expectOneLineError = (args: string[], exit: number, ...mentions: string[]) => {
    const r = runCli(args);
    expect(r.status).toBe(exit);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^custos: error: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const m of mentions) expect(lines[0]).toContain(m);
  };

  test('unknown algorithm → usage error (2)', () => expectOneLineError(['hash', '-a', 'md5,whirlpool', SAMPLE_IMAGE], 2, 'whirlpool', 'sha256'));
  test('missing file → input error (3)', () => expectOneLineError(['hash', join(tmp.dir, 'nope.img')], 3, 'nope.img', 'Check the path'));
  test('directory → input error (3)', () => expectOneLineError(['hash', tmp.dir], 3, tmp.dir, 'directory'));
  test('unknown flag → usage error (2)', () => expectOneLineError(['hash', '--bogus', SAMPLE_IMAGE], 2, '--bogus'));
  test('no file at all → usage error (2)', () => expectOneLineError(['hash'], 2, 'file'));
  test('unknown command → usage error (2)', () => expectOneLineError(['hsah'], 2, 'hsah'));

  test('with --json the error is also JSON on stdout', () => {
    const r = runCli(['hash', '--json', join(tmp.dir, 'nope.img')]);
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({
      error: expect.objectContaining({ code: 'FILE_NOT_FOUND', kind: 'input', exitCode: 3, path: join(tmp.dir, 'nope.img') }),
    });
  });
});

describe('custos itself', () => {
  test('--version prints name and version from package.json', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`custos/${require('../../package.json').version}`);
  });

  test('--help lists the hash command; hash --help documents flags and examples', () => {
    expect(runCli(['--help']).stdout).toMatch(/hash\s+Hash files/);
    const help = runCli(['hash', '--help']);
    expect(help.status).toBe(0);
    for (const s of ['--hash', '--tag', '--json', 'CUSTOS_HASH', 'cksum -c']) expect(help.stdout).toContain(s);
  });
});
