import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CUSTOS_EKU_OID, initCa, issueCertificate, parseCrl, parseCsr, revokeCertificate, verifyChain, writeCrl } from '../../../src/custody/ca';
import { bitString, bool, explicit, integer, NULL, octets, oid, seq, seqOf, time, toPem } from '../../../src/custody/ca/der';
import { MAX_CRL_ENTRIES } from '../../../src/custody/ca/crl';
import { certFingerprint, createIdentity, describeCert, findIdentity, loadSigner } from '../../../src/custody/identity';
import { isCustosError } from '../../../src/errors';
import { makeTempDir, pseudoRandomBytes, tool } from '../../helpers';

const CA_PASS = 'ca passphrase 2025';
const PASS = 'correct horse battery';
/** The CA is made at T0; every instant below is fixed, and openssl is told the time with -attime. */
const T0 = new Date('2025-01-01T00:00:00Z');
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);
const epoch = (d: Date) => String(Math.floor(d.getTime() / 1000));

let tmp: ReturnType<typeof makeTempDir>;
let caDir: string;
let caPem: string;
let caFp: string;
let leafKey: KeyObject;
beforeAll(() => {
  tmp = makeTempDir();
  caDir = join(tmp.dir, 'lab-ca');
  const ca = initCa({ dir: caDir, name: 'Lab X Root CA', organization: 'Lab X', passphrase: CA_PASS, now: T0 });
  caPem = ca.certPem;
  caFp = ca.fingerprint;
  leafKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
});
afterAll(() => tmp.cleanup());

const file = (name: string, text: string | Buffer) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
};
/** openssl's exit status and everything it printed. */
const openssl = (...args: string[]) => {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: tmp.dir });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};
const issue = (name: string, o: { now?: Date; days?: number; role?: string } = {}) =>
  issueCertificate({ caDir, passphrase: CA_PASS, publicKey: leafKey, subject: { name, role: o.role ?? 'examiner' }, now: o.now ?? day(1), ...(o.days ? { validityDays: o.days } : {}) });
/** A request made by openssl (once): Sam Lee's key, a subject Sam typed. */
const samCsr = () => {
  if (!require('node:fs').existsSync(join(tmp.dir, 'sam.csr'))) {
    tool('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'sam.key', '-out', 'sam.csr', '-subj', '/CN=Whatever I Typed'], tmp.dir);
  }
  return readFileSync(join(tmp.dir, 'sam.csr'), 'utf8');
};
const derOf = (pem: string) => Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');

test('initCa: a CA certificate openssl reads as CA:TRUE pathlen 0, keyCertSign + cRLSign, both critical; key 0600 at 600000 iterations', () => {
  const text = tool('openssl', ['x509', '-in', join(caDir, 'ca-cert.pem'), '-noout', '-text']);
  expect(text).toMatch(/Subject: CN = Lab X Root CA, O = Lab X/);
  expect(text).toMatch(/Issuer: CN = Lab X Root CA, O = Lab X/);
  expect(text).toMatch(/Public-Key: \(3072 bit\)/);
  expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  expect(text).toMatch(/X509v3 Subject Key Identifier: \n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}\n/);
  expect(text).toMatch(/Not Before: Jan  1 00:00:00 2025 GMT\s+Not After : Jan  1 00:00:00 2035 GMT/);
  expect(openssl('verify', '-attime', epoch(day(1)), '-CAfile', join(caDir, 'ca-cert.pem'), join(caDir, 'ca-cert.pem')).out).toMatch(/: OK/);
  expect(certFingerprint(caPem)).toBe(caFp);
  expect(statSync(join(caDir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
  expect(statSync(join(caDir, 'index.json')).mode & 0o777).toBe(0o600);
  expect(statSync(caDir).mode & 0o777).toBe(0o700);
  expect(tool('openssl', ['asn1parse', '-in', join(caDir, 'ca-key.pem')])).toMatch(/INTEGER +:0927C0\n.*\n.*hmacWithSHA256[\s\S]*aes-256-cbc/);
  expect(openssl('pkey', '-in', join(caDir, 'ca-key.pem'), '-passin', `pass:${CA_PASS}`, '-noout').status).toBe(0);
  expect(() => initCa({ dir: caDir, name: 'Again', passphrase: CA_PASS })).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
  expect(() => initCa({ dir: join(tmp.dir, 'short'), name: 'X', passphrase: 'short' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
});

test('createIdentity with the CA: openssl verifies the certificate and shows the examiner usages; ledgers can sign with it', () => {
  const home = join(tmp.dir, 'home-alex');
  const r = createIdentity({ name: 'Alex Morgan', role: 'examiner', email: 'alex@lab.example', organization: 'Lab X', passphrase: PASS, home, now: day(1) }, { dir: caDir, passphrase: CA_PASS });
  const certPath = join(findIdentity(home).dir, 'cert.pem');
  expect(openssl('verify', '-attime', epoch(day(2)), '-CAfile', join(caDir, 'ca-cert.pem'), certPath)).toEqual({ status: 0, out: `${certPath}: OK\n` });
  const text = tool('openssl', ['x509', '-in', certPath, '-noout', '-text']);
  // The same subject as a self-signed identity (identity.test.ts), so ledgers name the actor the same way.
  expect(text).toMatch(/Subject: CN = Alex Morgan, title = examiner, O = Lab X, emailAddress = alex@lab.example/);
  expect(text).toMatch(/Issuer: CN = Lab X Root CA, O = Lab X/);
  expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
  expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
  expect(text).toContain(`X509v3 Extended Key Usage: critical\n                ${CUSTOS_EKU_OID}\n`);
  const caSki = tool('openssl', ['x509', '-in', join(caDir, 'ca-cert.pem'), '-noout', '-ext', 'subjectKeyIdentifier']).split('\n')[1]!.trim();
  expect(text).toContain(`X509v3 Authority Key Identifier: \n                ${caSki}\n`);
  expect(text).toMatch(/Not Before: Jan  2 00:00:00 2025 GMT\s+Not After : Jan  2 00:00:00 2028 GMT/); // 3 × 365 days
  expect(tool('openssl', ['x509', '-in', certPath, '-noout', '-serial'])).toMatch(/^serial=[4-7][0-9A-F]{31}\n$/);
  expect(r).toMatchObject({ name: 'Alex Morgan', role: 'examiner', organization: 'Lab X', email: 'alex@lab.example', selfSigned: false, issuer: 'CN=Lab X Root CA, O=Lab X' });
  const signer = loadSigner(home, 'Alex Morgan', PASS, day(3));
  expect(verifyChain({ certPem: signer.certPem, anchors: [caPem], at: day(3) })).toEqual({ ok: true, anchor: caFp });
  // The CA kept its record: index.json and a copy of the certificate by serial.
  const idx = JSON.parse(readFileSync(join(caDir, 'index.json'), 'utf8'));
  const serial = tool('openssl', ['x509', '-in', certPath, '-noout', '-serial']).trim().slice(7).toLowerCase();
  expect(idx.issued).toContainEqual(expect.objectContaining({ serial, fingerprint: r.fingerprint, subject: 'CN=Alex Morgan, title=examiner, O=Lab X, emailAddress=alex@lab.example' }));
  expect(readFileSync(join(caDir, 'issued', `${serial}.pem`), 'utf8')).toBe(readFileSync(certPath, 'utf8'));
  // A pin of the CA's fingerprint works with the CA certificate given as an intermediate.
  expect(verifyChain({ certPem: signer.certPem, anchors: [`sha256:${caFp.toUpperCase()}`], intermediates: [caPem], at: day(3) })).toEqual({ ok: true, anchor: caFp });
});

test('issue from a PKCS#10 request made by openssl: its key is certified, the subject is the one the CA gives', () => {
  const csrPem = samCsr();
  expect(parseCsr(csrPem).subject).toBe('2.5.4.3=Whatever I Typed');
  const c = issueCertificate({ caDir, passphrase: CA_PASS, csrPem, subject: { name: 'Sam Lee', role: 'lab analyst', organization: 'Lab X' }, now: day(1), validityDays: 365 });
  const certPath = file('sam.pem', c.certPem);
  expect(tool('openssl', ['x509', '-in', certPath, '-noout', '-pubkey'])).toBe(tool('openssl', ['req', '-in', join(tmp.dir, 'sam.csr'), '-noout', '-pubkey']));
  expect(tool('openssl', ['x509', '-in', certPath, '-noout', '-subject'])).toBe('subject=CN = Sam Lee, title = lab analyst, O = Lab X\n');
  expect(openssl('verify', '-attime', epoch(day(2)), '-CAfile', join(caDir, 'ca-cert.pem'), certPath).status).toBe(0);
  expect(c).toMatchObject({ notBefore: '2025-01-02T00:00:00.000Z', notAfter: '2026-01-02T00:00:00.000Z', fingerprint: certFingerprint(c.certPem) });
  expect(describeCert(c.certPem)).toMatchObject({ name: 'Sam Lee', role: 'lab analyst', organization: 'Lab X' });
});

test('requests that are altered, forged, not RSA, SHA-1 signed, or subjects out of bounds are refused', () => {
  const csrPem = samCsr();
  const der = derOf(csrPem);
  const flip = (at: number) => {
    const d = Buffer.from(der);
    d[at]! ^= 0x01;
    return toPem('CERTIFICATE REQUEST', d);
  };
  const inSubject = der.indexOf(Buffer.from('Whatever'));
  for (const bad of [flip(der.length - 1), flip(inSubject)]) {
    expect(() => parseCsr(bad, 'req.csr')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringContaining('its signature does not verify with its own public key') }));
  }
  tool('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ec.key', '-out', 'ec.csr', '-subj', '/CN=EC'], tmp.dir);
  expect(() => issueCertificate({ caDir, passphrase: CA_PASS, csrPem: readFileSync(join(tmp.dir, 'ec.csr'), 'utf8'), subject: { name: 'E', role: 'r' } })).toThrow(
    expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringContaining('certificate request: the key is ec; examiners sign with RSA keys of 2048 to 8192 bits') }),
  );
  tool('openssl', ['req', '-new', '-sha1', '-key', 'sam.key', '-out', 'sha1.csr', '-subj', '/CN=Old'], tmp.dir);
  expect(() => parseCsr(readFileSync(join(tmp.dir, 'sha1.csr'), 'utf8'))).toThrow(expect.objectContaining({ message: expect.stringContaining('1.2.840.113549.1.1.5 is not one custos accepts') }));
  expect(() => issueCertificate({ caDir, passphrase: CA_PASS, csrPem, publicKey: leafKey, subject: { name: 'X', role: 'r' } })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  expect(() => issueCertificate({ caDir, passphrase: CA_PASS, publicKey: leafKey, subject: { name: 'N'.repeat(65), role: 'r' } })).toThrow(
    expect.objectContaining({ code: 'USAGE', message: 'the name has 65 characters; a certificate allows at most 64 (RFC 5280)' }),
  );
  expect(() => issueCertificate({ caDir, passphrase: CA_PASS, publicKey: leafKey, subject: { name: 'Line\nBreak', role: 'r' } })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  expect(() => issueCertificate({ caDir, passphrase: 'not the CA passphrase', publicKey: leafKey, subject: { name: 'X', role: 'r' } })).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
  expect(() => issue('Too Long', { days: 3660, now: day(1) })).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('would outlive the CA certificate (valid until 2035-01-01T00:00:00.000Z)') }));
});

test('a non-ASCII name is written as UTF8String and read back the same by Node and openssl', () => {
  const c = issue('José Müller');
  expect(describeCert(c.certPem).name).toBe('José Müller');
  expect(tool('openssl', ['x509', '-in', file('jose.pem', c.certPem), '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus_space'])).toBe('subject=CN=José Müller, title=examiner\n');
});

describe('revocation and CRLs', () => {
  const R = new Date('2025-03-01T12:00:00Z');
  let revoked: ReturnType<typeof issue>;
  let kept: ReturnType<typeof issue>;
  let crlPem: string;
  beforeAll(() => {
    revoked = issue('Mallory Insider');
    kept = issue('Kim Good');
    expect(revokeCertificate({ caDir, passphrase: CA_PASS, serial: revoked.serial.toUpperCase().replace(/(..)(?!$)/g, '$1:'), reason: 'keyCompromise', at: R })).toEqual({ serial: revoked.serial, revokedAt: R.toISOString(), reason: 'keyCompromise' });
    crlPem = writeCrl({ caDir, passphrase: CA_PASS, now: new Date('2025-03-02T00:00:00Z') });
    file('crl.pem', crlPem);
    file('revoked.pem', revoked.certPem);
    file('kept.pem', kept.certPem);
  });

  test('openssl verifies the CRL and lists the serial with its reason and date', () => {
    expect(openssl('crl', '-in', 'crl.pem', '-CAfile', join(caDir, 'ca-cert.pem'), '-noout')).toEqual({ status: 0, out: 'verify OK\n' });
    const text = tool('openssl', ['crl', '-in', join(tmp.dir, 'crl.pem'), '-noout', '-text']);
    expect(text).toMatch(/Version 2 \(0x1\)/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/Issuer: CN = Lab X Root CA, O = Lab X/);
    expect(text).toMatch(/Last Update: Mar  2 00:00:00 2025 GMT\s+Next Update: Apr  1 00:00:00 2025 GMT/);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+1\n/);
    expect(text).toMatch(/X509v3 Authority Key Identifier: \n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}\n/);
    expect(text).toContain(`Serial Number: ${revoked.serial.toUpperCase()}\n        Revocation Date: Mar  1 12:00:00 2025 GMT\n        CRL entry extensions:\n            X509v3 CRL Reason Code: \n                Key Compromise\n`);
    expect(text).not.toContain(kept.serial.toUpperCase());
    expect(readFileSync(join(caDir, 'crl.pem'), 'utf8')).toBe(crlPem);
  });

  test('openssl verify -crl_check fails for the revoked certificate, passes for the other', () => {
    const check = (cert: string) => openssl('verify', '-attime', epoch(new Date('2025-03-05T00:00:00Z')), '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', join(caDir, 'ca-cert.pem'), cert);
    const bad = check('revoked.pem');
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain('certificate revoked');
    expect(check('kept.pem')).toEqual({ status: 0, out: 'kept.pem: OK\n' });
  });

  test('verifyChain: revoked at and after the revocation date, good before it', () => {
    const at = (iso: string) => verifyChain({ certPem: revoked.certPem, anchors: [caPem], crls: [crlPem], at: new Date(iso) });
    expect(at('2025-03-01T11:59:59Z')).toEqual({ ok: true, anchor: caFp });
    for (const t of ['2025-03-01T12:00:00Z', '2025-03-01T12:00:01Z', '2027-06-01T00:00:00Z']) {
      expect(at(t)).toEqual({ ok: false, reason: expect.stringContaining(`'Mallory Insider' (sha256 ${revoked.fingerprint.slice(0, 16)}…) was revoked on 2025-03-01T12:00:00.000Z (keyCompromise)`) });
    }
    expect(verifyChain({ certPem: kept.certPem, anchors: [caPem], crls: [crlPem], at: new Date('2025-03-05T00:00:00Z') })).toEqual({ ok: true, anchor: caFp });
    // Without the CRL nothing tells verifyChain (it is only as current as the CRLs it is given).
    expect(verifyChain({ certPem: revoked.certPem, anchors: [caPem], at: new Date('2025-03-05T00:00:00Z') }).ok).toBe(true);
  });

  test('a CRL with one flipped signature byte is an error (openssl agrees), not ignored', () => {
    const der = derOf(crlPem);
    der[der.length - 7]! ^= 0x40;
    const forged = toPem('X509 CRL', der);
    file('forged-crl.pem', forged);
    expect(openssl('crl', '-in', 'forged-crl.pem', '-CAfile', join(caDir, 'ca-cert.pem'), '-noout').out).toMatch(/verify failure/);
    expect(() => verifyChain({ certPem: kept.certPem, anchors: [caPem], crls: [forged], at: new Date('2025-03-05T00:00:00Z') })).toThrow(
      expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringMatching(/^CRL 1: the CRL's signature does not verify with the key of the certificate of 'Lab X Root CA'/) }),
    );
  });

  test('revoking twice, an unknown serial, a future date, a wrong passphrase: refused; the next CRL has the next number', () => {
    expect(() => revokeCertificate({ caDir, passphrase: CA_PASS, serial: revoked.serial })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('already revoked on 2025-03-01T12:00:00.000Z') }));
    expect(() => revokeCertificate({ caDir, passphrase: CA_PASS, serial: '1234abcd' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: 'this CA has not issued a certificate with serial 1234abcd' }));
    expect(() => revokeCertificate({ caDir, passphrase: CA_PASS, serial: 'xyz' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => revokeCertificate({ caDir, passphrase: CA_PASS, serial: kept.serial, at: new Date(Date.now() + 86_400_000) })).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('future') }));
    expect(() => revokeCertificate({ caDir, passphrase: CA_PASS, serial: kept.serial, at: new Date('not a date') })).toThrow(expect.objectContaining({ code: 'USAGE', message: 'the revocation date is not a valid date' }));
    expect(() => revokeCertificate({ caDir, passphrase: 'not the CA passphrase', serial: kept.serial })).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
    // Revoked by the certificate itself, reason unspecified: RFC 5280 §5.3.1 leaves the reasonCode out.
    const extra = issue('Temp Worker');
    revokeCertificate({ caDir, passphrase: CA_PASS, certPem: extra.certPem, at: new Date('2025-04-01T00:00:00Z') });
    const second = writeCrl({ caDir, passphrase: CA_PASS, now: new Date('2025-04-02T00:00:00Z') });
    const text = tool('openssl', ['crl', '-in', file('crl2.pem', second), '-noout', '-text']);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+2\n/);
    expect(text).toContain(`Serial Number: ${extra.serial.toUpperCase()}\n        Revocation Date: Apr  1 00:00:00 2025 GMT\n    Signature Algorithm`);
    expect(parseCrl(second).revoked.get(extra.serial)).toEqual({ revokedAt: new Date('2025-04-01T00:00:00Z'), reason: 'unspecified' });
    expect(parseCrl(second).crlNumber).toBe(2n);
  });
});

test('the impostor: same name, new self-signed key, is not anchored (unless pinned)', () => {
  const home = join(tmp.dir, 'home-impostor');
  const r = createIdentity({ name: 'Alex Morgan', role: 'examiner', email: 'alex@lab.example', organization: 'Lab X', passphrase: PASS, home, now: day(1) });
  const certPem = loadSigner(home, undefined, PASS, day(3)).certPem;
  expect(verifyChain({ certPem, anchors: [caPem], at: day(3) })).toEqual({ ok: false, reason: `the certificate of 'Alex Morgan' (sha256 ${r.fingerprint.slice(0, 16)}…) is self-signed and not a pinned trust anchor` });
  expect(verifyChain({ certPem, anchors: [caPem, `sha256:${r.fingerprint}`], at: day(3) })).toEqual({ ok: true, anchor: r.fingerprint });
  expect(verifyChain({ certPem, anchors: [`sha256:${r.fingerprint}`], at: day(3 + 3 * 365 + 1) })).toEqual({ ok: false, reason: expect.stringContaining('expired on 2028-01-02T00:00:00.000Z') });
  expect(() => verifyChain({ certPem, anchors: ['sha256:abcd'], at: day(3) })).toThrow(expect.objectContaining({ code: 'USAGE' }));
});

test('validity at the entry time: expired, and used before notBefore', () => {
  const short = issue('Short Term', { now: day(10), days: 30 });
  expect(verifyChain({ certPem: short.certPem, anchors: [caPem], at: day(39) })).toEqual({ ok: true, anchor: caFp });
  expect(verifyChain({ certPem: short.certPem, anchors: [caPem], at: day(41) })).toEqual({ ok: false, reason: expect.stringMatching(/'Short Term' .* expired on 2025-02-10T00:00:00.000Z \(checked at 2025-02-11T00:00:00.000Z\)$/) });
  expect(verifyChain({ certPem: short.certPem, anchors: [caPem], at: day(9) })).toEqual({ ok: false, reason: expect.stringMatching(/'Short Term' .* is not valid before 2025-01-11T00:00:00.000Z \(checked at 2025-01-10T00:00:00.000Z\)$/) });
  // The CA itself must be valid then too.
  expect(verifyChain({ certPem: short.certPem, anchors: [caPem], at: new Date('2024-12-31T00:00:00Z') }).ok).toBe(false);
});

test('a certificate issued by another CA, even one with the same name, is not anchored (openssl agrees)', () => {
  const otherDir = join(tmp.dir, 'other-ca');
  initCa({ dir: otherDir, name: 'Lab X Root CA', organization: 'Lab X', passphrase: CA_PASS, now: T0 });
  const forged = issueCertificate({ caDir: otherDir, passphrase: CA_PASS, publicKey: leafKey, subject: { name: 'Alex Morgan', role: 'examiner' }, now: day(1) });
  expect(verifyChain({ certPem: forged.certPem, anchors: [caPem], at: day(2) })).toEqual({
    ok: false,
    reason: `the certificate of 'Alex Morgan' (sha256 ${forged.fingerprint.slice(0, 16)}…) names 'Lab X Root CA' as its issuer, but no trusted CA of that name signed it`,
  });
  expect(openssl('verify', '-attime', epoch(day(2)), '-CAfile', join(caDir, 'ca-cert.pem'), file('forged.pem', forged.certPem)).status).not.toBe(0);
  // Its CRL claims the same name but another key: not this CA's, so it is not held against the real chain.
  const otherCrl = writeCrl({ caDir: otherDir, passphrase: CA_PASS, now: day(2) });
  const real = issue('Real Person');
  expect(verifyChain({ certPem: real.certPem, anchors: [caPem], crls: [otherCrl], at: day(3) })).toEqual({ ok: true, anchor: caFp });
});

describe('CAs made by openssl', () => {
  let d: string;
  const ossl = (...a: string[]) => tool('openssl', a, d);
  const EXT_CA = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  /** An examiner certificate issued by openssl x509 -req -CA with the extensions of `ext`. */
  const leaf = (name: string, ca: string, ext: string) => {
    writeFileSync(join(d, `${name}.ext`), ext);
    ossl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}/title=examiner`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-extfile', `${name}.ext`);
    return readFileSync(join(d, `${name}.pem`), 'utf8');
  };
  const pem = (name: string) => readFileSync(join(d, `${name}.pem`), 'utf8');
  const EXAMINER = `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=critical,${CUSTOS_EKU_OID}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`;
  const now = () => new Date(Date.now() + 60_000);
  beforeAll(() => {
    d = join(tmp.dir, 'openssl-ca');
    mkdirSync(d);
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=Openssl Lab Root', '-days', '60', ...EXT_CA);
  });

  test('an examiner certificate from an openssl CA with the custos EKU is accepted when that CA is the anchor', () => {
    const cert = leaf('Dana', 'root', EXAMINER);
    expect(ossl('x509', '-in', 'Dana.pem', '-noout', '-ext', 'extendedKeyUsage')).toContain(CUSTOS_EKU_OID);
    expect(verifyChain({ certPem: cert, anchors: [pem('root')], at: now() })).toEqual({ ok: true, anchor: certFingerprint(pem('root')) });
    expect(verifyChain({ certPem: cert, anchors: [caPem], at: now() })).toEqual({ ok: false, reason: expect.stringContaining("was issued by 'Openssl Lab Root', which is not a trust anchor") });
  });

  test('without the custos EKU, or without digitalSignature, the certificate may not sign ledgers', () => {
    const noEku = leaf('NoEku', 'root', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n');
    expect(verifyChain({ certPem: noEku, anchors: [pem('root')], at: now() })).toEqual({ ok: false, reason: expect.stringContaining(`was not issued for signing custos ledgers (its extendedKeyUsage lacks ${CUSTOS_EKU_OID})`) });
    const noSig = leaf('NoSig', 'root', `keyUsage=critical,keyEncipherment\nextendedKeyUsage=critical,${CUSTOS_EKU_OID}\n`);
    expect(verifyChain({ certPem: noSig, anchors: [pem('root')], at: now() })).toEqual({ ok: false, reason: expect.stringContaining('may not make signatures (its keyUsage lacks digitalSignature)') });
  });

  test('a CA certificate without keyCertSign cannot vouch (openssl agrees)', () => {
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'nosign.key', '-out', 'nosign.pem', '-subj', '/CN=No Certsign CA', '-days', '60', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,cRLSign');
    const cert = leaf('Eve', 'nosign', EXAMINER);
    expect(openssl('verify', '-CAfile', join(d, 'nosign.pem'), join(d, 'Eve.pem')).out).toContain('key usage does not include certificate signing');
    expect(verifyChain({ certPem: cert, anchors: [pem('nosign')], at: now() })).toEqual({ ok: false, reason: "the certificate of 'No Certsign CA' (sha256 " + certFingerprint(pem('nosign')).slice(0, 16) + '…) may not sign certificates (its keyUsage lacks keyCertSign)' });
  });

  test('through an intermediate CA: accepted when given, refused without it or beyond a path length of 0 (openssl agrees)', () => {
    const inter = (name: string, root: string) => {
      ossl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      writeFileSync(join(d, `${name}.ext`), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
      ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${root}.pem`, '-CAkey', `${root}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '50', '-extfile', `${name}.ext`);
    };
    inter('Issuing CA', 'root');
    const cert = leaf('Finn', 'Issuing CA', EXAMINER);
    expect(verifyChain({ certPem: cert, anchors: [pem('root')], intermediates: [pem('Issuing CA')], at: now() })).toEqual({ ok: true, anchor: certFingerprint(pem('root')) });
    expect(verifyChain({ certPem: cert, anchors: [pem('root')], at: now() }).ok).toBe(false);
    // A root with pathlen:0 may not have an intermediate below it.
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root0.key', '-out', 'root0.pem', '-subj', '/CN=Root Zero', '-days', '60', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    inter('Sub CA', 'root0');
    const deep = leaf('Gus', 'Sub CA', EXAMINER);
    expect(openssl('verify', '-CAfile', join(d, 'root0.pem'), '-untrusted', join(d, 'Sub CA.pem'), join(d, 'Gus.pem')).out).toContain('path length constraint exceeded');
    expect(verifyChain({ certPem: deep, anchors: [pem('root0')], intermediates: [pem('Sub CA')], at: now() })).toEqual({ ok: false, reason: expect.stringContaining("'Root Zero'") });
    expect(verifyChain({ certPem: deep, anchors: [pem('root0')], intermediates: [pem('Sub CA')], at: now() })).toEqual({ ok: false, reason: expect.stringContaining('allows 0 intermediate CAs below it, this chain has 1') });
  });

  test('a CRL written by openssl ca is read: the revoked certificate is refused after its revocation', () => {
    // openssl ca issues (dated from 2025, so that the second before the revocation is inside the validity), revokes and writes the CRL.
    const cnf = [
      '[ca]', 'default_ca=lab', '[lab]', `dir=${d}`, `database=${d}/index.txt`, `serial=${d}/serial`, `crlnumber=${d}/crlnumber`, `new_certs_dir=${d}`,
      `certificate=${d}/root.pem`, `private_key=${d}/root.key`, 'default_md=sha256', 'default_crl_days=7', 'policy=pol', 'crl_extensions=crl_ext',
      '[pol]', 'commonName=supplied', '[crl_ext]', 'authorityKeyIdentifier=keyid', '',
    ].join('\n');
    writeFileSync(join(d, 'ca.cnf'), cnf);
    writeFileSync(join(d, 'index.txt'), '');
    writeFileSync(join(d, 'serial'), '1000\n');
    writeFileSync(join(d, 'crlnumber'), '10\n');
    writeFileSync(join(d, 'Hal.ext'), EXAMINER);
    ossl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'Hal.key', '-out', 'Hal.csr', '-subj', '/CN=Hal');
    ossl('ca', '-config', 'ca.cnf', '-batch', '-notext', '-in', 'Hal.csr', '-out', 'Hal.pem', '-startdate', '20250101000000Z', '-enddate', '20350101000000Z', '-extfile', 'Hal.ext');
    const cert = pem('Hal');
    const before = new Date();
    ossl('ca', '-config', 'ca.cnf', '-revoke', 'Hal.pem', '-crl_reason', 'superseded');
    ossl('ca', '-config', 'ca.cnf', '-gencrl', '-out', 'root.crl');
    const crl = readFileSync(join(d, 'root.crl'), 'utf8');
    const parsed = parseCrl(crl);
    expect([...parsed.revoked.keys()]).toEqual(['1000']);
    expect(parsed.crlNumber).toBe(0x10n);
    const revokedAt = parsed.revoked.get('1000')!.revokedAt;
    expect(parsed.revoked.get('1000')!.reason).toBe('superseded');
    expect(revokedAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 1000) * 1000);
    expect(verifyChain({ certPem: cert, anchors: [pem('root')], crls: [crl], at: new Date(revokedAt.getTime() - 1000) })).toEqual({ ok: true, anchor: certFingerprint(pem('root')) });
    expect(verifyChain({ certPem: cert, anchors: [pem('root')], crls: [crl], at: now() })).toEqual({ ok: false, reason: expect.stringContaining(`was revoked on ${revokedAt.toISOString()} (superseded)`) });

    // A CRL without authorityKeyIdentifier, with a twin CA of the same name also trusted: the CRL
    // belongs to the CA whose signature it carries; the twin failing it is no error.
    writeFileSync(join(d, 'ca-noaki.cnf'), cnf.replace('crl_extensions=crl_ext\n', ''));
    ossl('ca', '-config', 'ca-noaki.cnf', '-gencrl', '-out', 'root-noaki.crl');
    const noAki = readFileSync(join(d, 'root-noaki.crl'), 'utf8');
    expect(parseCrl(noAki).authorityKeyId).toBeUndefined();
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'twin.key', '-out', 'twin.pem', '-subj', '/CN=Openssl Lab Root', '-days', '60', ...EXT_CA);
    expect(verifyChain({ certPem: cert, anchors: [pem('twin'), pem('root')], crls: [noAki], at: now() })).toEqual({ ok: false, reason: expect.stringContaining('(superseded)') });
    const forged = derOf(noAki);
    forged[forged.length - 3]! ^= 0x01;
    expect(() => verifyChain({ certPem: cert, anchors: [pem('twin'), pem('root')], crls: [toPem('X509 CRL', forged)], at: now() })).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringContaining("signature does not verify with the key of the certificate of 'Openssl Lab Root'") }));
  });
});

test('a damaged index.json or a held lock is a clear error, and changes nothing', () => {
  const dir = join(tmp.dir, 'fragile-ca');
  initCa({ dir, name: 'Fragile CA', passphrase: CA_PASS, now: T0 });
  writeFileSync(join(dir, 'lock'), '12345\n');
  expect(() => writeCrl({ caDir: dir, passphrase: CA_PASS })).toThrow(expect.objectContaining({ code: 'IO_ERROR', message: expect.stringContaining('another custos process is changing this CA') }));
  require('node:fs').rmSync(join(dir, 'lock'));
  writeFileSync(join(dir, 'index.json'), '{"version":1,"crlNumber":0,"issued":[{"serial":"../../etc"}],"revoked":[]}');
  expect(() => issueCertificate({ caDir: dir, passphrase: CA_PASS, publicKey: leafKey, subject: { name: 'A', role: 'b' }, now: day(1) })).toThrow(
    expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('issued[0] is malformed') }),
  );
  expect(require('node:fs').readdirSync(join(dir, 'issued'))).toEqual([]);
  // A date no CRL can hold (before 1950) would otherwise fail only while the CRL is written.
  writeFileSync(join(dir, 'index.json'), '{"version":1,"crlNumber":0,"issued":[],"revoked":[{"serial":"1f","revokedAt":"1900-01-01T00:00:00Z","reason":"superseded"}]}');
  expect(() => writeCrl({ caDir: dir, passphrase: CA_PASS })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('revoked[0] is malformed') }));
  expect(require('node:fs').existsSync(join(dir, 'lock'))).toBe(false);
});

test('hostile CRLs: too many entries, an indirect or delta CRL, a critical extension not understood, a serial twice', () => {
  const entry = (n: number) => seq(integer(n), time(T0));
  const alg = seq(oid('1.2.840.113549.1.1.11'), NULL);
  const crlWith = (entries: Buffer[], exts?: Buffer) => toPem('X509 CRL', seq(seq(integer(1), alg, seq(), time(T0), ...(entries.length ? [seqOf(entries)] : []), ...(exts ? [exts] : [])), alg, bitString(Buffer.alloc(0))));
  const many = Array.from({ length: MAX_CRL_ENTRIES + 1 }, (_, i) => entry(i + 1));
  const started = Date.now();
  expect(() => parseCrl(crlWith(many), 'big.crl')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringContaining(`more than ${MAX_CRL_ENTRIES} elements`) }));
  expect(Date.now() - started).toBeLessThan(5000);
  expect(parseCrl(crlWith(many.slice(0, 3))).revoked.size).toBe(3);
  const critical = (id: string) => explicit(0, seq(seq(oid(id), bool(true), octets(NULL))));
  expect(() => parseCrl(crlWith([], critical('2.5.29.28')))).toThrow(expect.objectContaining({ message: expect.stringContaining('critical extension 2.5.29.28') }));
  expect(() => parseCrl(crlWith([], critical('2.5.29.27')))).toThrow(expect.objectContaining({ message: expect.stringContaining('delta CRL') }));
  const indirect = seq(integer(7), time(T0), seq(seq(oid('2.5.29.29'), bool(true), octets(seq()))));
  expect(() => parseCrl(crlWith([indirect]))).toThrow(expect.objectContaining({ message: expect.stringContaining('indirect CRL (certificateIssuer)') }));
  expect(() => parseCrl(crlWith([entry(1), entry(1)]))).toThrow(expect.objectContaining({ message: expect.stringContaining('listed twice') }));
});

/** Mutates `der` from `seed`: byte changes, a cut, or an inserted run; the result is parsed. */
function fuzz(der: Buffer, label: string, parse: (pem: string) => unknown, rounds: number, seed: number): { ok: number; refused: number } {
  const out = { ok: 0, refused: 0 };
  for (let i = 0; i < rounds; i++) {
    const r = pseudoRandomBytes(16, seed + i);
    let m = Buffer.from(der);
    const pick = (k: number) => r.readUInt16BE(k) % m.length;
    switch (r[0]! % 4) {
      case 0:
        for (let k = 0; k < 1 + (r[1]! % 4); k++) m[pick(2 + 2 * k)] = r[10 + k]!;
        break;
      case 1:
        m = m.subarray(0, pick(2));
        break;
      case 2:
        m = Buffer.concat([m.subarray(0, pick(2)), Buffer.alloc(1 + (r[4]! % 8), r[5]!), m.subarray(pick(2))]);
        break;
      default:
        m[pick(2)] = [0x80, 0x84, 0xff, 0x00][r[4]! % 4]!; // length bytes: indefinite, 4-byte, junk, zero
    }
    try {
      parse(toPem(label, m));
      out.ok++;
    } catch (err) {
      if (!isCustosError(err)) throw new Error(`round ${i}: ${(err as Error).stack}`);
      out.refused++;
    }
  }
  return out;
}

test('seeded fuzz of the CRL, request and certificate readers: a result or a CustosError, never a crash or a hang', () => {
  // A CA of its own, with two revocations on its CRL.
  const dir = join(tmp.dir, 'fuzz-ca');
  const caCert = initCa({ dir, name: 'Fuzz CA', passphrase: CA_PASS, now: T0 }).certPem;
  const made = (name: string) => issueCertificate({ caDir: dir, passphrase: CA_PASS, publicKey: leafKey, subject: { name, role: 'examiner' }, now: day(1) });
  for (const [i, reason] of (['keyCompromise', 'superseded'] as const).entries()) revokeCertificate({ caDir: dir, passphrase: CA_PASS, serial: made(`Gone ${i}`).serial, reason, at: day(5 + i) });
  const crl = derOf(writeCrl({ caDir: dir, passphrase: CA_PASS, now: day(10) }));
  const csr = derOf(samCsr());
  const started = Date.now();
  const a = fuzz(crl, 'X509 CRL', (p) => parseCrl(p), 600, 0xc41);
  const b = fuzz(csr, 'CERTIFICATE REQUEST', (p) => parseCsr(p), 600, 0xc52);
  expect(Date.now() - started).toBeLessThan(20_000);
  // Changes in the signature or inside values leave a parseable CRL; a CSR only survives where its signature does not cover.
  expect(a.ok).toBeGreaterThan(20);
  expect(a.refused).toBeGreaterThan(100);
  expect(b.refused).toBeGreaterThan(300);
  // A parsed CRL still has to pass its signature: a mutation that still names this CA is refused
  // there; one that no longer names it (issuer or key identifier changed) is not this CA's CRL.
  const cert = made('Still Here').certPem;
  const c = fuzz(crl, 'X509 CRL', (p) => verifyChain({ certPem: cert, anchors: [caCert], crls: [p], at: day(11) }), 150, 0xc63);
  expect(c.refused).toBeGreaterThan(100);
  // Certificates (signer, anchor) go through OpenSSL and the DER reader; a mutated one is a result or a CustosError too.
  const e = fuzz(derOf(cert), 'CERTIFICATE', (p) => verifyChain({ certPem: p, anchors: [caCert], at: day(11) }), 300, 0xc74);
  const f = fuzz(derOf(caCert), 'CERTIFICATE', (p) => verifyChain({ certPem: cert, anchors: [p], at: day(11) }), 300, 0xc85);
  expect(e.refused + f.refused).toBeGreaterThan(300);
});
