/**
 * Resuming never trusts what an interrupted run left behind: the journal's unreadable sectors are
 * read again, and an acquisition stopped between its manifest and its final file names is finished
 * only after every file is checked against the manifest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { acquire, type AcquireOptions } from '../../../src/acquire/acquire';
import type { ResumeJournal } from '../../../src/acquire/journal';
import { readManifest } from '../../../src/manifest/manifest';
import { digestOf, makeTempDir, pseudoRandomBytes, ROOT, runCli, sameBytes } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let n = 0;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

const coreutils = (f: string) => ({ md5: digestOf('md5sum', f), sha1: digestOf('sha1sum', f), sha256: digestOf('sha256sum', f) });
const base = (source: string, extra: Partial<AcquireOptions> = {}): AcquireOptions => ({
  source,
  outDir: join(tmp.dir, `out-${n++}`),
  format: 'raw',
  algorithms: ['md5', 'sha1', 'sha256'],
  retries: 0,
  ...extra,
});

/** Runs an acquisition until `bytes` are done, then stops it as Ctrl-C would; returns its options. */
async function interrupted(src: string, name: string, bytes: number): Promise<AcquireOptions> {
  const controller = new AbortController();
  const o = base(src, { name, chunkSize: 65536, signal: controller.signal, onProgress: (_ph, _t, p) => p.bytesDone >= bytes && controller.abort() });
  await expect(acquire(o)).rejects.toMatchObject({ code: 'INTERRUPTED' });
  return { ...o, signal: undefined, onProgress: undefined };
}

describe('a journal is not evidence', () => {
  test('sectors the journal calls unreadable are read again: real data is never zero-filled on its word', async () => {
    const src = join(tmp.dir, 'lie-src');
    writeFileSync(src, pseudoRandomBytes(16 << 20, 21));
    const o = await interrupted(src, 'lie', 8 << 20);
    const journalPath = join(o.outDir, 'lie.resume.json');
    const j = JSON.parse(readFileSync(journalPath, 'utf8')) as ResumeJournal;
    expect(j.bytesDone).toBeGreaterThanOrEqual(8 << 20);
    // A journal claiming that readable sectors were unreadable (damaged, or forged), with zeros in
    // the partial image where it says so: custos must read those sectors again and find the data.
    j.readErrors = [{ offset: 1 << 20, length: 4096 }];
    writeFileSync(journalPath, JSON.stringify(j));
    const partial = join(o.outDir, 'lie.raw.partial');
    const fd = openSync(partial, 'r+');
    writeSync(fd, Buffer.alloc(4096), 0, 4096, 1 << 20);
    closeSync(fd);
    const events: string[] = [];
    const r = await acquire({ ...o, resume: true, onEvent: (m) => events.push(m) });
    expect(events.join('\n')).toMatch(/sectors recorded as unreadable before the interruption read now \(byte 1048576\)/);
    expect(r.readErrors).toEqual([]);
    expect(sameBytes(src, r.outputs[0]!.path)).toBe(true);
    expect(r.hashes).toEqual(coreutils(src));
    expect(r.manifest.time.sessions[1]!.resumeCheck).toMatchObject({ matched: true, mismatchAt: 1 << 20, reason: 'sectors-now-readable' });
  });

  test('a journal listing a readable range as unreadable, with the real data in the image, records no read error', async () => {
    const src = join(tmp.dir, 'lie2-src');
    writeFileSync(src, pseudoRandomBytes(12 << 20, 22));
    const o = await interrupted(src, 'lie2', 6 << 20);
    const journalPath = join(o.outDir, 'lie2.resume.json');
    const j = JSON.parse(readFileSync(journalPath, 'utf8')) as ResumeJournal;
    j.readErrors = [{ offset: 512, length: 1024 }];
    writeFileSync(journalPath, JSON.stringify(j));
    const r = await acquire({ ...o, resume: true });
    expect(r.readErrors).toEqual([]);
    expect(r.manifest.readErrors).toEqual([]);
    expect(r.manifest.time.sessions[1]!.resumeCheck).toMatchObject({ matched: true });
    expect(r.manifest.time.sessions[1]!.resumeCheck!.mismatchAt).toBeUndefined();
    expect(r.hashes).toEqual(coreutils(src));
  });
});

describe('the end of an acquisition is recoverable', () => {
  const killAt = (src: string, out: string, name: string, format: string, phase: string) =>
    spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'test/src/acquire/kill-at-phase.ts'), src, out, name, format, phase], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  test.each([
    ['raw', ['k.raw']],
    ['split', ['k.001', 'k.002', 'k.003']],
    ['e01', ['k.E01']],
  ] as const)('%s: kill -9 after the manifest, before the final names; --resume checks and finishes it', (format, finals) => {
    const src = join(tmp.dir, `kill-${format}`);
    writeFileSync(src, pseudoRandomBytes(10 << 20, 30));
    const out = join(tmp.dir, `kill-out-${format}`);
    const killed = killAt(src, out, 'k', format, 'commit');
    expect(killed.signal).toBe('SIGKILL');
    const left = readdirSync(out).sort();
    expect(left).toContain('k.manifest.json');
    // E01 keeps no resume journal: the manifest and the .partial names are enough to finish.
    if (format !== 'e01') expect(left).toContain('k.resume.json');
    for (const f of finals) expect(left).toContain(`${f}.partial`);
    // A new run must not start over, and must say how to finish.
    const again = runCli(['acquire', src, '-o', out, '--name', 'k', '--format', format, '--no-progress', '--split-size', '4MiB']);
    expect(again.status).toBe(3);
    expect(again.stderr).toContain('--resume to finish it');
    const r = runCli(['acquire', src, '-o', out, '--name', 'k', '--format', format, '--no-progress', '--split-size', '4MiB', '--resume', '--json']);
    expect(r.stderr).toContain('checked against k.manifest.json and renamed: complete');
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual([...finals, 'k.manifest.json'].sort());
    expect(JSON.parse(r.stdout).hashes).toEqual(coreutils(src));
    const v = runCli(['verify', join(out, 'k.manifest.json'), '--no-progress']);
    expect(v.status).toBe(0);
    if (format === 'raw') expect(sameBytes(src, join(out, 'k.raw'))).toBe(true);
    if (format === 'split') {
      const joined = join(tmp.dir, 'kill-joined');
      writeFileSync(joined, Buffer.concat(finals.map((f) => readFileSync(join(out, f)))));
      expect(sameBytes(src, joined)).toBe(true);
    }
  });

  test('a partial file changed after the kill is not given a final name', () => {
    const src = join(tmp.dir, 'kill-tamper');
    writeFileSync(src, pseudoRandomBytes(6 << 20, 31));
    const out = join(tmp.dir, 'kill-out-tamper');
    expect(killAt(src, out, 't', 'raw', 'commit').signal).toBe('SIGKILL');
    const fd = openSync(join(out, 't.raw.partial'), 'r+');
    writeSync(fd, Buffer.from('X'), 0, 1, 4096);
    closeSync(fd);
    const r = runCli(['acquire', src, '-o', out, '--name', 't', '--no-progress', '--resume']);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('t.raw.partial does not have the hashes its manifest records');
    expect(existsSync(join(out, 't.raw'))).toBe(false);
  });

  test('kill -9 while finishing (everything read, no manifest yet): --resume re-checks the image against the source and completes', () => {
    const src = join(tmp.dir, 'kill-finish');
    writeFileSync(src, pseudoRandomBytes(6 << 20, 32));
    const out = join(tmp.dir, 'kill-out-finish');
    expect(killAt(src, out, 'f', 'raw', 'record').signal).toBe('SIGKILL');
    expect(readdirSync(out).sort()).toEqual(['f.raw.partial', 'f.resume.json']);
    const j = JSON.parse(readFileSync(join(out, 'f.resume.json'), 'utf8')) as ResumeJournal;
    expect(j.bytesDone).toBe(6 << 20);
    const r = runCli(['acquire', src, '-o', out, '--name', 'f', '--no-progress', '--resume', '--json']);
    expect(r.status).toBe(0);
    expect(sameBytes(src, join(out, 'f.raw'))).toBe(true);
    const m = readManifest(join(out, 'f.manifest.json'));
    expect(m.time.sessions[1]!.resumeCheck).toEqual({ partialBytes: 6 << 20, matchedBytes: 6 << 20, matched: true });
  });
});

describe('sizes that would make absurd outputs are refused before anything is written', () => {
  test.each([
    [{ format: 'split', splitSize: 100 }, /--split-size 100 bytes is below the minimum of 1 MiB/],
    [{ format: 'e01', segmentSize: 4096 }, /--segment-size 4096 bytes is below the minimum of 1 MiB/],
    [{ windowSize: 100 }, /--hash-window 100 is not a whole number of 512-byte sectors/],
    [{ windowSize: 512 }, /--hash-window 512 would make 16384 windows|more than/],
  ] as const)('%o', async (extra, message) => {
    const src = join(tmp.dir, 'sizes-src');
    writeFileSync(src, pseudoRandomBytes(8 << 20, 40));
    const o = base(src, extra as Partial<AcquireOptions>);
    if ('windowSize' in extra && extra.windowSize === 512) {
      // 16,384 windows are fine: the bound is on absurd counts, not on small windows.
      const r = await acquire(o);
      expect(JSON.parse(readFileSync(r.windowsPath!, 'utf8')).windows).toHaveLength(16384);
      return;
    }
    await expect(acquire(o)).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(message) });
    expect(existsSync(o.outDir)).toBe(false);
  });

  test('the CLI says so in one line with exit 2', () => {
    const r = runCli(['acquire', join(ROOT, 'samples/fat-disk.img'), '-o', join(tmp.dir, 'cli-split'), '--format', 'split', '--split-size', '100']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^custos: error: --split-size 100 bytes is below the minimum of 1 MiB\. Use a size such as/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

test('--verify-source honours --max-rate', async () => {
  const src = join(tmp.dir, 'rate-src');
  writeFileSync(src, pseudoRandomBytes(8 << 20, 50));
  const r = await acquire(base(src, { maxRate: 4 << 20, verifySource: true }));
  // 8 MiB at 4 MiB/s takes two seconds for the acquisition and two more for the source re-read.
  expect(r.durations.verifySourceSeconds).toBeGreaterThanOrEqual(1.5);
  expect(r.verification.source?.result).toBe('match');
});
