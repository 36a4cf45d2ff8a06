/**
 * A source that vanishes mid-acquisition (test/faults harness: its NBD server or FUSE daemon
 * killed, or every read turned into an error; its device node removed; a loop device cut short)
 * stops the acquisition at once with SOURCE_DISCONNECTED (exit 5), keeping the journal and the
 * partial image; once the source is back, the same command with --resume completes an image
 * equal to the source byte for byte. Needs root (skips saying why).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devNumber } from '../../src/protect';
import { faultSkipReason, FaultySource, stopAll } from '../faults/faulty-source';
import { digestOf, makeTempDir, pseudoRandomBytes, ROOT, runCli, sameBytes, tool } from '../helpers';

const skip = faultSkipReason({ loop: true });
if (skip) test.skip(`disconnection tests skipped: ${skip}`, () => undefined);

const MiB = 1024 * 1024;
const SIZE = 32 * MiB;
/** Slow enough that the source can be pulled mid-run: the first run would take 2 s. */
const RATE = 16 * MiB;
/** Pulled once this much of the image has been written. */
const PULL_AT = 8 * MiB;
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

interface Pulled {
  /** The one error line. */
  message: string;
  journal: { bytesDone: number };
  partialSize: number;
}

/**
 * Runs `custos acquire SOURCE -o OUT --name img --json ...extra`, calls `pull` once the partial
 * image holds PULL_AT bytes, and checks the stop: exit 5 soon after, SOURCE_DISCONNECTED on
 * stdout, one error line naming the source and --resume on stderr (no stack), no manifest, the
 * partial image and a 'failed' journal kept.
 */
async function pullMidRun(source: string, out: string, extra: string[], pull: () => void): Promise<Pulled> {
  const partial = join(out, 'img.raw.partial');
  const first = startCli(['acquire', source, '-o', out, '--name', 'img', '--json', ...extra]);
  let pulledAt = 0;
  try {
    await until(() => sizeOf(partial) >= PULL_AT, 20_000, `${partial} holds ${PULL_AT} bytes`);
    pulledAt = Date.now();
    pull();
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
  const message = errors[0]!;
  expect(message).toMatch(new RegExp(`^custos: error: ${source.replace(/[/.]/g, '\\$&')}: the source stopped answering at byte \\d+`));
  expect(message).toMatch(/Reconnect it .* --resume/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/internal error|READ ERROR/);
  expect(readdirSync(out).sort()).toEqual(['img.raw.partial', 'img.resume.json']);
  const journal = JSON.parse(readFileSync(join(out, 'img.resume.json'), 'utf8'));
  expect(journal.sessions.at(-1).outcome).toBe('failed');
  const partialSize = sizeOf(partial);
  expect(partialSize).toBeGreaterThanOrEqual(PULL_AT);
  expect(journal.bytesDone).toBeGreaterThanOrEqual(PULL_AT);
  expect(journal.bytesDone).toBeLessThan(SIZE);
  expect(journal.readErrors).toEqual([]);
  const atByte = Number(/stopped answering at byte (\d+)/.exec(message)![1]);
  expect(atByte).toBeGreaterThanOrEqual(journal.bytesDone);
  return { message, journal, partialSize };
}

/**
 * Runs the same command with --resume (from `source`, the same path when it could be kept) and
 * checks the result: exit 0, resumed where the partial image ended, no journal or partial left,
 * the image equal to `reference` byte for byte, hashes as `want` and as coreutils compute them.
 */
function resumeAndCheck(source: string, out: string, extra: string[], pulled: Pulled, reference: string, want: Record<string, string>): void {
  const resumed = runCli(['acquire', source, '-o', out, '--name', 'img', '--json', ...extra, '--resume']);
  // What --resume keeps is what the partial image holds (src/acquire trusts the journal no further).
  const kept = Math.min(pulled.journal.bytesDone, pulled.partialSize);
  expect({ status: resumed.status, stderr: resumed.stderr }).toEqual({ status: 0, stderr: expect.stringContaining(`resume: ${kept} bytes of the partial image match the source`) });
  const done = JSON.parse(resumed.stdout);
  const image = join(out, 'img.raw');
  expect(readdirSync(out).sort()).toEqual(['img.manifest.json', 'img.raw']);
  expect(sameBytes(reference, image)).toBe(true);
  expect(done.hashes).toEqual({ md5: want.md5, sha1: want.sha1, sha256: want.sha256 });
  expect(digestOf('sha256sum', image)).toBe(want.sha256);
  expect(digestOf('md5sum', image)).toBe(want.md5);
  const m = JSON.parse(readFileSync(join(out, 'img.manifest.json'), 'utf8'));
  expect(m.readErrors).toEqual([]);
  expect(m.acquisition.resumed).toBe(true);
  expect(m.time.sessions.map((s: { outcome: string }) => s.outcome)).toEqual(['failed', 'complete']);
}

function outDir(label: string): string {
  const out = join(tmp.dir, label.replace(/[^a-z]+/gi, '-'));
  mkdirSync(out);
  return out;
}

(skip ? describe.skip : describe)('a source that vanishes mid-run', () => {
  test.each(cases)('%s: exit 5 at once with the journal and partial kept; --resume once it is back gives the exact image', async (label, via, pull) => {
    const f = FaultySource.start({ size: SIZE, content: { kind: 'random', seed: 7 }, loop: via === 'loop', rate: RATE });
    try {
      const out = outDir(label);
      const source = via === 'loop' ? f.loop! : f.file;
      const pulled = await pullMidRun(source, out, [], () => {
        if (pull === 'server killed') f.disconnect('server');
        else if (pull === 'FUSE daemon killed') f.disconnect('fuse');
        else f.fail();
      });
      expect(pulled.message).toMatch(pull === 'FUSE daemon killed' ? /reads fail with ENOTCONN/ : /reads fail (with|everywhere)/);

      // Back again, same bytes, same path (the loop device re-attached under its old number when free).
      f.setRate(4096 * MiB);
      if (pull === 'every read fails') f.heal();
      else f.reconnect();
      const again = via === 'loop' ? f.loop! : f.file;
      resumeAndCheck(again, out, [], pulled, again, f.expectedHashes(['md5', 'sha1', 'sha256']));
    } finally {
      f.stop();
    }
  });

  test('the device node disappears (as udev removes it on unplug) while reads fail: the lookup says so; recreated, --resume completes', async () => {
    const f = FaultySource.start({ size: SIZE, content: { kind: 'random', seed: 9 }, loop: true, rate: RATE });
    try {
      const out = outDir('node-gone');
      const node = join(tmp.dir, 'evidence-disk');
      const { rdev } = statSync(f.loop!);
      const makeNode = () => tool('mknod', ['-m', '0400', node, 'b', ...devNumber(rdev).split(':')]);
      makeNode();
      expect(statSync(node).rdev).toBe(rdev);
      const pulled = await pullMidRun(node, out, [], () => {
        rmSync(node);
        f.fail();
      });
      expect(pulled.message).toContain(`${node} can no longer be looked up: ENOENT`);

      makeNode();
      f.setRate(4096 * MiB);
      f.heal();
      resumeAndCheck(node, out, [], pulled, f.loop!, f.expectedHashes(['md5', 'sha1', 'sha256']));
    } finally {
      f.stop();
    }
  });

  test('a loop device whose size changes mid-run (backing cut short, losetup -c): the change is named; restored, --resume completes', async () => {
    const backing = join(tmp.dir, 'shrinking.img');
    const original = join(tmp.dir, 'original.img');
    writeFileSync(original, pseudoRandomBytes(SIZE, 0x5eed));
    copyFileSync(original, backing);
    const loop = tool('losetup', ['-f', '--show', '-r', backing]).trim();
    try {
      const out = outDir('size-changed');
      // No nbdkit here: custos's own rate limit keeps the run long enough to cut the device short.
      const slow = ['--max-rate', String(RATE)];
      const pulled = await pullMidRun(loop, out, slow, () => {
        truncateSync(backing, SIZE / 2);
        tool('losetup', ['-c', loop]);
      });
      expect(pulled.message).toContain(`the device's size changed from ${SIZE} to ${SIZE / 2} bytes`);

      copyFileSync(original, backing);
      tool('losetup', ['-c', loop]);
      resumeAndCheck(loop, out, slow, pulled, original, {
        md5: digestOf('md5sum', original),
        sha1: digestOf('sha1sum', original),
        sha256: digestOf('sha256sum', original),
      });
    } finally {
      spawnSync('blockdev', ['--setrw', loop]);
      spawnSync('losetup', ['-d', loop]);
    }
  });
});
