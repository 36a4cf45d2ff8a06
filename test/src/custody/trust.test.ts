/**
 * The trust a case is opened with (src/custody/trust.ts): anchors and TSA certificates read from
 * PEM files that openssl made, fingerprints as openssl computes them, pins, refusals before
 * anything is written, the certificates kept in CASE/trust/ and named in the signed case-open entry.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initCase } from '../../../src/custody/storage';
import { caseCrls, keepTrustFiles, prepareTrust, readCertificates, TRUST_DIR, trustCertificate } from '../../../src/custody/trust';
import { verifyLedger } from '../../../src/custody/verify';
import { assertWritable, forgetProtectedEvidence } from '../../../src/protect';
import { protectCaseRecords } from '../../../src/custody/protect-records';
import { fixedEnvironment } from '../../helpers';
import { type CustodyFixture, custodyFixture, lines } from './support';

let fx: CustodyFixture;
let caPem: string;
let tsaPem: string;

/** A self-signed certificate made by openssl; returns its PEM path. */
function opensslCert(name: string, cn: string): string {
  const key = join(fx.tmp.dir, `${name}.key`);
  const cert = join(fx.tmp.dir, `${name}.pem`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', `/CN=${cn}/O=Harbour Forensic Lab`], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return cert;
}

/** The SHA-256 fingerprint openssl gives, as custos writes fingerprints (lowercase hex, no colons). */
function opensslFingerprint(cert: string): string {
  const r = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  return r.stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
}

beforeAll(async () => {
  fx = await custodyFixture();
  caPem = opensslCert('lab-ca', 'Harbour Lab CA');
  tsaPem = opensslCert('tsa', 'Harbour TSA');
});
afterAll(() => fx.tmp.cleanup());

describe('prepareTrust', () => {
  test('a CA file and a pin: fingerprints as openssl computes them, the certificate kept, the pin recorded as pinned', () => {
    const pin = 'ab'.repeat(32);
    const t = prepareTrust({ anchors: [caPem, `sha256:${pin.toUpperCase()}`] });
    const fp = opensslFingerprint(caPem);
    expect(t.record).toEqual({ anchors: [{ fingerprint: fp, subject: 'CN=Harbour Lab CA, O=Harbour Forensic Lab' }, { fingerprint: pin, pinned: true }] });
    expect(t.files).toEqual([{ fingerprint: fp, pem: readFileSync(caPem, 'utf8') }]);
  });

  test('a bundle of two certificates gives two anchors; the same one twice, one', () => {
    const bundle = join(fx.tmp.dir, 'bundle.pem');
    writeFileSync(bundle, readFileSync(caPem, 'utf8') + readFileSync(tsaPem, 'utf8'));
    expect(prepareTrust({ anchors: [bundle] }).record!.anchors.map((a) => a.fingerprint)).toEqual([opensslFingerprint(caPem), opensslFingerprint(tsaPem)]);
    expect(prepareTrust({ anchors: [caPem, caPem] }).record!.anchors).toHaveLength(1);
  });

  test('a TSA: its URL and certificates recorded; nothing given, no record', () => {
    const t = prepareTrust({ tsaUrl: 'http://127.0.0.1:3180/tsa', tsaCerts: [tsaPem] });
    expect(t.record).toEqual({ anchors: [], tsa: { url: 'http://127.0.0.1:3180/tsa', certs: [{ fingerprint: opensslFingerprint(tsaPem), subject: 'CN=Harbour TSA, O=Harbour Forensic Lab' }] } });
    expect(prepareTrust({})).toEqual({ files: [] });
  });

  test.each<[string, Parameters<typeof prepareTrust>[0], string, RegExp]>([
    ['a file that is not PEM', { anchors: ['NOTPEM'] }, 'CERT_INVALID', /no PEM certificate in it/],
    ['a missing file', { anchors: ['MISSING'] }, 'FILE_NOT_FOUND', /no such file/],
    ['a TSA without its certificate', { tsaUrl: 'http://127.0.0.1/tsa' }, 'USAGE', /needs --tsa-cert/],
    ['a TSA that is not http', { tsaUrl: 'ftp://tsa.example/', tsaCerts: ['TSA'] }, 'USAGE', /only http and https/],
    ['a TSA that is not a URL', { tsaUrl: 'tsa here', tsaCerts: ['TSA'] }, 'USAGE', /is not a URL/],
    ['a pin of the wrong length (read as a file name)', { anchors: ['sha256:abcd'] }, 'FILE_NOT_FOUND', /sha256:abcd/],
  ])('%s: refused with its code', (_what, o, code, message) => {
    const notPem = join(fx.tmp.dir, 'not.pem');
    writeFileSync(notPem, 'hello\n');
    const fix = (p: string) => (p === 'NOTPEM' ? notPem : p === 'MISSING' ? join(fx.tmp.dir, 'missing.pem') : p === 'TSA' ? tsaPem : p);
    const given = { ...o, anchors: o.anchors?.map(fix), tsaCerts: o.tsaCerts?.map(fix) };
    expect(() => prepareTrust(given)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  test('more than 16 certificates in one file, and a damaged certificate, are refused', () => {
    const many = join(fx.tmp.dir, 'many.pem');
    writeFileSync(many, readFileSync(caPem, 'utf8').repeat(17));
    expect(() => readCertificates(many, 'trust anchor')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: `${many}: more than 16 certificates` }));
    const damaged = join(fx.tmp.dir, 'damaged.pem');
    writeFileSync(damaged, readFileSync(caPem, 'utf8').replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA'));
    expect(() => readCertificates(damaged, 'trust anchor')).toThrow(expect.objectContaining({ code: 'CERT_INVALID' }));
  });
});

describe('a case opened with trust', () => {
  test('the case-open entry names the anchors and the TSA; the certificates are in CASE/trust/; a signer the anchors do not vouch for fails, a pinned one verifies; the files are protected', async () => {
    const dir = join(fx.tmp.dir, 'case-trust');
    const trust = prepareTrust({ anchors: [caPem], tsaUrl: 'http://127.0.0.1:3180/tsa', tsaCerts: [tsaPem] });
    const e = await initCase(dir, { caseId: 'C-TRUST', trust }, fx.signers['Alex Morgan'], fixedEnvironment('2026-03-14T09:00:00Z'));
    expect(e.details).toEqual({ trust: trust.record });
    expect(JSON.parse(lines(dir)[0]!).details.trust.anchors[0].fingerprint).toBe(opensslFingerprint(caPem));
    for (const c of [caPem, tsaPem]) {
      const kept = join(dir, TRUST_DIR, `${opensslFingerprint(c)}.pem`);
      expect(readFileSync(kept, 'utf8')).toBe(readFileSync(c, 'utf8'));
      expect(trustCertificate(dir, opensslFingerprint(c))).toBe(readFileSync(c, 'utf8'));
    }
    // Alex's certificate is self-signed, not issued by that CA: the case's own anchors refuse him.
    const r = await verifyLedger(dir);
    expect(r).toMatchObject({ verdict: 'invalid', anchors: { source: 'case' }, firstBad: { line: 1, seq: 0, reason: expect.stringMatching(/^Alex Morgan is not vouched for by the case's trust anchors at .*self-signed and not a pinned trust anchor/) } });
    // Pinned by fingerprint, he is.
    const pinned = join(fx.tmp.dir, 'case-pinned');
    await initCase(pinned, { caseId: 'C-PIN', trust: prepareTrust({ anchors: [`sha256:${fx.signers['Alex Morgan'].identity.fingerprint}`] }) }, fx.signers['Alex Morgan'], fixedEnvironment('2026-03-14T09:00:00Z'));
    expect(await verifyLedger(pinned)).toMatchObject({ verdict: 'ok', entries: 1, anchors: { source: 'case', anchors: [{ fingerprint: fx.signers['Alex Morgan'].identity.fingerprint, pinned: true }] } });
    try {
      protectCaseRecords(dir);
      expect(() => assertWritable(join(dir, TRUST_DIR, `${opensslFingerprint(caPem)}.pem`))).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    } finally {
      forgetProtectedEvidence();
    }
  });

  test('a certificate swapped under another fingerprint\'s name is refused; a missing one is undefined; keeping twice writes once', () => {
    const dir = join(fx.tmp.dir, 'case-swap');
    const ca = opensslFingerprint(caPem);
    keepTrustFiles(dir, [{ fingerprint: ca, pem: readFileSync(tsaPem, 'utf8') }]);
    expect(() => trustCertificate(dir, ca)).toThrow(expect.objectContaining({ code: 'LEDGER_INVALID', message: expect.stringContaining('not the one its name says') }));
    keepTrustFiles(dir, [{ fingerprint: ca, pem: readFileSync(caPem, 'utf8') }]);
    expect(readFileSync(join(dir, TRUST_DIR, `${ca}.pem`), 'utf8')).toBe(readFileSync(tsaPem, 'utf8'));
    expect(trustCertificate(dir, 'cd'.repeat(32))).toBeUndefined();
    expect(trustCertificate(dir, '../../etc/passwd')).toBeUndefined();
    expect(existsSync(join(dir, TRUST_DIR))).toBe(true);
  });

  test('CRLs kept in CASE/trust/ are found by name, in order', () => {
    const dir = join(fx.tmp.dir, 'case-crl');
    keepTrustFiles(dir, [{ fingerprint: opensslFingerprint(caPem), pem: readFileSync(caPem, 'utf8') }]);
    writeFileSync(join(dir, TRUST_DIR, 'lab.crl.pem'), 'B');
    writeFileSync(join(dir, TRUST_DIR, 'a.crl'), 'A');
    expect(caseCrls(dir).map((c) => [c.path, c.bytes.toString()])).toEqual([
      [join(dir, TRUST_DIR, 'a.crl'), 'A'],
      [join(dir, TRUST_DIR, 'lab.crl.pem'), 'B'],
    ]);
    expect(caseCrls(join(fx.tmp.dir, 'no-case'))).toEqual([]);
  });
});
