import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeTempDir, runCli, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];
/** Runs custos with this test's identity home and passphrase, keeping every output for the key-leak check. */
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
  const r = runCli(args, { env: { ...env, ...extra } });
  outputs.push(r.stdout, r.stderr);
  return r;
};

beforeAll(() => {
  tmp = makeTempDir();
  env = { CUSTOS_HOME: join(tmp.dir, 'home'), CUSTOS_PASSPHRASE: 'correct horse battery' };
});
afterAll(() => tmp.cleanup());

test('identity, case, every evidence command recorded, transfer and accept, verify, export — as a user runs them', () => {
  expect(cli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner']).status).toBe(0);
  expect(cli(['identity', 'create', '--name', 'Sam Lee', '--role', 'lab analyst', '--json']).status).toBe(0);
  const list = JSON.parse(cli(['identity', 'list', '--json']).stdout);
  expect(list.identities.map((i: { name: string }) => i.name)).toEqual(['Alex Morgan', 'Sam Lee']);
  for (const i of list.identities) expect(i.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  for (const d of readdirSync(join(env.CUSTOS_HOME!, 'identities'))) {
    expect(statSync(join(env.CUSTOS_HOME!, 'identities', d, 'key.pem')).mode & 0o777).toBe(0o600);
  }

  const caseDir = join(tmp.dir, 'case');
  const as = { CUSTOS_IDENTITY: 'Alex Morgan', CUSTOS_CASE_DIR: caseDir };
  expect(cli(['case', 'init', caseDir, '--case', '2026-0314-HARBOUR', '--purpose', 'warrant 26-WR-0419'], as).status).toBe(0);
  expect(cli(['acquire', SAMPLE_IMAGE, '-o', caseDir, '--case-file', 'samples/case.json', '--no-progress'], as).status).toBe(0);
  expect(cli(['verify', join(caseDir, 'EV-0001.manifest.json'), '--no-progress'], as).status).toBe(0);
  expect(cli(['hash', SAMPLE_IMAGE], as).status).toBe(0);
  expect(cli(['info', SAMPLE_IMAGE], as).status).toBe(0);
  expect(cli(['ledger', 'note', 'Sealed in bag A1234567', '--evidence', 'EV-0001'], as).status).toBe(0);
  expect(cli(['ledger', 'transfer', '--to', 'Sam Lee', '--reason', 'to the lab'], as).status).toBe(0);

  const open = cli(['ledger', 'verify'], as);
  expect(open.status).toBe(0);
  expect(open.stdout).toContain('OPEN TRANSFER: #7 from Alex Morgan to Sam Lee');
  expect(cli(['ledger', 'show'], as).stdout).toContain('OPEN TRANSFER #7');
  expect(cli(['ledger', 'accept', '--note', 'seal intact'], { ...as, CUSTOS_IDENTITY: 'Sam Lee' }).status).toBe(0);

  const show = JSON.parse(cli(['ledger', 'show', '--json'], as).stdout);
  expect(show.entries.map((e: { action: string }) => e.action)).toEqual([
    'case-open', 'acquire-start', 'acquire-complete', 'verify', 'hash', 'info', 'note', 'transfer', 'accept',
  ]);
  const complete = show.entries[2];
  expect(complete.details.hashes.md5).toBe('e59bf7cee4c9e04c2b81e8580a848d74');
  expect(complete.details.manifest.sha256).toBe(require('node:crypto').createHash('sha256').update(readFileSync(join(caseDir, 'EV-0001.manifest.json'))).digest('hex'));
  expect(complete.purpose).toBeUndefined();
  expect(show.verdict).toBe('ok');

  const head = cli(['ledger', 'head', '--out', join(tmp.dir, 'head.json'), '--json'], as);
  expect(head.status).toBe(0);
  const out = join(tmp.dir, 'export');
  expect(cli(['ledger', 'export', '--openssl', out], as).status).toBe(0);
  const sh = spawnSync('sh', [join(out, 'verify.sh'), JSON.parse(head.stdout).hash], { encoding: 'utf8' });
  expect(sh.stdout).toContain('OK: 9 entries');

  // Cut the last two entries off: only the anchored head shows it.
  const file = join(caseDir, 'custody.jsonl');
  writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 7).join('\n') + '\n');
  expect(cli(['ledger', 'verify'], as).status).toBe(0);
  const cut = cli(['ledger', 'verify', '--expect-head', join(tmp.dir, 'head.json')], as);
  expect(cut.status).toBe(4);
  expect(cut.stdout).toMatch(/FIRST BAD ENTRY: line 8: the expected head .* cut off the end/);

  // A changed byte: exit 4 naming the entry.
  writeFileSync(file, readFileSync(file, 'utf8').replace('Sealed in bag', 'Sealed in box'));
  const bad = cli(['ledger', 'verify'], as);
  expect(bad.status).toBe(4);
  expect(bad.stdout).toMatch(/FIRST BAD ENTRY: line 7 \(seq 6\): signature does not verify/);
});

test('passphrase problems are one-line errors', () => {
  const home = { CUSTOS_HOME: join(tmp.dir, 'home') };
  const wrong = cli(['ledger', 'note', 'x', '--case-dir', join(tmp.dir, 'case'), '--identity', 'Alex Morgan'], { ...home, CUSTOS_PASSPHRASE: 'wrong passphrase' });
  expect(wrong.status).toBe(3);
  expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
  expect(wrong.stderr).toContain('wrong passphrase');
  const none = cli(['case', 'init', join(tmp.dir, 'c2'), '--case', 'X', '--identity', 'Alex Morgan'], { ...home, CUSTOS_PASSPHRASE: '' });
  expect(none.status).toBe(2);
  expect(none.stderr).toContain('CUSTOS_PASSPHRASE');
});

test('no output of any command above contains private key material', () => {
  const home = join(tmp.dir, 'home', 'identities');
  const keys = readdirSync(home).map((d) => readFileSync(join(home, d, 'key.pem'), 'utf8'));
  const all = outputs.join('\n');
  expect(all).not.toContain('PRIVATE KEY');
  for (const k of keys) {
    for (const line of k.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'))) expect(all).not.toContain(line);
  }
  expect(outputs.length).toBeGreaterThan(20);
});
