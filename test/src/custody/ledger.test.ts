import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalBytes, sha256Hex } from '../../../src/custody/canonical';
import { exportForOpenssl } from '../../../src/custody/export';
import { createIdentity, loadSigner, type Signer } from '../../../src/custody/identity';
import { appendEntry, entryBytes, entryHash, genesisHash, initCase, type LedgerEntry, readEntries, repairLedger, verifyLedger } from '../../../src/custody';
import { acceptCustody, transferCustody } from '../../../src/custody/transfer';
import { fixedEnvironment, makeTempDir, ROOT } from '../../helpers';

const PASS = 'correct horse battery';
let tmp: ReturnType<typeof makeTempDir>;
let home: string;
let alex: Signer;
let sam: Signer;
let mallory: Signer;
let fakeAlex: Signer;
let template: string;
let n = 0;

/** A copy of the template ledger to tamper with. */
const copy = () => {
  const d = join(tmp.dir, `case-${n++}`);
  cpSync(template, d, { recursive: true });
  return d;
};
const ledgerFile = (d: string) => join(d, 'custody.jsonl');
const lines = (d: string) => readFileSync(ledgerFile(d), 'utf8').split('\n').filter(Boolean);
const writeLines = (d: string, ls: string[]) => writeFileSync(ledgerFile(d), ls.map((l) => `${l}\n`).join(''));
/** Signs an entry the way custos does, with any signer (how a forger would). */
const signAs = (e: Omit<LedgerEntry, 'sig'>, s: Signer): LedgerEntry => ({ ...e, sig: { alg: 'RS256', cert: s.identity.fingerprint, value: s.sign(entryBytes(e)) } });

beforeAll(async () => {
  tmp = makeTempDir();
  home = join(tmp.dir, 'home');
  createIdentity({ name: 'Alex Morgan', role: 'examiner', passphrase: PASS, home, now: new Date('2026-01-01T00:00:00Z') });
  createIdentity({ name: 'Sam Lee', role: 'lab analyst', passphrase: PASS, home, now: new Date('2026-01-01T00:00:00Z') });
  createIdentity({ name: 'Mallory', role: 'intruder', passphrase: PASS, home, now: new Date('2026-01-01T00:00:00Z') });
  const otherHome = join(tmp.dir, 'home2');
  createIdentity({ name: 'Alex Morgan', role: 'examiner', passphrase: PASS, home: otherHome, now: new Date('2026-01-01T00:00:00Z') });
  const at = new Date('2026-03-14T10:00:00Z');
  alex = loadSigner(home, 'Alex Morgan', PASS, at);
  sam = loadSigner(home, 'Sam Lee', PASS, at);
  mallory = loadSigner(home, 'Mallory', PASS, at);
  fakeAlex = loadSigner(otherHome, 'Alex Morgan', PASS, at);
  template = join(tmp.dir, 'template');
  const env = fixedEnvironment('2026-03-14T09:00:00Z');
  await initCase(template, { caseId: '2026-0314-HARBOUR', description: 'USB stick', purpose: 'warrant 26-WR-0419' }, alex, env);
  await appendEntry(template, { action: 'acquire-start', evidence: ['EV-0001'] }, alex, env);
  await appendEntry(template, { action: 'acquire-complete', evidence: ['EV-0001'], details: { hashes: { md5: 'e59bf7cee4c9e04c2b81e8580a848d74' } } }, alex, env);
  await appendEntry(template, { action: 'note', evidence: ['EV-0001'], details: { text: 'Sealed in bag A1234567' } }, alex, env);
  await appendEntry(template, { action: 'note', evidence: ['EV-0001'], details: { text: 'Moved to locker 4' } }, alex, env);
  await appendEntry(template, { action: 'verify', evidence: ['EV-0001'], details: { verdict: 'match' } }, alex, env);
});
afterAll(() => tmp.cleanup());

test('an intact ledger verifies; its head is the SHA-256 of the last entry\'s RFC 8785 bytes', async () => {
  const r = (await verifyLedger(template));
  expect(r).toMatchObject({ verdict: 'ok', entries: 6, case: '2026-0314-HARBOUR', openTransfers: [] });
  const last = JSON.parse(lines(template)[5]!) as LedgerEntry;
  const { sig: _s, ...unsigned } = last;
  expect(r.head).toEqual({ seq: 5, hash: sha256Hex(canonicalBytes(unsigned)) });
  const first = JSON.parse(lines(template)[0]!) as LedgerEntry;
  expect(first.prev).toBe(genesisHash('2026-0314-HARBOUR'));
  expect(first.prev).toBe(require('node:crypto').createHash('sha256').update('2026-0314-HARBOUR').digest('hex'));
});

describe('the tamper matrix: each change is caught at the right entry', () => {
  test('a changed byte in an entry → its signature fails (line 4, seq 3)', async () => {
    const d = copy();
    const ls = lines(d);
    ls[3] = ls[3]!.replace('Sealed', 'Sealad');
    writeLines(d, ls);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 4, seq: 3, reason: expect.stringContaining('signature does not verify') });
  });

  test('a changed prev → the chain breaks at that entry', async () => {
    const d = copy();
    const ls = lines(d);
    const e = JSON.parse(ls[2]!);
    e.prev = e.prev.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    ls[2] = JSON.stringify(e);
    writeLines(d, ls);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 3, seq: 2, reason: expect.stringContaining('prev') });
  });

  test('a deleted entry → sequence gap at the next line', async () => {
    const d = copy();
    const ls = lines(d);
    ls.splice(2, 1);
    writeLines(d, ls);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 3, seq: 3, reason: expect.stringContaining('sequence number 3 where 2') });
  });

  test('a deleted entry with the later ones renumbered → the chain breaks there', async () => {
    const d = copy();
    const ls = lines(d).map((l) => JSON.parse(l));
    ls.splice(2, 1);
    for (let i = 2; i < ls.length; i++) ls[i].seq = i;
    writeLines(d, ls.map((e) => JSON.stringify(e)));
    // The renumbered entry's prev still names the deleted one: the chain catches it before the signature does.
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 3, seq: 2, reason: expect.stringContaining('prev') });
  });

  test('two entries swapped → sequence error where the order breaks', async () => {
    const d = copy();
    const ls = lines(d);
    [ls[3], ls[4]] = [ls[4]!, ls[3]!];
    writeLines(d, ls);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 4, seq: 4, reason: expect.stringContaining('sequence') });
  });

  test('an entry re-signed by another key (attacker keeps the actor) → signer is not the actor', async () => {
    const d = copy();
    const ls = lines(d);
    const { sig: _s, ...e } = JSON.parse(ls[3]!) as LedgerEntry;
    e.details = { text: 'Seal was broken on arrival' };
    ls[3] = JSON.stringify(signAs(e, mallory));
    writeLines(d, ls);
    cpSync(join(template, 'certs'), join(d, 'certs'), { recursive: true });
    writeFileSync(join(d, 'certs', `${mallory.identity.fingerprint}.pem`), mallory.certPem);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 4, seq: 3, reason: expect.stringContaining('but the actor Alex Morgan is certificate') });
  });

  test("an entry re-signed as the actor with the attacker's certificate → not that actor's certificate", async () => {
    const d = copy();
    const ls = lines(d);
    const { sig: _s, ...e } = JSON.parse(ls[5]!) as LedgerEntry;
    e.actor = { ...e.actor, cert: mallory.identity.fingerprint };
    ls[5] = JSON.stringify(signAs(e, mallory));
    writeLines(d, ls);
    writeFileSync(join(d, 'certs', `${mallory.identity.fingerprint}.pem`), mallory.certPem);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 6, seq: 5, reason: expect.stringContaining("signed by the certificate of 'Mallory'") });
  });

  test('the last entry forged with a second certificate in the same name → not the named actor\'s key', async () => {
    const d = copy();
    const ls = lines(d);
    const { sig: _s, ...e } = JSON.parse(ls[5]!) as LedgerEntry;
    e.actor = { ...e.actor, cert: fakeAlex.identity.fingerprint };
    e.details = { verdict: 'mismatch' };
    ls[5] = JSON.stringify(signAs(e, fakeAlex));
    writeLines(d, ls);
    writeFileSync(join(d, 'certs', `${fakeAlex.identity.fingerprint}.pem`), fakeAlex.certPem);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 6, seq: 5, reason: expect.stringContaining("not the named actor's key") });
  });

  test('an entry that breaks the schema → named with the schema problem', async () => {
    const d = copy();
    const ls = lines(d);
    const e = JSON.parse(ls[2]!);
    e.extra = 'smuggled';
    ls[2] = JSON.stringify(e);
    writeLines(d, ls);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 3, seq: 2, reason: expect.stringContaining('must NOT have additional properties') });
  });

  test('a line that is not JSON → named', async () => {
    const d = copy();
    const ls = lines(d);
    ls[1] = ls[1]!.slice(0, 40);
    writeLines(d, ls);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 2, reason: expect.stringContaining('not valid JSON') });
  });

  test('a damaged certificate in certs/ → INVALID naming the certificate file (never an internal error); the CLI exits 4', async () => {
    const d = copy();
    const fp = JSON.parse(lines(d)[0]!).sig.cert as string;
    const pem = join(d, 'certs', `${fp}.pem`);
    const text = readFileSync(pem, 'utf8');
    // Damage inside the DER, keeping valid base64: the ASN.1 parser itself meets it ("wrong tag").
    const body = Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    body[4] ^= 0xff;
    writeFileSync(pem, `-----BEGIN CERTIFICATE-----\n${body.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
    const r = await verifyLedger(d);
    expect(r.verdict).toBe('invalid');
    expect(r.firstBad).toMatchObject({ line: 1, seq: 0, reason: expect.stringContaining(`certificate file ${pem} cannot be used`) });
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), 'ledger', 'verify', '--case-dir', d], { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
    expect(cli.status).toBe(4);
    expect(cli.stdout).toContain(`FIRST BAD ENTRY: line 1 (seq 0): certificate file ${pem} cannot be used`);
    expect(cli.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  test('tail truncation: invisible to the chain alone, caught against the expected head', async () => {
    const head = (await verifyLedger(template)).head!.hash;
    const d = copy();
    writeLines(d, lines(d).slice(0, 4));
    expect((await verifyLedger(d)).verdict).toBe('ok');
    const r = (await verifyLedger(d, { expectHead: head }));
    expect(r.verdict).toBe('invalid');
    expect(r.firstBad!.reason).toContain('cut off the end');
    // An older head is still found: a ledger may grow after its head was anchored.
    const older = (await verifyLedger(d)).head!.hash;
    expect((await verifyLedger(template, { expectHead: older }))).toMatchObject({ verdict: 'ok', expectHead: { found: true, at: 3 } });
  });

  test('a timestamp earlier than the previous entry → refused on append, caught on verify', async () => {
    const d = copy();
    await expect(appendEntry(d, { action: 'note', details: { text: 'x' } }, alex, fixedEnvironment('2026-03-14T08:00:00Z'))).rejects.toMatchObject({
      message: expect.stringContaining('earlier than the last ledger entry'),
    });
    const ls = lines(d);
    const last = JSON.parse(ls[5]!) as LedgerEntry;
    const e: Omit<LedgerEntry, 'sig'> = { ...last, seq: 6, id: '00000000-0000-4000-8000-000000000000', prev: entryHash(last), time: { ...last.time, utc: '2026-03-14T08:00:00.000Z' } };
    delete (e as { sig?: unknown }).sig;
    writeLines(d, [...ls, JSON.stringify(signAs(e, alex))]);
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 7, seq: 6, reason: expect.stringContaining('earlier than the previous entry') });
  });

  test("an entry dated outside its signer's certificate validity → caught", async () => {
    const d = copy();
    await appendEntry(d, { action: 'note', details: { text: 'late' } }, alex, fixedEnvironment('2031-01-01T00:00:00Z'));
    expect((await verifyLedger(d)).firstBad).toMatchObject({ line: 7, seq: 6, reason: expect.stringContaining('was not valid at 2031') });
  });
});

test('signatures checked on a worker thread (long ledgers) give exactly the report of the in-order walk', async () => {
  expect(await verifyLedger(template, { parallel: true })).toEqual(await verifyLedger(template));
  const d = copy();
  const ls = lines(d);
  ls[3] = ls[3]!.replace('Sealed', 'Sealad');
  writeLines(d, ls);
  const parallel = await verifyLedger(d, { parallel: true });
  expect(parallel).toEqual(await verifyLedger(d));
  expect(parallel.firstBad).toMatchObject({ line: 4, seq: 3, reason: expect.stringContaining('signature') });
  expect(parallel.head).toMatchObject({ seq: 2 });
});

describe('torn last line (a crash in the middle of a write)', () => {
  test('the entries before it verify, appends are refused, repair removes it and records the repair', async () => {
    const d = copy();
    const full = JSON.stringify({ ...JSON.parse(lines(d)[5]!), seq: 6 });
    appendFileSync(ledgerFile(d), full.slice(0, 100));
    const r = (await verifyLedger(d));
    expect(r).toMatchObject({ verdict: 'ok', entries: 6, torn: { line: 7, bytes: 100 } });
    await expect(appendEntry(d, { action: 'note', details: { text: 'x' } }, alex, fixedEnvironment('2026-03-14T11:00:00Z'))).rejects.toMatchObject({ code: 'LEDGER_TORN' });
    const repair = await repairLedger(d, alex, fixedEnvironment('2026-03-14T11:00:00Z'));
    expect(repair).toMatchObject({ seq: 6, action: 'repair', details: { removedLine: 7, removedBytes: 100, removedSha256: sha256Hex(full.slice(0, 100)) } });
    expect(readFileSync(String(repair.details.keptIn), 'utf8')).toBe(full.slice(0, 100));
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'ok', entries: 7 });
    await expect(repairLedger(d, alex)).rejects.toMatchObject({ message: expect.stringContaining('nothing to repair') });
  });
});

describe('transfer of custody', () => {
  test('open until the recipient accepts; nobody else can accept it', async () => {
    const d = copy();
    const env = fixedEnvironment('2026-03-14T12:00:00Z');
    const t = await transferCustody(d, { to: 'Sam Lee', reason: 'to the lab for analysis', home }, alex, env);
    expect(t.details.to).toEqual({ name: 'Sam Lee', role: 'lab analyst', cert: sam.identity.fingerprint });
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'open-transfers', openTransfers: [{ seq: 6, from: 'Alex Morgan', to: 'Sam Lee', reason: 'to the lab for analysis' }] });
    await expect(acceptCustody(d, {}, mallory, env)).rejects.toMatchObject({ message: expect.stringContaining('no open transfer to Mallory') });

    // A forged acceptance by someone else is caught by verification.
    const forged = copy();
    cpSync(d, forged, { recursive: true });
    await appendEntry(forged, { action: 'accept', details: { transferSeq: 6 } }, mallory, env);
    expect((await verifyLedger(forged)).firstBad).toMatchObject({ line: 8, seq: 7, reason: expect.stringContaining('was to Sam Lee, but Mallory accepted it') });

    const a = await acceptCustody(d, { note: 'seal intact' }, sam, env);
    expect(a.details).toMatchObject({ transferSeq: 6, note: 'seal intact' });
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'ok', openTransfers: [] });
  });
});

describe('export for openssl: verify.sh checks the ledger without custos', () => {
  test('passes on a good ledger, with the same head', async () => {
    const out = join(tmp.dir, 'export-good');
    expect(exportForOpenssl(template, out).entries).toBe(6);
    const r = spawnSync('sh', [join(out, 'verify.sh'), (await verifyLedger(template)).head!.hash], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('OK: 6 entries');
    expect(r.stdout).toContain(`head: seq 5 sha256 ${(await verifyLedger(template)).head!.hash}`);
  });

  test.each([
    ['a changed entry', (ls: string[]) => ((ls[3] = ls[3]!.replace('Sealed', 'Sealad')), ls), 'entry 000003: signature does not verify'],
    ['a deleted entry', (ls: string[]) => (ls.splice(2, 1), ls), 'entry 000003: prev'],
    ['swapped entries', (ls: string[]) => ([ls[3], ls[4]] = [ls[4]!, ls[3]!], ls), 'entry 000004: prev'],
  ])('fails on %s', async (_label, tamper, message) => {
    const d = copy();
    writeLines(d, tamper(lines(d)));
    const out = join(tmp.dir, `export-${n++}`);
    exportForOpenssl(d, out);
    const r = spawnSync('sh', [join(out, 'verify.sh')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`FAIL: ${message}`);
  });

  test('fails when the head is not the one expected (truncation)', async () => {
    const d = copy();
    const head = (await verifyLedger(d)).head!.hash;
    writeLines(d, lines(d).slice(0, 5));
    const out = join(tmp.dir, `export-${n++}`);
    exportForOpenssl(d, out);
    const r = spawnSync('sh', [join(out, 'verify.sh'), head], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('expected');
  });
});

describe('concurrency and crashes', () => {
  const appender = (dir: string, count: number, label: string) =>
    spawn(process.execPath, [
      '-e',
      `const { loadSigner } = require(${JSON.stringify(join(ROOT, 'dist/src/custody/identity'))});
       const { appendEntry } = require(${JSON.stringify(join(ROOT, 'dist/src/custody'))});
       (async () => {
         const s = loadSigner(${JSON.stringify(home)}, 'Alex Morgan', ${JSON.stringify(PASS)}, new Date('2026-03-14T10:00:00Z'));
         for (let i = 0; i < ${count}; i++) await appendEntry(${JSON.stringify(dir)}, { action: 'note', details: { text: '${label} ' + i } }, s);
       })().catch((e) => { console.error(e); process.exit(1); });`,
    ]);
  const exit = (p: ReturnType<typeof spawn>) => new Promise<number | null>((r) => p.on('exit', (code) => r(code)));

  test('8 processes appending 100 entries each: 800 entries, an intact chain', async () => {
    const d = copy();
    const procs = Array.from({ length: 8 }, (_, i) => appender(d, 100, `p${i}`));
    expect(await Promise.all(procs.map(exit))).toEqual(Array(8).fill(0));
    const r = (await verifyLedger(d));
    expect(r).toMatchObject({ verdict: 'ok', entries: 806 });
    const texts = readEntries(d).entries.map((e) => String(e.details.text ?? ''));
    for (let p = 0; p < 8; p++) expect(texts.filter((t) => t.startsWith(`p${p} `))).toHaveLength(100);
  }, 180_000);

  test('kill -9 while appending: the ledger still verifies (or reports its torn line) and appends resume', async () => {
    const d = copy();
    const p = appender(d, 100_000, 'doomed');
    await new Promise((r) => setTimeout(r, 1500));
    p.kill('SIGKILL');
    await exit(p);
    const r = (await verifyLedger(d));
    expect(r.firstBad).toBeUndefined();
    expect(r.entries).toBeGreaterThan(6);
    if (r.torn) await repairLedger(d, alex);
    // The dead process's lock goes stale; the next append waits for that and proceeds.
    const e = await appendEntry(d, { action: 'note', details: { text: 'after the crash' } }, alex);
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'ok', head: { seq: e.seq } });
  }, 60_000);
});
