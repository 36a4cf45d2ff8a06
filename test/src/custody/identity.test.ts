import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initCa, verifyChain } from '../../../src/custody/ca';
import { createIdentity, findIdentity, importIdentity, listIdentities, loadSigner } from '../../../src/custody/identity';
import { makeTempDir, tool } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

const PASS = 'correct horse battery';

test('create: RSA-3072 self-signed certificate that openssl reads as specified, key encrypted and 0600', () => {
  const home = join(tmp.dir, 'h1');
  const r = createIdentity({ name: 'Alex Morgan', role: 'examiner', email: 'alex@lab.example', organization: 'Lab X', passphrase: PASS, home });
  const dir = findIdentity(home).dir;
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  expect(statSync(key).mode & 0o777).toBe(0o600);
  expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  const text = tool('openssl', ['x509', '-in', cert, '-noout', '-text']);
  expect(text).toMatch(/Public-Key: \(3072 bit\)/);
  expect(text).toMatch(/Subject: CN = Alex Morgan, title = examiner, O = Lab X, emailAddress = alex@lab.example/);
  expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
  expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
  // The fingerprint is SHA-256 over the DER certificate, as any tool computes it.
  const der = spawnSync('openssl', ['x509', '-in', cert, '-outform', 'DER']).stdout;
  expect(r.fingerprint).toBe(require('node:crypto').createHash('sha256').update(der).digest('hex'));
  // openssl can open the key with the passphrase, and only with it.
  expect(spawnSync('openssl', ['pkey', '-in', key, '-passin', `pass:${PASS}`, '-noout']).status).toBe(0);
  expect(spawnSync('openssl', ['pkey', '-in', key, '-passin', 'pass:wrong-pass', '-noout']).status).not.toBe(0);
  expect(listIdentities(home).map((i) => i.name)).toEqual(['Alex Morgan']);
});

test('a wrong passphrase, a short one, an expired certificate: clear errors', () => {
  const home = join(tmp.dir, 'h2');
  createIdentity({ name: 'Old Cert', role: 'examiner', passphrase: PASS, home, now: new Date('2020-01-01T00:00:00Z'), days: 30 });
  expect(() => loadSigner(home, undefined, 'not the passphrase', new Date('2020-01-05T00:00:00Z'))).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
  expect(() => loadSigner(home, undefined, PASS)).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringContaining('expired on 2020-01-31') }));
  expect(loadSigner(home, undefined, PASS, new Date('2020-01-05T00:00:00Z')).identity.name).toBe('Old Cert');
  expect(() => createIdentity({ name: 'X', role: 'y', passphrase: 'short', home })).toThrow(expect.objectContaining({ code: 'USAGE' }));
});

test('import: a certificate issued by a CA (made here with openssl), and a key that does not match it', () => {
  const d = join(tmp.dir, 'ca');
  require('node:fs').mkdirSync(d);
  const ossl = (...a: string[]) => tool('openssl', a, d);
  // An independent CA: openssl makes the root and issues the examiner's certificate.
  ossl('req', '-x509', '-newkey', 'rsa:3072', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Lab X Root CA', '-days', '30');
  ossl('req', '-newkey', 'rsa:3072', '-nodes', '-keyout', 'sam.key', '-out', 'sam.csr', '-subj', '/CN=Sam Lee/title=lab analyst/O=Lab X');
  ossl('x509', '-req', '-in', 'sam.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'sam.pem', '-days', '30');
  const home = join(tmp.dir, 'h3');
  const r = importIdentity({ certPath: join(d, 'sam.pem'), keyPath: join(d, 'sam.key'), passphrase: PASS, home });
  expect(r).toMatchObject({ name: 'Sam Lee', role: 'lab analyst', organization: 'Lab X', selfSigned: false, issuer: 'CN=Lab X Root CA' });
  expect(statSync(join(findIdentity(home, 'Sam Lee').dir, 'key.pem')).mode & 0o777).toBe(0o600);
  const signer = loadSigner(home, 'Sam Lee', PASS);
  const sig = Buffer.from(signer.sign(Buffer.from('hello')), 'base64');
  writeFileSync(join(d, 'msg'), 'hello');
  writeFileSync(join(d, 'msg.sig'), sig);
  ossl('x509', '-in', 'sam.pem', '-pubkey', '-noout', '-out', 'sam.pub');
  expect(ossl('dgst', '-sha256', '-verify', 'sam.pub', '-signature', 'msg.sig', 'msg')).toContain('Verified OK');

  expect(() => importIdentity({ certPath: join(d, 'sam.pem'), keyPath: join(d, 'ca.key'), passphrase: PASS, home: join(tmp.dir, 'h4') })).toThrow(
    expect.objectContaining({ code: 'KEY_MISMATCH' }),
  );
  expect(() => importIdentity({ certPath: join(d, 'sam.csr'), keyPath: join(d, 'sam.key'), passphrase: PASS, home: join(tmp.dir, 'h5') })).toThrow(
    expect.objectContaining({ code: 'CERT_INVALID' }),
  );
});

test('keys are written with PBKDF2-HMAC-SHA256 at 600000 iterations; an identity written by an older custos (2048) still unlocks', () => {
  const home = join(tmp.dir, 'h6');
  createIdentity({ name: 'Kai Old', role: 'examiner', passphrase: PASS, home });
  const key = join(findIdentity(home).dir, 'key.pem');
  expect(tool('openssl', ['asn1parse', '-in', key])).toMatch(/:PBKDF2\n.*SEQUENCE.*\n.*OCTET STRING.*\n.*INTEGER +:0927C0\n.*SEQUENCE.*\n.*:hmacWithSHA256\n[\s\S]*:aes-256-cbc\n/);
  // What custos 0.1.0 wrote: Node's export, 2048 iterations.
  const opened = spawnSync('openssl', ['pkey', '-in', key, '-passin', `pass:${PASS}`]).stdout.toString();
  const old = require('node:crypto').createPrivateKey(opened).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASS }) as string;
  writeFileSync(key, old);
  expect(tool('openssl', ['asn1parse', '-in', key])).toMatch(/INTEGER +:0800\n/);
  expect(loadSigner(home, undefined, PASS).identity.name).toBe('Kai Old');
  expect(() => loadSigner(home, undefined, 'not the passphrase')).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
});

test('create with a lab CA: the certificate is issued by it; a wrong CA passphrase stores nothing', () => {
  const caDir = join(tmp.dir, 'lab-ca');
  const ca = initCa({ dir: caDir, name: 'Lab X Root CA', passphrase: 'ca passphrase 1' });
  const home = join(tmp.dir, 'h7');
  expect(() => createIdentity({ name: 'Ana Ruiz', role: 'examiner', passphrase: PASS, home }, { dir: caDir, passphrase: 'wrong ca passphrase' })).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
  expect(listIdentities(home)).toEqual([]);
  const r = createIdentity({ name: 'Ana Ruiz', role: 'examiner', passphrase: PASS, home, days: 30 }, { dir: caDir, passphrase: 'ca passphrase 1' });
  expect(r).toMatchObject({ name: 'Ana Ruiz', role: 'examiner', selfSigned: false, issuer: 'CN=Lab X Root CA' });
  const cert = join(findIdentity(home).dir, 'cert.pem');
  writeFileSync(join(tmp.dir, 'lab-ca.pem'), ca.certPem);
  expect(tool('openssl', ['verify', '-CAfile', join(tmp.dir, 'lab-ca.pem'), cert])).toBe(`${cert}: OK\n`);
  const signer = loadSigner(home, 'Ana Ruiz', PASS);
  writeFileSync(join(tmp.dir, 'ana.msg'), 'hello');
  writeFileSync(join(tmp.dir, 'ana.sig'), Buffer.from(signer.sign(Buffer.from('hello')), 'base64'));
  tool('openssl', ['x509', '-in', cert, '-pubkey', '-noout', '-out', join(tmp.dir, 'ana.pub')]);
  expect(tool('openssl', ['dgst', '-sha256', '-verify', join(tmp.dir, 'ana.pub'), '-signature', join(tmp.dir, 'ana.sig'), join(tmp.dir, 'ana.msg')])).toContain('Verified OK');
  expect(verifyChain({ certPem: signer.certPem, anchors: [ca.certPem], at: new Date() })).toEqual({ ok: true, anchor: ca.fingerprint });
});

test('a name outside ASCII is written as UTF8String: openssl shows it as typed, custos reads it back, and a ledger signer matches it', () => {
  const home = join(tmp.dir, 'h-utf8');
  const r = createIdentity({ name: 'José Müller', role: 'Sachverständiger', organization: 'Labor Süd', passphrase: PASS, home });
  expect(r).toMatchObject({ name: 'José Müller', role: 'Sachverständiger', organization: 'Labor Süd' });
  const cert = join(findIdentity(home).dir, 'cert.pem');
  expect(tool('openssl', ['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus,-esc_msb']).trim()).toBe('subject=CN=José Müller,title=Sachverständiger,O=Labor Süd');
  const parsed = tool('openssl', ['asn1parse', '-in', cert]);
  expect(parsed).toMatch(/UTF8STRING\s+:José Müller/);
  expect(parsed).not.toMatch(/PRINTABLESTRING\s+:Jos/);
  expect(loadSigner(home, 'José Müller', PASS).identity.name).toBe('José Müller');
});
