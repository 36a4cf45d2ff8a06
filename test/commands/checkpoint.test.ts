/**
 * Checkpoints as an examiner uses them: `ledger checkpoint` (with a witness), a copy kept
 * elsewhere, `ledger verify --checkpoint` against a ledger rewritten by its own examiner or cut
 * short, and `ledger prove`, every root and proof recomputed by an independent RFC 9162
 * implementation (test/fixtures/merkle/rfc9162_reference.py, Python's hashlib only) from the
 * ledger's lines, and every checkpoint signature checked by openssl.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendEntry, initCase, loadSigner } from '../../src/custody';
import { makeTempDir, ROOT, runCli } from '../helpers';

const PASS = 'correct horse battery';
let tmp: ReturnType<typeof makeTempDir>;
let env: NodeJS.ProcessEnv;
let caseDir: string;
const cli = (args: string[]) => runCli(args, { env });

/** What the independent implementation computes over these ledger lines (each without its newline). */
function reference(lines: string[], q: { roots?: number[]; paths?: [number, number][]; proofs?: [number, number][] }) {
  const r = spawnSync('python3', [join(ROOT, 'test', 'fixtures', 'merkle', 'rfc9162_reference.py')], {
    input: JSON.stringify({ leaves: lines.map((l) => Buffer.from(l).toString('hex')), roots: q.roots ?? [], paths: q.paths ?? [], proofs: q.proofs ?? [] }),
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { leafHashes: string[]; roots: string[]; paths: string[][]; proofs: string[][] };
}
const ledgerLines = (dir: string) => readFileSync(join(dir, 'custody.jsonl'), 'utf8').split('\n').filter(Boolean);

beforeAll(() => {
  tmp = makeTempDir('custos-checkpoint-cli-');
  caseDir = join(tmp.dir, 'case');
  env = { CUSTOS_HOME: join(tmp.dir, 'home'), CUSTOS_PASSPHRASE: PASS, CUSTOS_CASE_DIR: caseDir, CUSTOS_IDENTITY: 'Alex Morgan' };
  expect(cli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner']).status).toBe(0);
  expect(cli(['identity', 'create', '--name', 'Sam Lee', '--role', 'supervisor']).status).toBe(0);
  expect(cli(['case', 'init', caseDir, '--case', '2026-0314 HARBOUR/7']).status).toBe(0);
  for (const text of ['Sealed in bag A1234567', 'Moved to locker 4', 'Photographed']) expect(cli(['ledger', 'note', text]).status).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('a checkpoint kept elsewhere', () => {
  let kept: string;

  beforeAll(() => {
    const r = cli(['ledger', 'checkpoint', '--witness', 'Sam Lee', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { path: string; size: number; root: string; origin: string; signers: string[]; note: string; entry: number };
    expect(out).toMatchObject({ size: 4, origin: 'custos.case/2026-0314%20HARBOUR%2F7', signers: ['Alex Morgan', 'Sam Lee'], entry: 4 });
    // The root is the one an independent implementation computes from the first four lines.
    expect(out.root).toBe(reference(ledgerLines(caseDir).slice(0, 4), { roots: [4] }).roots[0]);
    expect(readFileSync(out.path, 'utf8')).toBe(out.note);
    kept = join(tmp.dir, 'elsewhere.checkpoint');
    copyFileSync(out.path, kept);
  });

  test('the note: C2SP checkpoint text, two signature lines that openssl verifies with each examiner\'s certificate', () => {
    const note = readFileSync(kept, 'utf8');
    const [body, sigs] = note.split('\n\n');
    const root = Buffer.from(reference(ledgerLines(caseDir).slice(0, 4), { roots: [4] }).roots[0]!, 'hex').toString('base64');
    expect(`${body}\n`).toBe(`custos.case/2026-0314%20HARBOUR%2F7\n4\n${root}\n`);
    const lines = sigs!.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    const ids = JSON.parse(cli(['identity', 'list', '--json']).stdout).identities as { name: string; fingerprint: string }[];
    writeFileSync(join(tmp.dir, 'body.txt'), `${body}\n`);
    for (const [i, line] of lines.entries()) {
      const m = /^— (\S+) (\S+)$/.exec(line)!;
      expect(m[1]).toBe(`custos.examiner/${ids[i]!.fingerprint.slice(0, 16)}`);
      writeFileSync(join(tmp.dir, 'sig.bin'), Buffer.from(m[2]!, 'base64').subarray(4));
      const dir = readdirSync(join(env.CUSTOS_HOME!, 'identities')).find((d) => ids[i]!.fingerprint.startsWith(d))!;
      const pub = spawnSync('openssl', ['x509', '-in', join(env.CUSTOS_HOME!, 'identities', dir, 'cert.pem'), '-pubkey', '-noout'], { encoding: 'utf8' }).stdout;
      writeFileSync(join(tmp.dir, 'pub.pem'), pub);
      const v = spawnSync('openssl', ['dgst', '-sha256', '-verify', join(tmp.dir, 'pub.pem'), '-signature', join(tmp.dir, 'sig.bin'), join(tmp.dir, 'body.txt')], { encoding: 'utf8' });
      expect(v.stdout.trim()).toBe('Verified OK');
    }
  });

  test('verify --checkpoint: the ledger extends it (more entries since); the checkpoint entry records the file\'s SHA-256', () => {
    expect(cli(['ledger', 'note', 'Returned to locker 4']).status).toBe(0);
    const r = cli(['ledger', 'verify', '--checkpoint', kept]);
    expect(r.status).toBe(0);
    // The witness signed no entry, yet its signature is checked too: its certificate is kept with the case.
    expect(r.stdout).toContain(`checkpoint ${kept}: 4 entries, signed by Alex Morgan, Sam Lee: the ledger extends it`);
    expect(r.stdout).toContain('verdict: INTACT');
    const entry = JSON.parse(ledgerLines(caseDir)[4]!) as { action: string; details: { sha256: string; size: number } };
    expect(entry).toMatchObject({ action: 'checkpoint', details: { size: 4 } });
    expect(entry.details.sha256).toBe(spawnSync('sha256sum', [kept], { encoding: 'utf8' }).stdout.split(' ')[0]);
  });

  test('prove: inclusion in the checkpoint and consistency with today\'s ledger, as the RFC 9162 definitions give them', () => {
    const lines = ledgerLines(caseDir);
    const ref = reference(lines, { paths: [[2, 4]], proofs: [[4, lines.length]], roots: [4, lines.length] });
    const inc = JSON.parse(cli(['ledger', 'prove', '--inclusion', '2', '--checkpoint', kept, '--json']).stdout);
    expect(inc).toEqual({ kind: 'inclusion', seq: 2, leafHash: ref.leafHashes[2], treeSize: 4, root: ref.roots[0], proof: ref.paths[0], checkpoint: kept });
    const con = JSON.parse(cli(['ledger', 'prove', '--consistency', '4', '--consistency', String(lines.length), '--json']).stdout);
    expect(con).toEqual({ kind: 'consistency', oldSize: 4, newSize: lines.length, oldRoot: ref.roots[0], newRoot: ref.roots[1], proof: ref.proofs[0] });
    const beyond = cli(['ledger', 'prove', '--inclusion', '99']);
    expect(beyond.status).toBe(3);
    expect(beyond.stderr).toMatch(/^custos: error: /);
  });

  test('the same examiner rewrites a note and re-signs everything after it: INTACT alone, INVALID against the checkpoint (exit 4)', async () => {
    const home = env.CUSTOS_HOME!;
    const alex = loadSigner(home, 'Alex Morgan', PASS);
    const forged = join(tmp.dir, 'forged');
    await initCase(forged, { caseId: '2026-0314 HARBOUR/7' }, alex);
    for (const text of ['Sealed in bag B7654321', 'Moved to locker 4', 'Photographed', 'Returned to locker 4']) await appendEntry(forged, { action: 'note', details: { text } }, alex);
    const victim = join(tmp.dir, 'victim');
    spawnSync('cp', ['-a', caseDir, victim]);
    copyFileSync(join(forged, 'custody.jsonl'), join(victim, 'custody.jsonl'));
    spawnSync('rm', ['-r', join(victim, 'checkpoints')]);
    expect(cli(['ledger', 'verify', '--case-dir', victim]).status).toBe(0);
    const r = cli(['ledger', 'verify', '--case-dir', victim, '--checkpoint', kept]);
    expect(r.status).toBe(4);
    expect(r.stdout).toContain(`CHECKPOINT FAILS: ${kept}: the ledger's first 4 entries are not the ones it covers: the history was rewritten`);
    expect(r.stdout).toContain('verdict: INVALID');
  });

  test('entries cut off the end (before the checkpoint\'s size): INVALID against it, and against the one kept in the case', () => {
    const cut = join(tmp.dir, 'cut');
    spawnSync('cp', ['-a', caseDir, cut]);
    writeFileSync(join(cut, 'custody.jsonl'), ledgerLines(caseDir).slice(0, 3).map((l) => `${l}\n`).join(''));
    const r = cli(['ledger', 'verify', '--case-dir', cut, '--checkpoint', kept, '--json']);
    expect(r.status).toBe(4);
    const report = JSON.parse(r.stdout) as { verdict: string; checkpoints: { path: string; problem?: string }[] };
    expect(report.verdict).toBe('invalid');
    expect(report.checkpoints.map((c) => c.problem)).toEqual([
      'it covers 4 entries, the ledger has 3: entries were cut off the end',
      'it covers 4 entries, the ledger has 3: entries were cut off the end',
    ]);
  });

  test('a checkpoint of another case fails, naming both cases', () => {
    const other = join(tmp.dir, 'other-case');
    expect(cli(['case', 'init', other, '--case', 'OTHER']).status).toBe(0);
    const r = cli(['ledger', 'verify', '--case-dir', other, '--checkpoint', kept]);
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(/CHECKPOINT FAILS: .*it is for custos\.case\/2026-0314%20HARBOUR%2F7, not custos\.case\/OTHER/);
  });
});
