/**
 * Timestamps as a lab uses them, against a real TSA (openssl ts -reply behind test/tsa/server.js on
 * 127.0.0.1, started and stopped here): a case opened with --tsa/--tsa-cert is timestamped after
 * its acquisition, `ledger timestamp` on request; every token verifies with `openssl ts -verify`
 * over the checkpoint file; `ledger verify` reports when each checkpoint existed and fails for a
 * token that is not the checkpoint's, or that chains to another CA.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestTimestamp } from '../../src/custody/timestamp';
import { makeTempDir, runCli, SAMPLE_IMAGE } from '../helpers';
import { startTestTsa, type TestTsa } from '../tsa/tsa';

let tmp: ReturnType<typeof makeTempDir>;
let tsa: TestTsa;
let env: NodeJS.ProcessEnv;
let caseDir: string;
let caFile: string;
const cli = (args: string[]) => runCli(args, { env });
const entries = (dir: string) => readFileSync(join(dir, 'custody.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; details: Record<string, unknown> });

/** What `openssl ts -verify` says of a token over a checkpoint file, trusting `ca`. */
function opensslVerify(checkpoint: string, token: string, ca: string): string {
  const r = spawnSync('openssl', ['ts', '-verify', '-data', checkpoint, '-in', token, '-token_in', '-CAfile', ca], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => !l.startsWith('Using configuration from')).join('\n').trim();
}

beforeAll(async () => {
  tmp = makeTempDir('custos-timestamp-cli-');
  tsa = await startTestTsa(join(tmp.dir, 'pki'));
  caFile = join(tmp.dir, 'tsa-root.pem');
  writeFileSync(caFile, tsa.caPem);
  caseDir = join(tmp.dir, 'case');
  env = { CUSTOS_HOME: join(tmp.dir, 'home'), CUSTOS_PASSPHRASE: 'correct horse battery', CUSTOS_CASE_DIR: caseDir };
  expect(cli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner']).status).toBe(0);
});
afterAll(async () => {
  await tsa?.stop();
  tmp?.cleanup();
});

test('a case opened with a TSA: the acquisition is checkpointed and timestamped; openssl ts -verify agrees; ledger verify shows when', () => {
  expect(cli(['case', 'init', caseDir, '--case', 'C-TSA', '--tsa', tsa.url, '--tsa-cert', caFile]).status).toBe(0);
  const a = cli(['acquire', SAMPLE_IMAGE, '-o', caseDir, '--name', 'ev', '--no-progress', '--hash', 'md5']);
  expect(a.status).toBe(0);
  expect(a.stderr).toMatch(/timestamp: checkpoint of 3 entries timestamped by http:\/\/127\.0\.0\.1:\d+\/tsa\/tsa_rsa at 20\d\d-/);
  expect(entries(caseDir).map((e) => e.action)).toEqual(['case-open', 'acquire-start', 'acquire-complete', 'checkpoint', 'timestamp']);
  const files = readdirSync(join(caseDir, 'checkpoints')).sort();
  expect(files).toEqual(['checkpoint-0000000003.tsr', 'checkpoint-0000000003.txt']);
  const cp = join(caseDir, 'checkpoints', files[1]!);
  const token = join(caseDir, 'checkpoints', files[0]!);
  expect(opensslVerify(cp, token, caFile)).toBe('Verification: OK');
  const t = entries(caseDir)[4]!.details as { genTime: string; token: { sha256: string }; checkpoint: { size: number } };
  expect(t.checkpoint.size).toBe(3);
  expect(t.token.sha256).toBe(spawnSync('sha256sum', [token], { encoding: 'utf8' }).stdout.split(' ')[0]);
  // The time openssl reads from the token is the one recorded.
  const text = spawnSync('openssl', ['ts', '-reply', '-in', token, '-token_in', '-token_out', '-text'], { encoding: 'utf8' }).stdout;
  expect(new Date(/Time stamp: (.*)/.exec(text)![1]!).getTime()).toBe(Math.floor(new Date(t.genTime).getTime() / 1000) * 1000);
  const v = cli(['ledger', 'verify']);
  expect(v.status).toBe(0);
  expect(v.stdout).toContain(`timestamp ${token}: the checkpoint existed at ${t.genTime}`);
});

test('ledger timestamp on request; a token swapped onto another checkpoint, or checked against another CA, fails (exit 4)', () => {
  expect(cli(['ledger', 'note', 'Sealed in bag A1234567']).status).toBe(0);
  const r = cli(['ledger', 'timestamp', '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout) as { checkpoint: string; token: string; size: number; genTime: string };
  expect(out.size).toBe(6);
  expect(opensslVerify(out.checkpoint, out.token, caFile)).toBe('Verification: OK');
  expect(cli(['ledger', 'verify']).status).toBe(0);

  const other = join(tmp.dir, 'other-ca.pem');
  writeFileSync(other, tsa.otherCaPem);
  const untrusted = cli(['ledger', 'verify', '--tsa-cert', other]);
  expect(untrusted.status).toBe(4);
  expect(untrusted.stdout).toMatch(/TIMESTAMP FAILS: .*checkpoint-0000000003\.tsr: /);

  const swapped = join(tmp.dir, 'swapped');
  spawnSync('cp', ['-a', caseDir, swapped]);
  copyFileSync(out.token, join(swapped, 'checkpoints', 'checkpoint-0000000003.tsr'));
  const bad = cli(['ledger', 'verify', '--case-dir', swapped]);
  expect(bad.status).toBe(4);
  expect(bad.stdout).toMatch(/TIMESTAMP FAILS: .*checkpoint-0000000003\.tsr: .*other data/);
  expect(opensslVerify(join(swapped, 'checkpoints', 'checkpoint-0000000003.txt'), join(swapped, 'checkpoints', 'checkpoint-0000000003.tsr'), caFile)).toMatch(/Verification: FAILED/);
});

test('a TSA that fails after an acquisition: the acquisition stands, the failure is recorded and told', () => {
  const dir = join(tmp.dir, 'case-down');
  expect(cli(['case', 'init', dir, '--case', 'C-DOWN', '--tsa', tsa.faultUrl('http500'), '--tsa-cert', caFile]).status).toBe(0);
  const a = runCli(['acquire', SAMPLE_IMAGE, '-o', dir, '--name', 'ev', '--no-progress', '--hash', 'md5'], { env: { ...env, CUSTOS_CASE_DIR: dir } });
  expect(a.status).toBe(0);
  expect(a.stderr).toMatch(/timestamp failed: .*HTTP 500/);
  const last = entries(dir).at(-1)!;
  expect(last).toMatchObject({ action: 'timestamp', details: { error: { code: 'IO_ERROR' } } });
  expect(runCli(['ledger', 'verify'], { env: { ...env, CUSTOS_CASE_DIR: dir } }).status).toBe(0);
});

test('ledger timestamp without a TSA: a usage error naming what to give', () => {
  const dir = join(tmp.dir, 'case-none');
  expect(cli(['case', 'init', dir, '--case', 'C-NONE']).status).toBe(0);
  const r = runCli(['ledger', 'timestamp'], { env: { ...env, CUSTOS_CASE_DIR: dir } });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^custos: error: no timestamp authority: the case .* names none\. Give --tsa URL --tsa-cert PEM/);
});

test('the acquisition report, made in the case, shows the entry, the checkpoint covering it and its timestamp, and embeds the inclusion proof', () => {
  const out = join(tmp.dir, 'acquisition.pdf');
  const r = cli(['report', 'acquisition', join(caseDir, 'ev.manifest.json'), '--out', out]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const text = spawnSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' }).stdout;
  expect(text).toContain('In the chain of custody');
  expect(text).toMatch(/Ledger entry\s+#2 of case C-TSA/);
  expect(text).toMatch(/Timestamp \(RFC 3161\)\s+20\d\d-\d\d-\d\dT[\d:.]+Z by /);
  const proof = JSON.parse(spawnSync('qpdf', ['--show-attachment=ledger-inclusion-proof.json', out], { encoding: 'utf8' }).stdout) as { seq: number; treeSize: number; root: string; leafHash: string; proof: string[] };
  expect(proof.seq).toBe(2);
  // Recomputed by the independent RFC 9162 implementation from the ledger's lines.
  const lines = readFileSync(join(caseDir, 'custody.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, proof.treeSize);
  const ref = spawnSync('python3', [join(__dirname, '..', 'fixtures', 'merkle', 'rfc9162_reference.py')], {
    input: JSON.stringify({ leaves: lines.map((l) => Buffer.from(l).toString('hex')), roots: [proof.treeSize], paths: [[2, proof.treeSize]], proofs: [] }),
    encoding: 'utf8',
  });
  const want = JSON.parse(ref.stdout) as { leafHashes: string[]; roots: string[]; paths: string[][] };
  expect(proof).toMatchObject({ leafHash: want.leafHashes[2], root: want.roots[0], proof: want.paths[0] });
  expect(spawnSync('qpdf', ['--list-attachments', out], { encoding: 'utf8' }).stdout).toMatch(/checkpoints\/checkpoint-\d{10}\.tsr/);
});

test('the verification report, made in the case, shows the acquisition\'s entry and checkpoint and embeds its inclusion proof', () => {
  const out = join(tmp.dir, 'verification.pdf');
  const r = cli(['report', 'verification', join(caseDir, 'ev.manifest.json'), '--out', out]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const text = spawnSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' }).stdout;
  expect(text).toContain('The acquisition in the chain of custody');
  expect(text).toMatch(/Ledger entry\s+#2 of case C-TSA/);
  const proof = JSON.parse(spawnSync('qpdf', ['--show-attachment=ledger-inclusion-proof.json', out], { encoding: 'utf8' }).stdout) as { seq: number; treeSize: number; root: string; leafHash: string; proof: string[] };
  const lines = readFileSync(join(caseDir, 'custody.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, proof.treeSize);
  const ref = spawnSync('python3', [join(__dirname, '..', 'fixtures', 'merkle', 'rfc9162_reference.py')], {
    input: JSON.stringify({ leaves: lines.map((l) => Buffer.from(l).toString('hex')), roots: [proof.treeSize], paths: [[2, proof.treeSize]], proofs: [] }),
    encoding: 'utf8',
  });
  const want = JSON.parse(ref.stdout) as { leafHashes: string[]; roots: string[]; paths: string[][] };
  expect(proof).toMatchObject({ seq: 2, leafHash: want.leafHashes[2], root: want.roots[0], proof: want.paths[0] });
});

test('a genuine token for the same checkpoint but from another request (not the nonce the ledger recorded) is refused', async () => {
  const copy = join(tmp.dir, 'other-request');
  spawnSync('cp', ['-a', caseDir, copy]);
  const cp = join(copy, 'checkpoints', 'checkpoint-0000000003.txt');
  const digest = createHash('sha256').update(readFileSync(cp)).digest();
  writeFileSync(join(copy, 'checkpoints', 'checkpoint-0000000003.tsr'), await requestTimestamp(tsa.url, digest));
  const r = cli(['ledger', 'verify', '--case-dir', copy]);
  expect(r.status).toBe(4);
  expect(r.stdout).toMatch(/TIMESTAMP FAILS: .*checkpoint-0000000003\.tsr: .*nonce/);
});
