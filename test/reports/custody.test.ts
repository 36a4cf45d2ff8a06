/**
 * Custody report: evidence items counted apart from the files examined, hosts by operating
 * system, timestamps whole, and a malformed ledger reported (red banner naming the line, exit 4)
 * instead of crashing or extending it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEntries, appendEntry } from '../../src/custody';
import { writeCheckpoint } from '../../src/custody/checkpoint-store';
import { fixedEnvironment, makeTempDir, runCli } from '../helpers';
import { makeCase, pageCount, PDF_TOOLS, runCliBounded, SKIP_MESSAGE, type TestCase, text } from './support';

const d = PDF_TOOLS ? describe : describe.skip;
if (!PDF_TOOLS) test.skip(SKIP_MESSAGE, () => undefined);

const EPOCH = { SOURCE_DATE_EPOCH: '1893553445' };
let tmp: ReturnType<typeof makeTempDir>;
let c: TestCase;

beforeAll(async () => {
  tmp = makeTempDir();
  c = await makeCase(tmp.dir);
  const at = (s: string) => fixedEnvironment(`2026-03-14T11:0${s}:00Z`);
  await appendEntry(c.caseDir, { action: 'note', evidence: ['EV-0002'], details: { text: 'second stick received' } }, c.signer, at('0'));
  await appendEntry(c.caseDir, { action: 'verify', evidence: ['EV-0001', `${c.caseDir}/EV-0001.raw`], details: { verdict: 'match' } }, c.signer, at('1'));
  await appendEntry(c.caseDir, { action: 'hash', evidence: ['/srv/exhibits/a/report.docx', '/srv/exhibits/a/photo.jpg'], details: {} }, c.signer, at('2'));
});
afterAll(() => tmp?.cleanup());

/** A copy of the case folder whose ledger line `line` (1-based) is replaced by what `edit` returns. */
function damagedCopy(name: string, line: number, edit: (text: string) => string): string {
  const dir = join(tmp.dir, name);
  spawnSync('cp', ['-r', c.caseDir, dir]);
  const file = join(dir, 'custody.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[line - 1] = edit(lines[line - 1]!);
  writeFileSync(file, lines.join('\n'));
  return dir;
}

d('custody report', () => {
  test('evidence items are counted apart from the file paths examined; hosts by OS; every timestamp whole', () => {
    const out = join(tmp.dir, 'custody.pdf');
    const recorded = readEntries(c.caseDir).entries;
    const r = runCli(['report', 'custody', '--case-dir', c.caseDir, '--out', out], { env: { ...c.env, ...EPOCH } });
    expect(r.status).toBe(0);
    const p1 = text(out, 1);
    expect(p1).toMatch(/Evidence 2 items\n/);
    expect(p1).toMatch(/Evidence items\s+2: EV-0001, EV-0002\n/);
    expect(p1).toMatch(/Files examined\s+3 \(listed under "Evidence items and files examined"\)/);
    const t = text(out);
    for (const f of [`${c.caseDir}/EV-0001.raw`, '/srv/exhibits/a/report.docx', '/srv/exhibits/a/photo.jpg']) expect(t.replace(/\s+/g, '')).toContain(f);
    expect(t).toMatch(/lab-ws-07\s+Debian GNU\/Linux 12 \(bookworm\)\s+linux 6\.1\.0-test \(x64\)/);
    for (const e of recorded) expect(t).toContain(e.time.utc);
  });

  test.each([
    ['a missing time field', 5, (l: string) => JSON.stringify({ ...JSON.parse(l), time: undefined }), /not a ledger entry: \(top level\) must have required property 'time'/],
    ['a line that is not JSON', 7, () => '{"v":1, "seq": 6, garbage', /not valid JSON/],
    ['a first line that is not an entry', 1, () => '[]', /not a ledger entry/],
  ])('%s: a PDF with the entries before it and a red banner naming the line; exit 4; the ledger is not extended', (_name, line, edit, reason) => {
    const dir = damagedCopy(`bad-${line}`, line, edit);
    const before = readFileSync(join(dir, 'custody.jsonl'));
    const out = join(tmp.dir, `bad-${line}.pdf`);
    const r = runCli(['report', 'custody', '--case-dir', dir, '--out', out], { env: { ...c.env, ...EPOCH } });
    expect(r.stderr).not.toMatch(/Cannot read properties|TypeError|at .*\.js:\d+/);
    expect(r.status).toBe(4);
    expect(readFileSync(join(dir, 'custody.jsonl')).equals(before)).toBe(true);
    const p1 = text(out, 1);
    expect(p1).toContain(`LEDGER LINE ${line} IS NOT A VALID ENTRY`);
    expect(p1.replace(/\s+/g, ' ')).toMatch(reason);
    expect(p1.replace(/\s+/g, ' ')).toContain(`${line - 1} entr${line - 1 === 1 ? 'y' : 'ies'} before it are shown`);
    expect(p1).toContain('INVALID');
    const t = text(out);
    const shown = t.match(/^\s*\d+\s+2026-03-14T\d\d:\d\d:\d\d(\.\d+)?Z/gm) ?? [];
    expect(shown.length).toBe(line - 1);
  });

  test('entries at the schema\'s limits (a 600 kB note, 1,000 long evidence paths, a 4 kB purpose): a bounded document', () => {
    const dir = join(tmp.dir, 'huge-entries');
    spawnSync('cp', ['-r', c.caseDir, dir]);
    const file = join(dir, 'custody.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines[lines.length - 1]!);
    for (let i = 1; i <= 3; i++) {
      // Schema-valid, but not signed: verification fails at the first of them, and the report still shows them.
      lines.push(JSON.stringify({
        ...last,
        seq: last.seq + i,
        action: 'note',
        actor: { ...last.actor, name: 'A'.repeat(256) },
        evidence: Array.from({ length: 1000 }, (_, k) => `/x/${k}/${'p'.repeat(240)}`),
        purpose: 'P'.repeat(4096),
        details: { text: `${'T'.repeat(300_000)} ${'word '.repeat(60_000)}` },
      }));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const out = join(tmp.dir, 'huge-entries.pdf');
    const r = runCliBounded(['report', 'custody', '--case-dir', dir, '--out', out], { env: { ...c.env, ...EPOCH }, heapMiB: 384, timeoutMs: 240_000 });
    expect(r.stderr).not.toMatch(/Cannot read properties|TypeError|heap/);
    expect(r.status).toBe(4);
    expect(r.maxRssMiB).toBeLessThan(900);
    // Bounded by the caps (1,000 files examined listed, each cell at most 600 characters), not by the input.
    expect(pageCount(out)).toBeLessThan(150);
    const t = text(out).replace(/\s+/g, ' ');
    expect(t).toContain('characters; full text in the embedded record)');
    expect(t).toContain('LEDGER VERIFICATION FAILED');
  });
});

d('custody report with checkpoints', () => {
  test('the section names the anchors (none here: integrity only) and each checkpoint; the latest is embedded with the RFC 9162 proof that the ledger extends it', async () => {
    const dir = join(tmp.dir, 'with-checkpoint');
    spawnSync('cp', ['-r', c.caseDir, dir]);
    const cp = writeCheckpoint(dir, readEntries(dir).entries[0]!.case, [c.signer]);
    await appendEntry(dir, { action: 'note', details: { text: 'after the checkpoint' } }, c.signer);
    const out = join(tmp.dir, 'custody-checkpoint.pdf');
    const r = runCli(['report', 'custody', '--case-dir', dir, '--out', out], { env: { ...c.env, ...EPOCH } });
    expect(r.status).toBe(0);
    const t = text(out);
    expect(t).toContain('Trust anchors, checkpoints and timestamps');
    expect(t).toContain('integrity only: the case names no trust anchor');
    // The root, wrapped at whole hash groups in its column.
    expect(t.replace(/\s+/g, '')).toContain(cp.root.slice(0, 16));
    expect(t).toContain('the ledger extends');
    const names = spawnSync('qpdf', ['--list-attachments', out], { encoding: 'utf8' }).stdout;
    expect(names).toContain(`checkpoints/${cp.path.split('/').pop()}`);
    expect(names).toContain('checkpoint-proof.json');
    const proofFile = join(tmp.dir, 'checkpoint-proof.json');
    expect(spawnSync('qpdf', [`--show-attachment=checkpoint-proof.json`, out], { encoding: 'utf8' }).status).toBe(0);
    writeFileSync(proofFile, spawnSync('qpdf', [`--show-attachment=checkpoint-proof.json`, out]).stdout);
    const proof = JSON.parse(readFileSync(proofFile, 'utf8')) as { checkpointSize: number; checkpointRoot: string; treeSize: number; root: string; proof: string[] };
    // The proof, recomputed by the independent RFC 9162 implementation from the ledger's lines.
    // The report covers the ledger as it was; its own report-export entry came after it.
    const all = readFileSync(join(dir, 'custody.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(JSON.parse(all.at(-1)!).action).toBe('report-export');
    const lines = all.slice(0, -1);
    const ref = spawnSync('python3', [join(__dirname, '..', 'fixtures', 'merkle', 'rfc9162_reference.py')], {
      input: JSON.stringify({ leaves: lines.map((l) => Buffer.from(l).toString('hex')), roots: [cp.size, lines.length], paths: [], proofs: [[cp.size, lines.length]] }),
      encoding: 'utf8',
    });
    const want = JSON.parse(ref.stdout) as { roots: string[]; proofs: string[][] };
    expect(proof).toEqual({ about: expect.any(String), checkpointSize: cp.size, checkpointRoot: want.roots[0], treeSize: lines.length, root: want.roots[1], proof: want.proofs[0] });
    expect(proof.checkpointRoot).toBe(cp.root);
  });
});
