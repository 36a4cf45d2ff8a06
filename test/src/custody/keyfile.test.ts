import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import { integer, NULL, octets, oid, seq, toPem } from '../../../src/custody/ca/der';
import { decryptPrivateKey, encryptPrivateKey, keyProtection, MAX_KDF_ITERATIONS, PBKDF2_ITERATIONS } from '../../../src/custody/keyfile';
import { makeTempDir, pseudoRandomBytes, tool } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let key: KeyObject;
beforeAll(() => {
  tmp = makeTempDir();
  key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
});
afterAll(() => tmp.cleanup());

const PASS = 'correct horse battery';
const spki = (k: KeyObject) => createPublicKey(k).export({ type: 'spki', format: 'pem' }) as string;
const file = (name: string, text: string) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
};

test('openssl opens the key with the passphrase (and only with it); same public key', () => {
  const p = file('new.pem', encryptPrivateKey(key, PASS));
  expect(tool('openssl', ['pkey', '-in', p, '-passin', `pass:${PASS}`, '-pubout'])).toBe(spki(key));
  expect(() => tool('openssl', ['pkey', '-in', p, '-passin', 'pass:not the passphrase', '-noout'])).toThrow(/exited 1/);
  // custos reads its own file back.
  expect(spki(decryptPrivateKey(require('node:fs').readFileSync(p, 'utf8'), PASS, p))).toBe(spki(key));
});

test('openssl asn1parse shows PBES2, PBKDF2 with 600000 iterations and hmacWithSHA256, AES-256-CBC, 16-byte salt and IV', () => {
  const p = file('parse.pem', encryptPrivateKey(key, PASS));
  const lines = tool('openssl', ['asn1parse', '-in', p]).split('\n');
  const objects = lines.filter((l) => / OBJECT /.test(l)).map((l) => l.split(':').pop());
  expect(objects).toEqual(['PBES2', 'PBKDF2', 'hmacWithSHA256', 'aes-256-cbc']);
  const hex = PBKDF2_ITERATIONS.toString(16).toUpperCase().padStart(6, '0');
  expect(hex).toBe('0927C0');
  expect(lines.filter((l) => / INTEGER /.test(l)).map((l) => l.split(':').pop())).toEqual([hex]);
  // The salt (first OCTET STRING) and the IV (second) are 16 bytes each, and differ between two files.
  const octetsOf = (ls: string[]) => ls.filter((l) => /prim: OCTET STRING/.test(l)).slice(0, 2).map((l) => l.split('[HEX DUMP]:')[1]!);
  const [salt, iv] = octetsOf(lines);
  expect([salt!.length, iv!.length]).toEqual([32, 32]);
  const again = octetsOf(tool('openssl', ['asn1parse', '-in', file('parse2.pem', encryptPrivateKey(key, PASS))]).split('\n'));
  expect(again[0]).not.toBe(salt);
  expect(again[1]).not.toBe(iv);
  expect(keyProtection(require('node:fs').readFileSync(p, 'utf8'), p)).toEqual({ kind: 'pbkdf2', prf: 'hmacWithSHA256', iterations: 600000, saltBytes: 16, cipher: 'aes-256-cbc' });
});

test('keys written before (Node export, 2048 iterations), by openssl (PBES2, scrypt, legacy PEM) and unencrypted still open', () => {
  const old = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASS }) as string;
  expect(keyProtection(old, 'old')).toMatchObject({ kind: 'pbkdf2', iterations: 2048 });
  expect(spki(decryptPrivateKey(old, PASS, 'old'))).toBe(spki(key));
  const plain = file('plain.pem', key.export({ type: 'pkcs8', format: 'pem' }) as string);
  const made = (name: string, args: string[]) => {
    tool('openssl', [...args, '-in', plain, '-passout', `pass:${PASS}`, '-out', join(tmp.dir, name)]);
    return require('node:fs').readFileSync(join(tmp.dir, name), 'utf8') as string;
  };
  const scrypt = made('scrypt.pem', ['pkcs8', '-topk8', '-scrypt', '-scrypt_N', '16384', '-scrypt_r', '8', '-scrypt_p', '1']);
  expect(keyProtection(scrypt, 'scrypt')).toMatchObject({ kind: 'scrypt', n: 16384, r: 8, p: 1 });
  expect(spki(decryptPrivateKey(scrypt, PASS, 'scrypt'))).toBe(spki(key));
  const legacy = made('legacy.pem', ['rsa', '-traditional', '-aes256']);
  expect(legacy).toMatch(/Proc-Type: 4,ENCRYPTED/);
  expect(keyProtection(legacy, 'legacy')).toEqual({ kind: 'legacy-pem' });
  expect(spki(decryptPrivateKey(legacy, PASS, 'legacy'))).toBe(spki(key));
  expect(() => decryptPrivateKey(legacy, 'not the passphrase', 'legacy')).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
  expect(spki(decryptPrivateKey(require('node:fs').readFileSync(plain, 'utf8'), PASS, 'plain'))).toBe(spki(key));
});

test('a wrong passphrase is WRONG_PASSPHRASE, also when the CBC padding happens to look right', () => {
  const pem = encryptPrivateKey(key, PASS);
  expect(() => decryptPrivateKey(pem, 'wrong passphrase', 'k.pem')).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE', message: 'wrong passphrase for the key in k.pem' }));
  // With one iteration (openssl -iter 1) hundreds of tries are cheap; about 1 in 256 passes the
  // padding check and fails later in OpenSSL's ASN.1 decoder: still a wrong passphrase.
  const plain = file('plain1.pem', key.export({ type: 'pkcs8', format: 'pem' }) as string);
  tool('openssl', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-iter', '1', '-in', plain, '-passout', `pass:${PASS}`, '-out', join(tmp.dir, 'iter1.pem')]);
  const weak = require('node:fs').readFileSync(join(tmp.dir, 'iter1.pem'), 'utf8') as string;
  expect(keyProtection(weak, 'iter1')).toMatchObject({ kind: 'pbkdf2', iterations: 1 });
  const causes = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    // 3000 tries: the chance that none passes the padding check is (255/256)^3000, under 1e-5.
    try {
      decryptPrivateKey(weak, `wrong ${i}`, 'iter1.pem');
      throw new Error(`'wrong ${i}' opened the key`);
    } catch (err) {
      expect(err).toMatchObject({ code: 'WRONG_PASSPHRASE' });
      causes.add(/bad decrypt/.test(((err as Error).cause as Error).message) ? 'bad decrypt' : 'other');
    }
  }
  expect([...causes].sort()).toEqual(['bad decrypt', 'other']);
});

/** An EncryptedPrivateKeyInfo with chosen KDF parameters and junk ciphertext: what a hostile key file looks like. */
function hostile(kdf: Buffer): string {
  return toPem('ENCRYPTED PRIVATE KEY', seq(seq(oid('1.2.840.113549.1.5.13'), seq(kdf, seq(oid('2.16.840.1.101.3.4.1.42'), octets(Buffer.alloc(16))))), octets(Buffer.alloc(1200, 7))));
}
const pbkdf2 = (iter: bigint) => seq(oid('1.2.840.113549.1.5.12'), seq(octets(Buffer.alloc(16)), integer(iter), seq(oid('1.2.840.113549.2.9'), NULL)));
const scrypt = (n: bigint, r: bigint, p: bigint) => seq(oid('1.3.6.1.4.1.11591.4.11'), seq(octets(Buffer.alloc(16)), integer(n), integer(r), integer(p)));

test('hostile key-derivation parameters are refused before any work', () => {
  for (const [kdf, msg] of [
    [pbkdf2(BigInt(MAX_KDF_ITERATIONS) + 1n), /asks for 10000001 key-derivation iterations; custos spends at most 10000000/],
    [pbkdf2(2n ** 62n), /asks for 4611686018427387904 key-derivation iterations/],
    [pbkdf2(0n), /asks for 0 key-derivation iterations/],
    [scrypt(2n ** 30n, 8n, 1n), /scrypt N=1073741824, r=8, p=1/],
    [scrypt(2n ** 20n, 32n, 1n), /scrypt N=1048576, r=32, p=1/], // 4 GiB of memory
    [scrypt(3000n, 8n, 1n), /scrypt N=3000/], // not a power of two
  ] as const) {
    const started = process.hrtime.bigint();
    expect(() => decryptPrivateKey(hostile(kdf), PASS, 'evil.pem')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringMatching(msg) }));
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
  }
  // Within the bounds, the parameters are honoured: 1000 iterations and junk ciphertext is a wrong passphrase.
  expect(() => decryptPrivateKey(hostile(pbkdf2(1000n)), PASS, 'evil.pem')).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
});

test('damaged key files are a CERT_INVALID naming the file', () => {
  const good = encryptPrivateKey(key, PASS);
  expect(() => decryptPrivateKey('hello', PASS, 'x.pem')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringMatching(/^x\.pem: not a usable private key \(no -----BEGIN/) }));
  expect(() => decryptPrivateKey(good.replace(/-----END ENCRYPTED PRIVATE KEY-----\n/, ''), PASS, 'x.pem')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringContaining('has no END line') }));
  expect(() => decryptPrivateKey(good.replace(/\n([A-Za-z0-9+/]{10})/, '\n$1!'), PASS, 'x.pem')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: expect.stringContaining('base64') }));
  expect(() => decryptPrivateKey(`${good}${'A'.repeat(300_000)}`, PASS, 'x.pem')).toThrow(expect.objectContaining({ code: 'CERT_INVALID', message: 'x.pem: too large for a private key' }));
});

test('seeded fuzz: mutated key files give a result or a CustosError, never anything else', () => {
  const der = Buffer.from(encryptPrivateKey(key, PASS).split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  let outcomes = { ok: 0, refused: 0 };
  for (let i = 0; i < 400; i++) {
    const r = pseudoRandomBytes(8, 0x5eed + i);
    const m = Buffer.from(der.subarray(0, 120)); // the AlgorithmIdentifier and the start of the ciphertext
    for (let k = 0; k < 1 + (r[0]! % 4); k++) m[r[1 + k]! % m.length] = r[5 + (k % 3)]!;
    const cut = i % 5 === 0 ? m.subarray(0, r[7]! % m.length) : Buffer.concat([m, der.subarray(120)]);
    try {
      keyProtection(toPem('ENCRYPTED PRIVATE KEY', cut), 'fuzz.pem');
      outcomes.ok++;
    } catch (err) {
      if (!isCustosError(err)) throw err;
      outcomes.refused++;
    }
  }
  // Both outcomes happen: the fuzz reaches past the first checks.
  expect(outcomes.ok).toBeGreaterThan(10);
  expect(outcomes.refused).toBeGreaterThan(10);
});
