/**
 * Write safety through the CLI, as a user meets it: records given as a FIFO or /dev/zero fail at
 * once in one line; no acquisition, report or signed head is ever written through a planted link,
 * over the source, over an image the case names, or over the case's ledger. (The rules themselves:
 * test/src/protect.test.ts and test/src/fsutil.test.ts; on real devices: test/root/write-safety.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf, makeTempDir, pseudoRandomBytes, runCli, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

test('verify given a FIFO or /dev/zero as its manifest fails in one line, at once', () => {
  const fifo = join(tmp.dir, 'cli-fifo.manifest.json');
  spawnSync('mkfifo', [fifo]);
  const link = join(tmp.dir, 'cli-zero.manifest.json');
  symlinkSync('/dev/zero', link);
  for (const p of [fifo, link]) {
    const r = runCli(['verify', p, '--no-progress']);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/read only from a regular file/);
  }
});

describe('the CLI never writes through a planted link or onto evidence', () => {
  const partialRun = (out: string, src: string) => {
    // An interrupted acquisition (Ctrl-C right away) leaves a journal and a partial image.
    const r = spawnSync(process.execPath, [join(__dirname, '../../bin/run.js'), 'acquire', src, '-o', out, '--name', 'ev', '--no-progress', '--max-rate', '1MB'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' },
      timeout: 1500,
      killSignal: 'SIGINT',
    });
    return r;
  };

  test('a symbolic link planted at NAME.raw.partial before --resume: refused in one line, the source untouched', () => {
    const src = join(tmp.dir, 'src-resume.img');
    writeFileSync(src, pseudoRandomBytes(8 << 20, 2));
    const before = digestOf('sha256sum', src);
    const out = join(tmp.dir, 'out-resume');
    partialRun(out, src);
    expect(existsSync(join(out, 'ev.resume.json'))).toBe(true);
    const partial = join(out, 'ev.raw.partial');
    for (const target of [src, join(tmp.dir, 'does-not-exist')]) {
      spawnSync('rm', ['-f', partial]);
      symlinkSync(target, partial);
      const r = runCli(['acquire', src, '-o', out, '--name', 'ev', '--no-progress', '--resume']);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/ev\.raw\.partial is a symbolic link, not the partial image custos wrote/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(digestOf('sha256sum', src)).toBe(before);
    }
  });

  test('an output name that is the source file itself is refused; the source is untouched', () => {
    const dir = join(tmp.dir, 'same-dir');
    mkdirSync(dir);
    const src = join(dir, 'ev.raw');
    writeFileSync(src, pseudoRandomBytes(1 << 20, 3));
    const before = digestOf('sha256sum', src);
    const r = runCli(['acquire', src, '-o', dir, '--name', 'ev', '--no-progress']);
    expect(r.status).toBe(3);
    expect(digestOf('sha256sum', src)).toBe(before);
    // And a report with --force never replaces the image it verifies.
    const acq = runCli(['acquire', SAMPLE_IMAGE, '-o', join(tmp.dir, 'for-report'), '--name', 'r', '--no-progress']);
    expect(acq.status).toBe(0);
    const img = join(tmp.dir, 'for-report', 'r.raw');
    const rep = runCli(['report', 'verification', join(tmp.dir, 'for-report', 'r.manifest.json'), '--out', img, '--force']);
    expect(rep.status).toBe(3);
    expect(rep.stderr).toMatch(/is evidence being read/);
    expect(digestOf('md5sum', img)).toBe(digestOf('md5sum', SAMPLE_IMAGE));
  });
});

test('a hash-windows file or manifest name cannot be pre-planted as a link to the source', () => {
  const src = join(tmp.dir, 'src-planted.img');
  writeFileSync(src, pseudoRandomBytes(2 << 20, 4));
  const before = digestOf('sha256sum', src);
  const out = join(tmp.dir, 'out-planted');
  mkdirSync(out);
  symlinkSync(src, join(out, 'p.windows.json'));
  const r = runCli(['acquire', src, '-o', out, '--name', 'p', '--hash-window', '1MiB', '--no-progress']);
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(/p\.windows\.json is a symbolic link/);
  expect(digestOf('sha256sum', src)).toBe(before);
  const fd = openSync(src, 'r');
  closeSync(fd);
});

test('ledger head --out: never over an existing file without --force, and never over the case\'s evidence or ledger even with it', () => {
  const env = { CUSTOS_HOME: join(tmp.dir, 'head-home'), CUSTOS_PASSPHRASE: 'head passphrase', CUSTOS_CASE_DIR: join(tmp.dir, 'head-case') };
  expect(runCli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner'], { env }).status).toBe(0);
  expect(runCli(['case', 'init', env.CUSTOS_CASE_DIR, '--case', 'HEAD-1'], { env }).status).toBe(0);
  const out = join(tmp.dir, 'head-out', 'nested');
  const a = runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--name', 'h', '--no-progress'], { env });
  expect(a.status).toBe(0);
  // --out is created when missing, with its parents, and custos says so.
  expect(a.stderr).toContain(`created output folder ${join(tmp.dir, 'head-out')}`);
  const image = join(out, 'h.raw');
  const before = digestOf('sha256sum', image);
  // The acquisition was recorded in the case: its image is evidence the case names.
  for (const [target, force] of [[image, false], [image, true], [join(env.CUSTOS_CASE_DIR, 'custody.jsonl'), true]] as const) {
    const forced = runCli(['ledger', 'head', '--out', target, ...(force ? ['--force'] : [])], { env });
    expect(forced.status).toBe(3);
    expect(forced.stderr).toMatch(/is evidence being read; it is never a write target/);
  }
  expect(digestOf('sha256sum', image)).toBe(before);
  expect(runCli(['ledger', 'verify'], { env }).status).toBe(0);
  // An ordinary file is replaced with --force, atomically.
  const headFile = join(tmp.dir, 'head.json');
  expect(runCli(['ledger', 'head', '--out', headFile], { env }).status).toBe(0);
  const again = runCli(['ledger', 'head', '--out', headFile], { env });
  expect(again.status).toBe(3);
  expect(again.stderr).toMatch(/head\.json already exists/);
  expect(runCli(['ledger', 'head', '--out', headFile, '--force'], { env }).status).toBe(0);
  expect(JSON.parse(readFileSync(headFile, 'utf8')).case).toBe('HEAD-1');
});
