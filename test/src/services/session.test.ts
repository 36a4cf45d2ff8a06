/**
 * The custody session every evidence command records with (src/services/session.ts): the signer
 * opened from CUSTOS_HOME with the case's records protected, entries appended with the session's
 * purpose, failures as entries record them, and lists kept small.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosBug, CustosError } from '../../../src/errors';
import { writeFileAtomic } from '../../../src/fsutil';
import { assertWritable, forgetProtectedEvidence, protectedEvidence } from '../../../src/protect';
import { acquireRecorded } from '../../../src/services/acquire';
import { ledgerVerify } from '../../../src/services/custody';
import { failure, listed, listedFiles, MAX_LISTED, openCustody, record } from '../../../src/services/session';
import { systemEnvironment } from '../../../src/host';
import { fixedEnvironment, pseudoRandomBytes } from '../../helpers';
import { ledger, PASS, serviceWorld } from './support';

const w = serviceWorld();

describe('openCustody', () => {
  test('the signer of the identity named, from CUSTOS_HOME (or the home given); the system clock unless an environment is given', async () => {
    const { caseDir } = await w.newCase();
    const c = openCustody({ caseDir, passphrase: PASS, purpose: 'request 7' });
    expect(c).toMatchObject({ caseDir, purpose: 'request 7', env: systemEnvironment });
    expect(c.signer.identity).toMatchObject({ name: 'Alex Morgan', role: 'forensic examiner', fingerprint: w.signer.identity.fingerprint });
    const env = fixedEnvironment();
    const d = openCustody({ caseDir, identity: 'Alex Morgan', passphrase: PASS, home: w.home, env });
    expect(d.env).toBe(env);
    expect(d.signer.identity.fingerprint).toBe(w.signer.identity.fingerprint);
  });

  test('a wrong passphrase: WRONG_PASSPHRASE; an unknown identity: named', async () => {
    const { caseDir } = await w.newCase();
    expect(() => openCustody({ caseDir, passphrase: 'not the passphrase' })).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
    expect(() => openCustody({ caseDir, identity: 'Nobody Here', passphrase: PASS })).toThrow(expect.objectContaining({ message: expect.stringContaining('Nobody Here') }));
  });

  test('the case\'s ledger and certificates are protected for the process: never a write target afterwards', async () => {
    const { caseDir } = await w.newCase();
    openCustody({ caseDir, passphrase: PASS });
    const ledgerFile = join(caseDir, 'custody.jsonl');
    expect(protectedEvidence().files.map((f) => f.path)).toEqual(expect.arrayContaining([ledgerFile, join(caseDir, 'certs', `${w.signer.identity.fingerprint}.pem`)]));
    expect(() => writeFileAtomic(ledgerFile, 'replaced', { replace: true })).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
  });

  test('every image file an acquisition in the case made is protected, also beyond the 20 its entry lists', async () => {
    const c = await w.newCase();
    const src = join(w.dir, 'split-src.img');
    writeFileSync(src, pseudoRandomBytes(22 << 20, 5));
    const r = await acquireRecorded({ source: src, outDir: join(w.dir, 'split-out'), name: 'ev', format: 'split', splitSize: 1 << 20, algorithms: ['md5'], retries: 0 }, c);
    expect(r.outputs).toHaveLength(22);
    // A later process: nothing protected until the case is opened.
    forgetProtectedEvidence();
    openCustody({ caseDir: c.caseDir, passphrase: PASS });
    for (const o of r.outputs) expect(() => assertWritable(o.path)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: `${o.path} is evidence being read; it is never a write target` }));
  });
});

describe('record', () => {
  test('appends a signed entry with the session\'s purpose unless the entry has its own; the ledger verifies', async () => {
    const c = await w.newCase('request 7');
    const a = await record(c, { action: 'note', evidence: ['EV-1'], details: { text: 'sealed' } });
    const b = await record(c, { action: 'note', purpose: 'court order 12', details: { text: 'moved' } });
    const plain = await record({ ...c, purpose: undefined }, { action: 'note', details: { text: 'checked' } });
    expect(a).toMatchObject({ seq: 1, action: 'note', evidence: ['EV-1'], purpose: 'request 7', details: { text: 'sealed' }, actor: { name: 'Alex Morgan' } });
    expect(b).toMatchObject({ seq: 2, purpose: 'court order 12' });
    expect('purpose' in plain).toBe(false);
    // The session's clock (fixedEnvironment: one second per call from 09:10:00).
    expect(a.time).toMatchObject({ utc: '2026-03-14T09:10:01.000Z', offset: '+01:00', zone: 'Europe/Berlin' });
    expect(ledger(c.caseDir).slice(1)).toEqual([a, b, plain]);
    expect(await ledgerVerify({ caseDir: c.caseDir })).toMatchObject({ outcome: 'ok', entries: 4 });
  });

  test('a case folder without a ledger: LEDGER_NOT_FOUND', async () => {
    await expect(record({ caseDir: join(w.dir, 'no-case'), signer: w.signer }, { action: 'note' })).rejects.toMatchObject({ code: 'LEDGER_NOT_FOUND' });
  });
});

describe('failure: an error as an entry records it', () => {
  test.each<[string, unknown, unknown]>([
    ['a custos error: its code and message', new CustosError('FILE_NOT_FOUND', '/dev/sdz: no such file or directory'), { error: { code: 'FILE_NOT_FOUND', message: '/dev/sdz: no such file or directory' } }],
    ['a bug of custos: INTERNAL with its message', new CustosBug('ring slot 3 released twice'), { error: { code: 'INTERNAL', message: 'ring slot 3 released twice' } }],
    ['any other Error: INTERNAL', new RangeError('Invalid time value'), { error: { code: 'INTERNAL', message: 'Invalid time value' } }],
    ['a thrown string', 'disk on fire', { error: { code: 'INTERNAL', message: 'disk on fire' } }],
    ['undefined', undefined, { error: { code: 'INTERNAL', message: 'undefined' } }],
  ])('%s', (_what, err, recorded) => {
    expect(failure(err)).toEqual(recorded);
  });
});

describe('lists in entries stay small', () => {
  const items = (k: number) => Array.from({ length: k }, (_, i) => `f${i}`);

  test('listed: whole up to MAX_LISTED (20), else the count and the first 20', () => {
    expect(MAX_LISTED).toBe(20);
    expect(listed([])).toEqual([]);
    expect(listed(items(20))).toEqual(items(20));
    expect(listed(items(21))).toEqual({ count: 21, first: items(20) });
    expect(listed(items(100_000))).toEqual({ count: 100_000, first: items(20) });
    const whole = items(3);
    expect(listed(whole)).not.toBe(whole);
  });

  test('listedFiles: path, size and hashes only; beyond 20 files, their count, total bytes and the first 20', () => {
    const files = Array.from({ length: 25 }, (_, i) => ({ path: `/out/ev.${String(i + 1).padStart(3, '0')}`, size: 1000 + i, hashes: { md5: `${i}` }, extra: 'dropped' }));
    expect(listedFiles(files.slice(0, 2))).toEqual([
      { path: '/out/ev.001', size: 1000, hashes: { md5: '0' } },
      { path: '/out/ev.002', size: 1001, hashes: { md5: '1' } },
    ]);
    expect(listedFiles(files)).toEqual({ count: 25, bytes: 25 * 1000 + (24 * 25) / 2, first: files.slice(0, 20).map(({ extra: _e, ...f }) => f) });
  });
});
