import { copyFileSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf, makeTempDir, runCli, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let n = 0;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

/** Acquires the sample into a fresh folder and returns the manifest path. */
function acquired(extra: string[] = []): { dir: string; manifest: string } {
  const dir = join(tmp.dir, `v${n++}`);
  mkdirSync(dir);
  const r = runCli(['acquire', SAMPLE_IMAGE, '-o', dir, '--name', 'ev', '--no-progress', ...extra]);
  expect(r.status).toBe(0);
  return { dir, manifest: join(dir, 'ev.manifest.json') };
}

function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  const b = readFileSync(file).subarray(at, at + 1);
  writeSync(fd, Buffer.from([b[0]! ^ 0x01]), 0, 1, at);
  closeSync(fd);
}

test('a good image: one MATCH line per algorithm with both values, exit 0', () => {
  const { manifest } = acquired();
  const r = runCli(['verify', manifest, '--no-progress']);
  expect(r.status).toBe(0);
  const md5 = digestOf('md5sum', SAMPLE_IMAGE);
  expect(r.stdout).toContain(`image   MD5       MATCH     expected ${md5}  computed ${md5}`);
  expect(r.stdout.match(/^image +\S+ +MATCH /gm)).toHaveLength(3);
  expect(r.stdout).toMatch(/^verdict: MATCH/m);
});

test('a flipped byte is a MISMATCH with exit 4, and --json says so too', () => {
  const { dir, manifest } = acquired();
  flipByte(join(dir, 'ev.raw'), 1_234_567);
  const r = runCli(['verify', manifest, '--no-progress']);
  expect(r.status).toBe(4);
  expect(r.stdout.match(/MISMATCH/g)!.length).toBeGreaterThanOrEqual(3);
  expect(r.stdout).toMatch(/^verdict: MISMATCH/m);
  const j = runCli(['verify', manifest, '--json']);
  expect(j.status).toBe(4);
  expect(JSON.parse(j.stdout)).toMatchObject({ verdict: 'mismatch' });
});

test('split images: verifying from .001 finds the siblings and names the bad segment', () => {
  const { dir } = acquired(['--format', 'split', '--split-size', '3MiB']);
  expect(runCli(['verify', join(dir, 'ev.001'), '--no-progress']).status).toBe(0);
  flipByte(join(dir, 'ev.002'), 10);
  const r = runCli(['verify', join(dir, 'ev.001'), '--no-progress']);
  expect(r.status).toBe(4);
  expect(r.stdout).toMatch(/^ev\.002 +MD5 +MISMATCH/m);
  expect(r.stdout).not.toMatch(/^ev\.001/m);
});

test('a missing segment, a truncated file, a damaged manifest: input errors (3) naming the file', () => {
  const a = acquired(['--format', 'split', '--split-size', '3MiB']);
  renameSync(join(a.dir, 'ev.003'), join(a.dir, 'moved'));
  let r = runCli(['verify', a.manifest]);
  expect(r.status).toBe(3);
  expect(r.stderr).toContain(join(a.dir, 'ev.003'));
  expect(r.stderr).toContain('missing');

  const b = acquired();
  truncateSync(join(b.dir, 'ev.raw'), 1000);
  r = runCli(['verify', b.manifest]);
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(/1000 bytes, but the manifest records 8388608/);

  const c = acquired();
  const m = JSON.parse(readFileSync(c.manifest, 'utf8'));
  m.hashes.md5 = 'not-a-hash';
  writeFileSync(c.manifest, JSON.stringify(m));
  r = runCli(['verify', c.manifest]);
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(/does not match the acquisition-manifest schema: \/hashes\/md5/);
  writeFileSync(c.manifest, '{"manifestVersion": 1,');
  expect(runCli(['verify', c.manifest]).stderr).toContain('not valid JSON');
});

test('a bare image: the manifest beside it, or --expect values', () => {
  const { dir } = acquired();
  expect(runCli(['verify', join(dir, 'ev.raw'), '--no-progress']).status).toBe(0);
  const lone = join(tmp.dir, 'lone.dd');
  copyFileSync(SAMPLE_IMAGE, lone);
  const none = runCli(['verify', lone]);
  expect(none.status).toBe(3);
  expect(none.stderr).toContain('nothing to compare with');
  const md5 = digestOf('md5sum', SAMPLE_IMAGE);
  expect(runCli(['verify', lone, '--expect', `md5=${md5}`, '--no-progress']).status).toBe(0);
  expect(runCli(['verify', lone, '--expect', `md5=${'0'.repeat(32)}`, '--no-progress']).status).toBe(4);
  expect(runCli(['verify', lone, '--expect', 'md5=abc']).status).toBe(2);
});

test('--source re-reads the source and compares it too', () => {
  const { manifest } = acquired();
  const r = runCli(['verify', manifest, '--source', SAMPLE_IMAGE, '--no-progress']);
  expect(r.status).toBe(0);
  expect(r.stdout.match(/^source +\S+ +MATCH/gm)).toHaveLength(3);
  const other = join(tmp.dir, 'other.img');
  copyFileSync(SAMPLE_IMAGE, other);
  flipByte(other, 4096);
  const bad = runCli(['verify', manifest, '--source', other, '--no-progress']);
  expect(bad.status).toBe(4);
  expect(bad.stdout).toMatch(/^source +MD5 +MISMATCH/m);
});
