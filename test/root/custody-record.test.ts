/**
 * The custody record is as robust as the image: an acquisition of a badly damaged disk (8,192 bad
 * ranges) is recorded as acquire-complete with a small entry that pins the manifest by hash (the
 * full list stays in the manifest), and a resume that finds the partial image no longer matching
 * the source is a WARNING on stderr and recorded in the ledger.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { faultSkipReason, FaultySource, stopAll } from '../faults/faulty-source';
import { makeTempDir, pseudoRandomBytes, runCli } from '../helpers';

const skip = faultSkipReason({ loop: true });
if (skip) test.skip(`custody-record root tests skipped: ${skip}`, () => undefined);

const PASS = 'custody record passphrase';
let tmp: ReturnType<typeof makeTempDir>;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  tmp = makeTempDir('custos-custody-record-');
  env = { CUSTOS_HOME: join(tmp.dir, 'home'), CUSTOS_PASSPHRASE: PASS, CUSTOS_IDENTITY: 'Alex Morgan' };
});
afterAll(() => {
  stopAll();
  tmp?.cleanup();
});

const entries = (caseDir: string) =>
  readFileSync(join(caseDir, 'custody.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ bytes: Buffer.byteLength(l), e: JSON.parse(l) as { action: string; details: Record<string, unknown> } }));

(skip ? describe.skip : describe)('custody of damaged and resumed acquisitions', () => {
  beforeAll(() => {
    expect(runCli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner'], { env }).status).toBe(0);
  });

  test('8,192 bad ranges: exit 6, acquire-complete recorded with a small entry that pins the manifest by its SHA-256', () => {
    const size = 16 << 20;
    // One bad sector in every 2 KiB: 8,192 separate ranges.
    const bad = Array.from({ length: size / 2048 }, (_, i) => ({ offset: i * 2048 + 512, length: 512 }));
    const f = FaultySource.start({ size, bad, loop: true });
    try {
      const caseDir = join(tmp.dir, 'case-bad');
      expect(runCli(['case', 'init', caseDir, '--case', 'CR-1'], { env }).status).toBe(0);
      const out = join(tmp.dir, 'out-bad');
      const r = runCli(['acquire', f.loop!, '-o', out, '--name', 'bad', '--retries', '0', '--no-progress', '--json', '--case-dir', caseDir], { env });
      expect(r.status).toBe(6);
      const j = JSON.parse(r.stdout);
      expect(j.readErrors).toHaveLength(8192);
      expect(j.hashes.md5).toBe(f.expectedHashes(['md5']).md5);
      const all = entries(caseDir);
      expect(all.map((x) => x.e.action)).toEqual(['case-open', 'acquire-start', 'acquire-complete']);
      const complete = all[2]!;
      expect(complete.bytes).toBeLessThan(16 * 1024);
      expect(complete.e.details.readErrors).toEqual({ ranges: 8192, sectors: 8192 });
      const manifest = complete.e.details.manifest as { path: string; sha256: string };
      expect(manifest.sha256).toBe(createHash('sha256').update(readFileSync(manifest.path)).digest('hex'));
      expect(JSON.parse(readFileSync(manifest.path, 'utf8')).readErrors).toHaveLength(8192);
      const v = runCli(['ledger', 'verify', '--case-dir', caseDir]);
      expect(v.status).toBe(0);
    } finally {
      f.stop();
    }
  });

  test('a resume that finds the partial image changed: WARNING on stderr, resumeCheck in the manifest and the ledger', async () => {
    const src = join(tmp.dir, 'resume-src.bin');
    writeFileSync(src, pseudoRandomBytes(24 << 20, 11));
    const caseDir = join(tmp.dir, 'case-resume');
    expect(runCli(['case', 'init', caseDir, '--case', 'CR-2'], { env }).status).toBe(0);
    const out = join(tmp.dir, 'out-resume');
    const args = ['acquire', src, '-o', out, '--name', 'r', '--no-progress', '--case-dir', caseDir, '--max-rate', '8MB'];
    // Stopped after about a second, as Ctrl-C would (a clean stop, resumable).
    const first = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [join(__dirname, '../../bin/run.js'), ...args], { env: { ...process.env, ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.resume();
      child.stderr.resume();
      setTimeout(() => child.kill('SIGINT'), 1500);
      child.on('close', (code) => resolve(code));
    });
    expect(first).toBe(130);
    const fd = openSync(join(out, 'r.raw.partial'), 'r+');
    writeSync(fd, Buffer.from('tampered'), 0, 8, 4096);
    closeSync(fd);
    const r = runCli([...args.slice(0, -2), '--resume', '--json'], { env });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/WARNING: the partial image differs from the source from byte 4096/);
    const m = JSON.parse(readFileSync(join(out, 'r.manifest.json'), 'utf8'));
    const check = m.time.sessions[m.time.sessions.length - 1].resumeCheck;
    expect(check).toMatchObject({ matched: false, mismatchAt: 0, reason: 'source-changed' });
    const complete = entries(caseDir).find((x) => x.e.action === 'acquire-complete')!;
    expect(complete.e.details.resumeCheck).toEqual(check);
    expect(createHash('sha256').update(readFileSync(join(out, 'r.raw'))).digest('hex')).toBe(createHash('sha256').update(readFileSync(src)).digest('hex'));
  });
});
