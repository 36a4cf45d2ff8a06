/**
 * Seeded, bounded fuzzing of the E01 reader: 400 mutants of a small three-segment E01 written by
 * custos's E01Writer from samples/fat-disk.img (bit flips, byte overwrites, truncations, fields
 * set to extremes with and without their checksums fixed, section type swaps, crafted header2
 * sections, deleted, duplicated and swapped segments), each opened, described and fully read in
 * both modes in a child process with a 512 MiB heap: only CustosErrors naming the file, a few
 * seconds at most per mutant, bounded memory. Then 20 of them through the CLI (info, verify).
 */
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { E01Source } from '../../../src/formats/e01/reader';
import { E01Writer } from '../../../src/formats/e01/writer';
import { makeTempDir, pseudoRandomBytes, ROOT, SAMPLE_IMAGE } from '../../helpers';

const SEED = 20260314;
const MUTANTS = 400;
const CLI_EVERY = 20;

let tmp: ReturnType<typeof makeTempDir>;
let first: string;
let media: Buffer;
const readErrors = [
  { firstSector: 40, sectorCount: 2 },
  { firstSector: 3000, sectorCount: 64 },
];

beforeAll(async () => {
  tmp = makeTempDir('custos-e01-fuzz-');
  // 512 KiB of the sample FAT disk (compressible) and 2 MiB of noise (stored raw): three 1 MiB segments.
  const fd = openSync(SAMPLE_IMAGE, 'r');
  const fat = Buffer.alloc(512 * 1024);
  readSync(fd, fat, 0, fat.length, 0);
  closeSync(fd);
  media = Buffer.concat([fat, pseudoRandomBytes(2 << 20, 99)]);
  for (const r of readErrors) media.fill(0, r.firstSector * 512, (r.firstSector + r.sectorCount) * 512);
  const dir = join(tmp.dir, 'base');
  mkdirSync(dir);
  const w = await E01Writer.create({
    dir,
    base: 'img',
    totalSize: media.length,
    bytesPerSector: 512,
    segmentSize: 1 << 20,
    compression: 'fast',
    mediaType: 'fixed',
    physical: true,
    guid: Buffer.alloc(16, 0x42),
    header: { caseNumber: 'FUZZ-1', evidenceNumber: 'EV-9', examiner: 'Fuzzer', description: 'fuzz base', version: '0.1.0', os: 'Linux', acquired: new Date(0), system: new Date(0), utcOffsetMinutes: 0 },
  });
  try {
    // A plain Uint8Array copy: E01Writer transfers the ArrayBuffer of non-shared input to its workers,
    // and Buffer#slice does not copy (writer.ts, reported), which would detach \`media\`.
    await w.write(new Uint8Array(media), 0);
    await w.finish({ md5: createHash('md5').update(media).digest('hex'), sha1: createHash('sha1').update(media).digest('hex'), readErrors });
    await w.commit();
  } finally {
    await w.close();
  }
  first = join(dir, 'img.E01');
});
afterAll(() => tmp?.cleanup());

test('the base image: three segments, error2, read back exactly, accepted by ewfverify when installed', async () => {
  expect(readdirSync(join(tmp.dir, 'base')).sort()).toEqual(['img.E01', 'img.E02', 'img.E03']);
  const s = new E01Source(first);
  expect(s.info.readErrors).toEqual(readErrors);
  const out = Buffer.alloc(s.size);
  await s.readFully(out, 0);
  s.close();
  expect(out.equals(media)).toBe(true);
  if (spawnSync('sh', ['-c', 'command -v ewfverify']).status === 0) {
    expect(spawnSync('ewfverify', ['-q', first], { encoding: 'utf8' }).stdout).toContain('SUCCESS');
    // libewf reads the same unreadable sectors from error2.
    const listed = [...spawnSync('ewfinfo', [first], { encoding: 'utf8' }).stdout.matchAll(/at sector\(s\): (\d+) - (\d+) number: (\d+)/g)];
    expect(listed.map((m) => ({ firstSector: Number(m[1]), sectorCount: Number(m[3]) }))).toEqual(readErrors);
  }
});

test(`${MUTANTS} mutants, both modes: only CustosErrors naming the file, a few seconds each, bounded memory`, () => {
  const work = join(tmp.dir, 'work');
  const cli = join(tmp.dir, 'cli');
  mkdirSync(work);
  mkdirSync(cli);
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=512', '-r', 'ts-node/register/transpile-only', join(__dirname, 'e01-fuzz-child.ts'), first, work, String(SEED), String(MUTANTS), cli, String(CLI_EVERY)],
    { cwd: ROOT, encoding: 'utf8', timeout: 150_000, maxBuffer: 16 << 20, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
  );
  expect(r.error).toBeUndefined();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  expect(summary.problems).toEqual([]);
  expect(summary.count).toBe(MUTANTS);
  expect(summary.maxMs).toBeLessThan(5_000);
  expect(summary.maxRssResource).toBeLessThan(768 * 1024 * 1024);
  // The mutants reach every layer: some open and read cleanly, many are refused, some have damaged chunks read past.
  expect(summary.codes.ok).toBeGreaterThan(50);
  expect(summary.codes.INVALID_INPUT).toBeGreaterThan(200);
  expect(summary.codes.CORRUPT_IMAGE).toBeGreaterThan(10);
  expect(summary.damagedReads).toBeGreaterThan(10);
  expect(readdirSync(cli)).toHaveLength(MUTANTS / CLI_EVERY);
}, 180_000);

test(`${MUTANTS / CLI_EVERY} of the mutants through the CLI (info, verify): never exit 1, never a stack trace`, async () => {
  const cli = join(tmp.dir, 'cli');
  if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('dist/ is missing: run npx tsc -p tsconfig.build.json first');
  expect(existsSync(cli)).toBe(true);
  const jobs = readdirSync(cli).flatMap((m) => [
    ['info', join(cli, m, 'img.E01')],
    ['verify', join(cli, m, 'img.E01'), '--no-progress'],
  ]);
  const run = (args: string[]) =>
    new Promise<{ args: string[]; status: number | null; stderr: string; what: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.resume();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ args, status, stderr, what: readFileSync(join(args[1]!, '..', 'what.txt'), 'utf8') });
      });
    });
  const results: Awaited<ReturnType<typeof run>>[] = [];
  // Two at a time: the machine has two cores.
  for (let i = 0; i < jobs.length; i += 2) results.push(...(await Promise.all(jobs.slice(i, i + 2).map(run))));
  const statuses = new Set<number | null>();
  for (const r of results) {
    statuses.add(r.status);
    const ok = r.status !== null && r.status !== 1 && !/internal error|\n\s+at .+:\d+:\d+\)?\n/.test(r.stderr);
    if (!ok) throw new Error(`custos ${r.args.join(' ')} (${r.what}) exited ${r.status}:\n${r.stderr}`);
    // A refusal is one line on stderr; a damaged image read to the end is a verdict (exit 4) on stdout.
    if (r.status !== 0 && r.status !== 4) expect(r.stderr).toMatch(/^custos: error: .+\n$/);
    if (r.status === 4) expect(r.stderr === '' || /^custos: error: .+\n$/.test(r.stderr)).toBe(true);
  }
  // Refusals (3), damage (4) and clean images (0) are all among them.
  expect([...statuses].sort()).toEqual(expect.arrayContaining([0, 3]));
}, 180_000);
