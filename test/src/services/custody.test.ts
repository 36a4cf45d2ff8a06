/**
 * The ledger services called directly, as the commands call them: real identities in a temporary
 * CUSTOS_HOME, real case folders; results, what is recorded, and outcomes (ok, mismatch, torn).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryHash, type IdentityRecord, type LedgerEntry } from '../../../src/custody';
import { ExitCode } from '../../../src/errors';
import { caseInit } from '../../../src/services/case';
import {
  ledgerAccept,
  ledgerExport,
  ledgerHead,
  ledgerNote,
  ledgerRepair,
  ledgerShow,
  ledgerTransfer,
  ledgerVerify,
  outcomeExitCode,
} from '../../../src/services/custody';
import { identityCreate } from '../../../src/services/identity';
import { PASS, temporaryHome, unlockWith } from './custody-support';

const t = temporaryHome();
let alex: IdentityRecord;
let sam: IdentityRecord;
let n = 0;
const unlock = unlockWith(PASS);
const ledgerLines = (dir: string) => readFileSync(join(dir, 'custody.jsonl'), 'utf8').split('\n').filter(Boolean);
const lastEntry = (dir: string) => JSON.parse(ledgerLines(dir).at(-1)!) as LedgerEntry;

/** A new case opened by Alex Morgan, with one note. */
async function openCase(): Promise<string> {
  const caseDir = join(t.dir, `case-${n++}`);
  await caseInit({ dir: caseDir, caseId: 'C-1', purpose: 'warrant 26-WR-0419', evidence: ['EV-1'], identity: 'Alex Morgan' }, unlock);
  await ledgerNote({ caseDir, identity: 'Alex Morgan', text: 'Sealed in bag A1234567', evidence: ['EV-1'] }, unlock);
  return caseDir;
}

beforeAll(async () => {
  alex = await identityCreate({ name: 'Alex Morgan', role: 'examiner', passphrase: PASS });
  sam = await identityCreate({ name: 'Sam Lee', role: 'lab analyst', passphrase: PASS });
});

test('outcomeExitCode: ok 0, mismatch 4, torn 3 (ledger verify --help)', () => {
  expect([outcomeExitCode('ok'), outcomeExitCode('mismatch'), outcomeExitCode('torn')]).toEqual([0, 4, 3]);
  expect([outcomeExitCode('mismatch'), outcomeExitCode('torn')]).toEqual([ExitCode.MISMATCH, ExitCode.INPUT]);
});

test('note, transfer and accept return the entries they record, signed by the identity named; verify: outcome ok throughout', async () => {
  const caseDir = await openCase();
  const note = await ledgerNote({ caseDir, identity: 'Alex Morgan', purpose: 'request 7', text: 'Moved to locker 4', evidence: ['EV-1'] }, unlock);
  expect(note).toMatchObject({ seq: 2, action: 'note', evidence: ['EV-1'], purpose: 'request 7', details: { text: 'Moved to locker 4' }, actor: { name: 'Alex Morgan', cert: alex.fingerprint } });
  expect(lastEntry(caseDir)).toEqual(note);

  const transfer = await ledgerTransfer({ caseDir, identity: 'Alex Morgan', to: 'Sam Lee', reason: 'to the lab', evidence: ['EV-1'] }, unlock);
  expect(transfer).toMatchObject({ seq: 3, action: 'transfer', details: { to: { name: 'Sam Lee', role: 'lab analyst', cert: sam.fingerprint }, reason: 'to the lab' } });
  expect(existsSync(join(caseDir, 'certs', `${sam.fingerprint}.pem`))).toBe(true);
  const open = await ledgerVerify({ caseDir });
  expect(open).toMatchObject({ outcome: 'ok', verdict: 'open-transfers', openTransfers: [{ seq: 3, from: 'Alex Morgan', to: 'Sam Lee', reason: 'to the lab' }] });
  const shown = await ledgerShow({ caseDir });
  expect(shown).toEqual({ entries: ledgerLines(caseDir).map((l) => JSON.parse(l)), openTransfers: open.openTransfers, verdict: 'open-transfers' });

  await expect(ledgerAccept({ caseDir, identity: 'Alex Morgan' }, unlock)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('no open transfer to Alex Morgan') });
  const accept = await ledgerAccept({ caseDir, identity: 'Sam Lee', note: 'seal intact' }, unlock);
  expect(accept).toMatchObject({ seq: 4, action: 'accept', evidence: ['EV-1'], actor: { name: 'Sam Lee' }, details: { transferSeq: 3, transferId: transfer.id, note: 'seal intact' } });
  const done = await ledgerVerify({ caseDir });
  expect(done).toMatchObject({ outcome: 'ok', verdict: 'ok', entries: 5, openTransfers: [], head: { seq: 4, hash: entryHash(accept) } });
  expect(done.signers.map((s) => s.name)).toEqual(['Alex Morgan', 'Sam Lee']);
});

test('the identity is found by the selector given, and a wrong passphrase leaves open throwing WRONG_PASSPHRASE, so the command can ask again; nothing is recorded before', async () => {
  const caseDir = await openCase();
  const retried = unlockWith('not the passphrase', PASS);
  const e = await ledgerNote({ caseDir, identity: sam.fingerprint.slice(0, 12), text: 'checked seal' }, retried);
  expect(retried.asked).toEqual([
    { selector: sam.fingerprint.slice(0, 12), passphrase: 'not the passphrase', failed: 'WRONG_PASSPHRASE' },
    { selector: sam.fingerprint.slice(0, 12), passphrase: PASS },
  ]);
  expect(e).toMatchObject({ seq: 2, actor: { name: 'Sam Lee' } });
  await expect(ledgerNote({ caseDir, identity: 'Sam Lee', text: 'never' }, unlockWith('wrong again'))).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
  expect(ledgerLines(caseDir)).toHaveLength(3);
});

test('head: the signed head is returned and written to out, which is not replaced without force, and never the ledger; verify against it: ok, then mismatch once entries are cut off', async () => {
  const caseDir = await openCase();
  await ledgerNote({ caseDir, identity: 'Alex Morgan', text: 'second note' }, unlock);
  const out = join(t.dir, `head-${n}.json`);
  const h = await ledgerHead({ caseDir, identity: 'Alex Morgan', out }, unlock);
  expect(h).toMatchObject({ case: 'C-1', seq: 2, hash: entryHash(lastEntry(caseDir)), signer: { name: 'Alex Morgan', cert: alex.fingerprint } });
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(h);
  await expect(ledgerHead({ caseDir, identity: 'Alex Morgan', out }, unlock)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
  const again = await ledgerHead({ caseDir, identity: 'Sam Lee', out, force: true }, unlock);
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(again);
  const ledger = readFileSync(join(caseDir, 'custody.jsonl'));
  await expect(ledgerHead({ caseDir, identity: 'Alex Morgan', out: join(caseDir, 'custody.jsonl'), force: true }, unlock)).rejects.toMatchObject({ code: 'UNSAFE_OUTPUT' });
  expect(readFileSync(join(caseDir, 'custody.jsonl'))).toEqual(ledger);

  expect(await ledgerVerify({ caseDir, expectHead: out })).toMatchObject({ outcome: 'ok', expectHead: { hash: h.hash, found: true, at: 2 } });
  writeFileSync(join(caseDir, 'custody.jsonl'), `${ledgerLines(caseDir).slice(0, 2).join('\n')}\n`);
  expect(await ledgerVerify({ caseDir })).toMatchObject({ outcome: 'ok', entries: 2 });
  const cut = await ledgerVerify({ caseDir, expectHead: out });
  expect(cut).toMatchObject({ outcome: 'mismatch', verdict: 'invalid', firstBad: { line: 3, reason: expect.stringContaining('cut off the end') } });
  expect(outcomeExitCode(cut.outcome)).toBe(4);
  await expect(ledgerVerify({ caseDir, expectHead: join(t.dir, 'no-such-head.json') })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
});

test('a torn last line: outcome torn (exit 3), appends refused, show lists the entries before it; repair records the repair, then outcome ok', async () => {
  const caseDir = await openCase();
  appendFileSync(join(caseDir, 'custody.jsonl'), '{"v":1,"seq":2,"id":"cut off');
  const torn = await ledgerVerify({ caseDir });
  expect(torn).toMatchObject({ outcome: 'torn', verdict: 'ok', entries: 2, torn: { line: 3, bytes: 28 } });
  expect(outcomeExitCode(torn.outcome)).toBe(3);
  await expect(ledgerNote({ caseDir, identity: 'Alex Morgan', text: 'x' }, unlock)).rejects.toMatchObject({ code: 'LEDGER_TORN' });
  expect(await ledgerShow({ caseDir })).toMatchObject({ entries: { length: 2 }, verdict: 'ok' });

  const repair = await ledgerRepair({ caseDir, identity: 'Sam Lee' }, unlock);
  expect(repair).toMatchObject({ seq: 2, action: 'repair', actor: { name: 'Sam Lee' }, details: { removedLine: 3, removedBytes: 28 } });
  expect(readFileSync(String(repair.details.keptIn), 'utf8')).toBe('{"v":1,"seq":2,"id":"cut off');
  expect(await ledgerVerify({ caseDir })).toMatchObject({ outcome: 'ok', verdict: 'ok', entries: 3 });
  await expect(ledgerRepair({ caseDir, identity: 'Alex Morgan' }, unlock)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('nothing to repair') });
});

test('a changed entry: outcome mismatch (exit 4) naming it, show gives the first bad entry, no head is signed', async () => {
  const caseDir = await openCase();
  const file = join(caseDir, 'custody.jsonl');
  writeFileSync(file, readFileSync(file, 'utf8').replace('Sealed in bag', 'Sealed in box'));
  const r = await ledgerVerify({ caseDir });
  expect(r).toMatchObject({ outcome: 'mismatch', verdict: 'invalid', firstBad: { line: 2, seq: 1, reason: expect.stringContaining('signature does not verify') } });
  expect(outcomeExitCode(r.outcome)).toBe(4);
  expect(await ledgerShow({ caseDir })).toMatchObject({ verdict: 'invalid', firstBad: { line: 2, seq: 1 }, entries: { length: 2 } });
  await expect(ledgerHead({ caseDir, identity: 'Alex Morgan' }, unlock)).rejects.toMatchObject({ code: 'LEDGER_INVALID' });
});

test('export: verify.sh, with openssl and sha256sum alone, accepts the ledger and its head as ledger verify gives it', async () => {
  const caseDir = await openCase();
  const outDir = join(t.dir, `export-${n}`);
  const r = await ledgerExport({ caseDir, outDir });
  expect(r).toEqual({ entries: 2, script: join(outDir, 'verify.sh') });
  const head = (await ledgerVerify({ caseDir })).head!.hash;
  const sh = spawnSync('sh', [r.script, head], { encoding: 'utf8' });
  expect(sh.status).toBe(0);
  expect(sh.stdout).toContain(`OK: 2 entries`);
  expect(sh.stdout).toContain(`head: seq 1 sha256 ${head}`);
  await expect(ledgerExport({ caseDir, outDir })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
});

test('a case folder without a ledger: verify, show and note name the missing ledger', async () => {
  const caseDir = join(t.dir, 'no-case');
  await expect(ledgerVerify({ caseDir })).rejects.toMatchObject({ code: 'LEDGER_NOT_FOUND' });
  await expect(ledgerShow({ caseDir })).rejects.toMatchObject({ code: 'LEDGER_NOT_FOUND' });
  await expect(ledgerNote({ caseDir, identity: 'Alex Morgan', text: 'x' }, unlock)).rejects.toMatchObject({ code: 'LEDGER_NOT_FOUND' });
});
