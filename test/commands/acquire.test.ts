import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaProblems } from '../../src/schema';
import { digestOf, makeTempDir, pseudoRandomBytes, ROOT, runCli, sameBytes, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let big: string;
beforeAll(() => {
  tmp = makeTempDir();
  big = join(tmp.dir, 'big.bin');
  writeFileSync(big, pseudoRandomBytes(256 << 20, 21));
});
afterAll(() => tmp.cleanup());

let n = 0;
const outDir = () => {
  const d = join(tmp.dir, `o${n++}`);
  mkdirSync(d);
  return d;
};

test('custos acquire on the sample: summary on stdout, nothing but progress and events on stderr', () => {
  const out = outDir();
  const r = runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--case-file', 'samples/case.json', '--verify']);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('custos acquire: complete');
  expect(r.stdout).toContain(digestOf('sha256sum', SAMPLE_IMAGE));
  expect(r.stdout).toMatch(/verify image\s+MATCH/);
  expect(r.stdout).toMatch(/read errors\s+none/);
  expect(readdirSync(out).sort()).toEqual(['EV-0001.manifest.json', 'EV-0001.raw']);
  const m = JSON.parse(readFileSync(join(out, 'EV-0001.manifest.json'), 'utf8'));
  expect(m.case.examiner).toBe('Alex Morgan');
  expect(m.commandLine.slice(0, 3)).toEqual(['custos', 'acquire', SAMPLE_IMAGE]);
});

test('--json prints the result: hashes, readErrors, outputs, manifest path, durations', () => {
  const out = outDir();
  const r = runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--json', '--hash', 'md5,sha512', '--format', 'split', '--split-size', '3MiB']);
  expect(r.status).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.status).toBe('complete');
  expect(j.hashes).toEqual({ md5: digestOf('md5sum', SAMPLE_IMAGE), sha512: digestOf('sha512sum', SAMPLE_IMAGE) });
  expect(j.readErrors).toEqual([]);
  expect(j.outputs.map((o: { size: number }) => o.size)).toEqual([3 << 20, 3 << 20, 2 << 20]);
  expect(j.manifestPath).toBe(join(out, 'fat-disk.manifest.json'));
  expect(j.durations.acquireSeconds).toBeGreaterThan(0);
  expect(schemaProblems('acquisition-manifest', JSON.parse(readFileSync(j.manifestPath, 'utf8')))).toEqual([]);
});

test('bad input: missing source, missing --out, existing output, bad size — one line, right exit code', () => {
  const out = outDir();
  const cases: [string[], number, string][] = [
    [['acquire', join(tmp.dir, 'nope'), '-o', out], 3, 'no such file'],
    [['acquire', SAMPLE_IMAGE], 2, 'out'],
    [['acquire', SAMPLE_IMAGE, '-o', join(tmp.dir, 'a-file', 'x')], 3, 'a-file'],
    [['acquire', SAMPLE_IMAGE, '-o', out, '--format', 'split', '--split-size', 'lots'], 2, "'lots' is not a size"],
    [['acquire', SAMPLE_IMAGE, '-o', out, '--hash', 'crc'], 2, "'crc'"],
  ];
  writeFileSync(join(tmp.dir, 'a-file'), 'not a folder');
  for (const [args, code, text] of cases) {
    const r = runCli(args);
    expect({ args, status: r.status }).toEqual({ args, status: code });
    expect(r.stderr).toContain(text);
    expect(r.stdout).toBe('');
  }
  expect(readdirSync(out)).toEqual([]);
  expect(runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--no-progress']).status).toBe(0);
  const again = runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--no-progress']);
  expect(again.status).toBe(3);
  expect(again.stderr).toMatch(/already exists; custos never overwrites/);
});

/** Starts custos acquire in the background; resolves with its exit code and output. */
function start(args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { env: { ...process.env, NODE_ENV: 'production' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Waits until the journal records some progress (the acquisition is well under way). */
async function untilProgress(journal: string, min: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(journal)) {
      try {
        if (JSON.parse(readFileSync(journal, 'utf8')).bytesDone >= min) return;
      } catch {
        // Being replaced at this instant; read it again.
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no progress recorded in ${journal}`);
}

test('kill -9 mid-run, then --resume: the same image and hashes as an uninterrupted run', async () => {
  const out = outDir();
  const args = ['acquire', big, '-o', out, '--no-progress', '--checkpoint-interval', '1', '--hash-window', '32MiB'];
  // --max-rate keeps the run long enough (about 4 s) to be killed in the middle, on any machine.
  const run = start([...args, '--max-rate', '64MiB']);
  await untilProgress(join(out, 'big.resume.json'), 1);
  run.child.kill('SIGKILL');
  const killed = await run.done;
  expect(killed.signal).toBe('SIGKILL');
  expect(existsSync(join(out, 'big.raw'))).toBe(false);
  expect(existsSync(join(out, 'big.manifest.json'))).toBe(false);

  const resumed = runCli([...args, '--resume', '--json']);
  expect(resumed.status).toBe(0);
  const j = JSON.parse(resumed.stdout);
  expect(j.hashes).toEqual({ md5: digestOf('md5sum', big), sha1: digestOf('sha1sum', big), sha256: digestOf('sha256sum', big) });
  expect(sameBytes(big, join(out, 'big.raw'))).toBe(true);
  const matched = Number(/resume: (\d+) bytes of the partial image match the source/.exec(resumed.stderr)?.[1]);
  expect(matched).toBeGreaterThan(0);
  expect(matched).toBeLessThan(256 << 20);

  const reference = outDir();
  runCli(['acquire', big, '-o', reference, '--no-progress', '--hash-window', '32MiB']);
  expect(readFileSync(join(out, 'big.windows.json'), 'utf8')).toBe(readFileSync(join(reference, 'big.windows.json'), 'utf8'));
});

test('Ctrl-C stops cleanly with exit 130 and says how to resume', async () => {
  const out = outDir();
  const args = ['acquire', big, '-o', out, '--no-progress', '--checkpoint-interval', '1'];
  const run = start([...args, '--max-rate', '64MiB']);
  await untilProgress(join(out, 'big.resume.json'), 1);
  run.child.kill('SIGINT');
  const r = await run.done;
  expect(r.code).toBe(130);
  expect(r.stderr).toMatch(/interrupted after \d+ of 268435456 bytes/);
  expect(r.stderr).toContain('--resume');
  expect(readdirSync(out).sort()).toEqual(['big.raw.partial', 'big.resume.json']);
  const resumed = runCli([...args, '--resume']);
  expect(resumed.status).toBe(0);
  expect(sameBytes(big, join(out, 'big.raw'))).toBe(true);
});
