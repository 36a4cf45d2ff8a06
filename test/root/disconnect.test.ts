/**
 * A source that vanishes mid-acquisition (test/faults harness: its NBD server or FUSE daemon
 * killed, or every read turned into an error) stops the acquisition at once with
 * SOURCE_DISCONNECTED (exit 5), keeping the journal and the partial image; once the source is
 * back, the same command with --resume completes an image equal to the source byte for byte.
 * Needs root (skips saying why).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { faultSkipReason, FaultySource, stopAll } from '../faults/faulty-source';
import { digestOf, makeTempDir, ROOT, runCli, sameBytes } from '../helpers';

const skip = faultSkipReason({ loop: true });
if (skip) test.skip(`disconnection tests skipped: ${skip}`, () => undefined);

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
/** Slow enough that the source can be pulled mid-run: the first run would take 2 s. */
const RATE = 32 * MiB;
/** Pulled once this much of the image has been written. */
const PULL_AT = 12 * MiB;
/** The old behaviour spent 100 s zero-filling a vanished source; the stop must come far sooner. */
const STOP_WITHIN_MS = 15_000;

interface Done {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without blocking, so that the source can be pulled while it reads. */
function startCli(args: string[]): { done: Promise<Done>; kill: () => void } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Done>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { done, kill: () => child.kill('SIGKILL') };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => {
  stopAll();
  tmp?.cleanup();
});

type Pull = 'server killed' | 'FUSE daemon killed' | 'every read fails';
const cases: [string, 'loop' | 'file', Pull][] = [
  ['loop device (O_DIRECT), NBD server killed', 'loop', 'server killed'],
  ['loop device (O_DIRECT), every read fails (EIO)', 'loop', 'every read fails'],
  ['FUSE file, FUSE daemon killed (ENOTCONN)', 'file', 'FUSE daemon killed'],
  ['FUSE file, NBD server killed', 'file', 'server killed'],
  ['FUSE file, every read fails (EIO)', 'file', 'every read fails'],
];

(skip ? describe.skip : describe)('a source that vanishes mid-run', () => {
  test.each(cases)('%s: exit 5 at once with the journal and partial kept; --resume once it is back gives the exact image', async (label, via, pull) => {
    const f = FaultySource.start({ size: SIZE, content: { kind: 'random', seed: 7 }, loop: via === 'loop', rate: RATE });
    try {
      const out = join(tmp.dir, label.replace(/[^a-z]+/gi, '-'));
      mkdirSync(out);
      const source = via === 'loop' ? f.loop! : f.file;
      const args = ['acquire', source, '-o', out, '--name', 'img', '--json'];
      const partial = join(out, 'img.raw.partial');
      const journal = join(out, 'img.resume.json');

      const first = startCli(args);
      let pulledAt = 0;
      try {
        await until(() => sizeOf(partial) >= PULL_AT, 20_000, `${partial} holds ${PULL_AT} bytes`);
        pulledAt = Date.now();
        if (pull === 'server killed') f.disconnect('server');
        else if (pull === 'FUSE daemon killed') f.disconnect('fuse');
        else f.fail();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([first.done, new Promise((r) => (timer = setTimeout(r, 60_000)))]);
        clearTimeout(timer);
      } finally {
        first.kill();
      }
      const r = await first.done;
      const spent = Date.now() - pulledAt;

      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 5, stderr: expect.stringContaining('the source stopped answering at byte') });
      expect(spent).toBeLessThan(STOP_WITHIN_MS);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'SOURCE_DISCONNECTED', kind: 'io', exitCode: 5 });
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('custos: error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(new RegExp(`^custos: error: ${source.replace(/[/.]/g, '\\$&')}: the source stopped answering at byte \\d+`));
      expect(errors[0]).toMatch(/Reconnect it .* --resume/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toMatch(/internal error|READ ERROR/);
      const files = readdirSync(out).sort();
      expect(files).toEqual(['img.raw.partial', 'img.resume.json']);
      const j = JSON.parse(readFileSync(journal, 'utf8'));
      expect(j.sessions.at(-1).outcome).toBe('failed');
      const partialSize = sizeOf(partial);
      expect(partialSize).toBeGreaterThanOrEqual(PULL_AT);
      expect(j.bytesDone).toBeGreaterThanOrEqual(PULL_AT);
      expect(j.bytesDone).toBeLessThan(SIZE);
      expect(j.readErrors).toEqual([]);
      const atByte = Number(/stopped answering at byte (\d+)/.exec(errors[0]!)![1]);
      expect(atByte).toBeGreaterThanOrEqual(j.bytesDone);

      // Back again, same bytes, same path (the loop device re-attached under its old number when free).
      f.setRate(4096 * MiB);
      if (pull === 'every read fails') f.heal();
      else f.reconnect();
      const again = via === 'loop' ? f.loop! : f.file;
      const resumed = runCli([...args.map((a) => (a === source ? again : a)), '--resume']);
      // What --resume keeps is what the partial image holds (src/acquire trusts the journal no further).
      const kept = Math.min(j.bytesDone, partialSize);
      expect({ status: resumed.status, stderr: resumed.stderr }).toEqual({ status: 0, stderr: expect.stringContaining(`resume: ${kept} bytes of the partial image match the source`) });
      const done = JSON.parse(resumed.stdout);
      const image = join(out, 'img.raw');
      expect(existsSync(journal)).toBe(false);
      expect(existsSync(partial)).toBe(false);
      expect(sameBytes(again, image)).toBe(true);
      const want = f.expectedHashes(['md5', 'sha1', 'sha256']);
      expect(done.hashes).toEqual({ md5: want.md5, sha1: want.sha1, sha256: want.sha256 });
      expect(digestOf('sha256sum', image)).toBe(want.sha256);
      expect(digestOf('md5sum', image)).toBe(want.md5);
      const m = JSON.parse(readFileSync(join(out, 'img.manifest.json'), 'utf8'));
      expect(m.readErrors).toEqual([]);
      expect(m.acquisition.resumed).toBe(true);
      expect(m.time.sessions.map((s: { outcome: string }) => s.outcome)).toEqual(['failed', 'complete']);
    } finally {
      f.stop();
    }
  });
});
