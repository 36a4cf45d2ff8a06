/** Verification of the whole ledger: the tamper matrix (each change caught at the right entry, for the right reason) and the worker thread. */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalBytes, sha256Hex } from '../../../src/custody/canonical';
import { entryHash, genesisHash, type LedgerEntry } from '../../../src/custody/entry';
import type { Signer } from '../../../src/custody/identity';
import { appendEntry } from '../../../src/custody/storage';
import { verifyLedger } from '../../../src/custody/verify';
import { fixedEnvironment, ROOT } from '../../helpers';
import { type CustodyFixture, custodyFixture, lines, signAs, writeLines } from './support';

let fx: CustodyFixture;
let template: string;
let copy: () => string;
let alex: Signer;
let mallory: Signer;
let fakeAlex: Signer;

beforeAll(async () => {
  fx = await custodyFixture(["Mallory", "fake Alex"]);
  ({ template, copy } = fx);
  alex = fx.signers['Alex Morgan']!;
  mallory = fx.signers['Mallory']!;
  fakeAlex = fx.signers['fake Alex']!;
});
afterAll(() => fx.tmp.cleanup());

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
