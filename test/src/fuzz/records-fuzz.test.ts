/**
 * Seeded, bounded fuzzing of the parsers of records custos reads back: acquisition manifests
 * (read, verified, rendered as a report), custody ledgers (verified, listed, exported, reported,
 * appended to) and certificates (in a case's certs/, parsed, imported). Each kind runs in a child
 * process with a small heap, so unbounded memory fails the test; every failure must be a
 * CustosError (a one-line message naming the file), never another exception, and no mutant may
 * take more than a few seconds. Then some mutants go through the CLI: never exit 1, never a stack.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { createIdentity, loadSigner } from '../../../src/custody/identity';
import { appendEntry, initCase } from '../../../src/custody';
import { acceptCustody, transferCustody } from '../../../src/custody/transfer';
import { fixedEnvironment, makeTempDir, pseudoRandomBytes, ROOT, runCli } from '../../helpers';
import { writeFileSync } from 'node:fs';

const PASS = 'fuzzing passphrase';
const SEED = 90210;
const COUNT = { manifest: 200, ledger: 200, certificate: 200 } as const;
let tmp: ReturnType<typeof makeTempDir>;

interface Summary {
  kind: string;
  count: number;
  outcomes: Record<string, Record<string, number>>;
  others: { case: number; op: string; error: string }[];
  slowest: { case: number; ms: number };
  maxRssMiB: number;
  fatal?: string;
}

beforeAll(async () => {
  tmp = makeTempDir('custos-records-fuzz-');
  // A manifest with hash windows over a small random source.
  const src = join(tmp.dir, 'src.bin');
  writeFileSync(src, pseudoRandomBytes(3 << 20, 7));
  await acquire({ source: src, outDir: join(tmp.dir, 'manifest'), name: 'm', format: 'raw', algorithms: ['md5', 'sha256'], retries: 0, windowSize: 1 << 20, env: fixedEnvironment() });
  // A case with two examiners, a transfer, an acceptance and notes.
  const home = join(tmp.dir, 'home');
  const now = new Date('2026-01-01T00:00:00Z');
  createIdentity({ name: 'Alex Morgan', role: 'examiner', passphrase: PASS, home, now });
  createIdentity({ name: 'Sam Lee', role: 'analyst', passphrase: PASS, home, now });
  const alex = loadSigner(home, 'Alex Morgan', PASS, now);
  const sam = loadSigner(home, 'Sam Lee', PASS, now);
  const env = fixedEnvironment('2026-03-14T09:00:00Z');
  const dir = join(tmp.dir, 'case');
  await initCase(dir, { caseId: 'FUZZ-2026', description: 'fuzzing' }, alex, env);
  for (let i = 0; i < 6; i++) await appendEntry(dir, { action: 'note', evidence: ['EV-1'], details: { text: `note ${i}` } }, alex, env);
  await transferCustody(dir, { to: 'Sam Lee', reason: 'analysis', home }, alex, env);
  await acceptCustody(dir, {}, sam, env);
  await appendEntry(dir, { action: 'note', evidence: ['EV-1', '/cases/ev.raw'], details: { text: 'received' } }, sam, env);
}, 60_000);
afterAll(() => tmp?.cleanup());

function runChild(kind: keyof typeof COUNT, base: string): Summary {
  const work = join(tmp.dir, `work-${kind}`);
  mkdirSync(work);
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=768', '-r', 'ts-node/register/transpile-only', join(__dirname, 'records-fuzz-child.ts'), kind, base, work, String(SEED), String(COUNT[kind])],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CUSTOS_PASSPHRASE: PASS, TS_NODE_TRANSPILE_ONLY: '1' }, maxBuffer: 16 << 20, timeout: 240_000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    const trace = r.stderr.split('\n').filter((l) => l.startsWith('case ')).slice(-5).join(' / ');
    throw new Error(`fuzz child for ${kind} failed (status ${r.status}, signal ${r.signal}; last cases: ${trace}): ${r.stderr.slice(-1500)} ${line.slice(0, 2000)}`);
  }
  return JSON.parse(line) as Summary;
}

function expectBounded(s: Summary): void {
  expect(s.fatal).toBeUndefined();
  expect(s.others).toEqual([]);
  expect(s.slowest.ms).toBeLessThan(10_000);
  expect(s.maxRssMiB).toBeLessThan(1024);
}

test('manifests: 200 mutants read, verified and (every fourth) rendered — only CustosErrors, bounded', () => {
  const s = runChild('manifest', join(tmp.dir, 'manifest'));
  expectBounded(s);
  // Both outcomes occur: mutants that are refused, and schema-valid ones that go all the way.
  expect(s.outcomes.readManifest?.INVALID_INPUT).toBeGreaterThan(50);
  expect(s.outcomes.readManifest?.ok).toBeGreaterThan(10);
  expect(s.outcomes.report?.ok).toBeGreaterThan(0);
}, 300_000);

test('ledgers: 200 mutants verified, listed, exported, reported, appended to — only CustosErrors, bounded', () => {
  const s = runChild('ledger', join(tmp.dir, 'case'));
  expectBounded(s);
  expect(s.outcomes.verifyLedger?.ok).toBe(COUNT.ledger);
  expect(s.outcomes.report?.ok).toBeGreaterThan(0);
}, 300_000);

test('certificates: 200 damaged certificates in a case — ledger verify gives a verdict naming the file, parsing only CustosErrors', () => {
  const s = runChild('certificate', join(tmp.dir, 'case'));
  expectBounded(s);
  expect(s.outcomes.verifyLedger?.ok).toBe(COUNT.certificate);
  expect(s.outcomes.parseCert?.CERT_INVALID).toBeGreaterThan(100);
}, 300_000);

test('through the CLI: damaged records never exit 1 or print a stack trace', () => {
  const runs: string[][] = [];
  for (let i = 0; i < 6; i++) {
    const m = join(tmp.dir, 'work-manifest', String(i), 'm.manifest.json');
    if (existsSync(m)) runs.push(['verify', m, '--no-progress'], ['report', 'acquisition', m, '--out', join(tmp.dir, `r-${i}.pdf`)]);
    const c = join(tmp.dir, 'work-ledger', String(i));
    if (existsSync(c)) runs.push(['ledger', 'verify', '--case-dir', c], ['ledger', 'show', '--case-dir', c]);
    const cc = join(tmp.dir, 'work-certificate', String(i));
    if (existsSync(cc)) runs.push(['ledger', 'verify', '--case-dir', cc]);
  }
  expect(runs.length).toBeGreaterThan(20);
  for (const args of runs) {
    const r = runCli(args, { env: { CUSTOS_HOME: join(tmp.dir, 'home'), CUSTOS_PASSPHRASE: PASS } });
    expect({ args, status: r.status }).not.toEqual({ args, status: 1 });
    expect({ args, stderr: r.stderr }).not.toEqual({ args, stderr: expect.stringMatching(/internal error|\n\s+at /) });
  }
}, 300_000);
