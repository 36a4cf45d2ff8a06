/** The signed head: signed over its RFC 8785 bytes, only for a ledger that verifies; read back as the head a ledger must still hold. */
import { verify, X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalBytes } from '../../../src/custody/canonical';
import { expectedHead, signedHead, signHead } from '../../../src/custody/head';
import type { Signer } from '../../../src/custody/identity';
import { type LedgerReport, verifyLedger } from '../../../src/custody/verify';
import { fixedEnvironment } from '../../helpers';
import { CASE_ID, type CustodyFixture, custodyFixture, lines, writeLines } from './support';

let fx: CustodyFixture;
let alex: Signer;
beforeAll(async () => {
  fx = await custodyFixture();
  alex = fx.signers['Alex Morgan'];
});
afterAll(() => fx.tmp.cleanup());

test('signedHead: the verified head (case, seq, hash), when and by whom, RS256 over the RFC 8785 bytes of all that', async () => {
  const h = await signedHead(fx.template, alex, fixedEnvironment('2026-03-15T08:00:00Z'));
  const r = await verifyLedger(fx.template);
  expect(h).toEqual({ case: CASE_ID, seq: 5, hash: r.head!.hash, at: '2026-03-15T08:00:01.000Z', signer: { name: 'Alex Morgan', cert: alex.identity.fingerprint }, sig: expect.any(String) });
  const { sig, ...body } = h;
  const key = new X509Certificate(alex.certPem).publicKey;
  expect(verify('sha256', canonicalBytes(body), key, Buffer.from(sig, 'base64'))).toBe(true);
  expect(verify('sha256', canonicalBytes({ ...body, seq: 4 }), key, Buffer.from(sig, 'base64'))).toBe(false);
});

test('no head is signed for a ledger that does not verify, nor for an empty report', async () => {
  const d = fx.copy();
  writeLines(d, lines(d).map((l) => l.replace('Sealed', 'Sealad')));
  await expect(signedHead(d, alex)).rejects.toMatchObject({ code: 'LEDGER_INVALID', message: expect.stringContaining('cannot sign the head of a ledger that does not verify (signature does not verify') });
  const empty: LedgerReport = { path: 'x', entries: 0, openTransfers: [], verdict: 'ok', signers: [] };
  expect(signHead(empty, alex, new Date())).toBeUndefined();
  expect(signHead({ ...empty, case: 'C', head: { seq: 0, hash: 'a'.repeat(64) }, verdict: 'invalid' }, alex, new Date())).toBeUndefined();
  expect(signHead({ ...empty, case: 'C', head: { seq: 0, hash: 'a'.repeat(64) }, verdict: 'open-transfers' }, alex, new Date())).toMatchObject({ seq: 0 });
});

describe('expectedHead', () => {
  test('64 hex digits are the head itself (lowercased); anything else is a signed head file, whose hash is read', async () => {
    expect(expectedHead('AB'.repeat(32))).toBe('ab'.repeat(32));
    const file = join(fx.tmp.dir, 'head.json');
    const h = await signedHead(fx.template, alex);
    writeFileSync(file, `${JSON.stringify(h, null, 2)}\n`);
    expect(expectedHead(file)).toBe(h.hash);
  });

  test.each([
    ['not JSON', '{ "hash": ', 'not a signed head (not valid JSON'],
    ['no hash', '{ "seq": 3 }', 'not a signed head (no SHA-256 "hash")'],
    ['a hash that is not SHA-256 hex', `{ "hash": "${'G'.repeat(64)}" }`, 'not a signed head (no SHA-256 "hash")'],
    ['JSON null', 'null', 'not a signed head (no SHA-256 "hash")'],
  ])('a file with %s: INVALID_INPUT naming it', (_label, text, message) => {
    const file = join(fx.tmp.dir, `head-${_label.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, text);
    expect(() => expectedHead(file)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', path: file, message: expect.stringContaining(`${file}: ${message}`) }));
  });

  test('a missing file, a folder or a file larger than a head can be: named, bounded', () => {
    expect(() => expectedHead(join(fx.tmp.dir, 'nothing.json'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    const dir = join(fx.tmp.dir, 'a-folder');
    mkdirSync(dir);
    expect(() => expectedHead(dir)).toThrow(expect.objectContaining({ code: 'IS_DIRECTORY' }));
    const big = join(fx.tmp.dir, 'big.json');
    writeFileSync(big, `{"hash":"${'a'.repeat(64)}","pad":"${'x'.repeat(70 * 1024)}"}`);
    expect(() => expectedHead(big)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('larger than 65536 bytes') }));
  });
});
