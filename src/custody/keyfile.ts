/**
 * Private keys at rest: PKCS#8 EncryptedPrivateKeyInfo (RFC 5958 §3) with PBES2 (RFC 8018 §6.2),
 * PBKDF2-HMAC-SHA256 at 600,000 iterations (OWASP password storage guidance, 2023) and AES-256-CBC.
 * Node's own `KeyObject.export({ cipher, passphrase })` uses 2048 iterations, which a stolen key
 * file does not survive long against a GPU; the key is derived here with node:crypto's PBKDF2
 * (OpenSSL, fast) and the structure written with the DER writer of ca/der.ts.
 *
 * Reading hands the file to OpenSSL (which reads any PBES2 parameters, so keys written with 2048
 * iterations still open), but first reads the key-derivation parameters and refuses those that
 * would make a hostile key file cost minutes or gigabytes before any passphrase is tried.
 */
import { createCipheriv, createPrivateKey, type KeyObject, pbkdf2Sync, randomBytes } from 'node:crypto';
import { CustosError, printable } from '../errors';
import { type DerNode, fromPem, NULL, octets, oid, parseDer, seq, TAG, toPem, integer } from './ca/der';

/** PBKDF2 iterations custos writes (OWASP 2023: PBKDF2-HMAC-SHA256, at least 600,000). */
export const PBKDF2_ITERATIONS = 600_000;
/** The most PBKDF2 iterations (or PBES1/PKCS#12 iterations) custos spends on a key file it reads. */
export const MAX_KDF_ITERATIONS = 10_000_000;
/** The largest scrypt cost N custos accepts (2^20, 1 GiB at r = 8), and the bounds on r and p. */
export const MAX_SCRYPT_N = 2 ** 20;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 16;
/** Memory scrypt may use (128·N·r bytes), 1 GiB. */
const MAX_SCRYPT_BYTES = 1024 * 1024 * 1024;
/** Bytes of a key file custos reads; an RSA-16384 PKCS#8 key is under 13 kB. */
export const MAX_KEY_PEM_BYTES = 256 * 1024;

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  hmacWithSHA1: '1.2.840.113549.2.7',
  hmacWithSHA224: '1.2.840.113549.2.8',
  hmacWithSHA256: '1.2.840.113549.2.9',
  hmacWithSHA384: '1.2.840.113549.2.10',
  hmacWithSHA512: '1.2.840.113549.2.11',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
} as const;

const PRF_NAMES: Record<string, string> = {
  [OID.hmacWithSHA1]: 'hmacWithSHA1',
  [OID.hmacWithSHA224]: 'hmacWithSHA224',
  [OID.hmacWithSHA256]: 'hmacWithSHA256',
  [OID.hmacWithSHA384]: 'hmacWithSHA384',
  [OID.hmacWithSHA512]: 'hmacWithSHA512',
};

/** How a key file is protected, as read from its AlgorithmIdentifier. */
export type KeyProtection =
  | { kind: 'none' }
  | { kind: 'legacy-pem' }
  | { kind: 'pbkdf2'; prf: string; iterations: number; saltBytes: number; cipher: string }
  | { kind: 'scrypt'; n: number; r: number; p: number; saltBytes: number; cipher: string }
  | { kind: 'pbes1'; scheme: string; iterations: number };

/**
 * Encrypts a private key as PKCS#8 EncryptedPrivateKeyInfo (RFC 5958 §3) with PBES2 (RFC 8018
 * §6.2): PBKDF2-HMAC-SHA256, 600,000 iterations, a 16-byte random salt, AES-256-CBC with a random
 * IV. Returns the PEM ("ENCRYPTED PRIVATE KEY", RFC 7468 §11).
 */
export function encryptPrivateKey(key: KeyObject, passphrase: string): string {
  if (key.type !== 'private') throw new RangeError('encryptPrivateKey needs a private key');
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const derived = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, PBKDF2_ITERATIONS, 32, 'sha256');
  const plain = key.export({ type: 'pkcs8', format: 'der' });
  try {
    const cipher = createCipheriv('aes-256-cbc', derived, iv);
    const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
    // RFC 8018 A.2: PBKDF2-params; keyLength is left out (AES-256 fixes it), prf is given since it is not the SHA-1 default.
    const kdf = seq(oid(OID.pbkdf2), seq(octets(salt), integer(PBKDF2_ITERATIONS), seq(oid(OID.hmacWithSHA256), NULL)));
    const scheme = seq(oid(OID.aes256cbc), octets(iv));
    const info = seq(seq(oid(OID.pbes2), seq(kdf, scheme)), octets(encrypted));
    return toPem('ENCRYPTED PRIVATE KEY', info);
  } finally {
    plain.fill(0);
    derived.fill(0);
  }
}

const KEY_LABELS = ['ENCRYPTED PRIVATE KEY', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'] as const;

/**
 * Reads how a PEM private key is protected, checking the key-derivation parameters against the
 * bounds above (RFC 8018 §6.2, RFC 7914 §7), without deriving anything.
 */
export function keyProtection(pem: string, where: string): KeyProtection {
  return readProtection(pem, where).protection;
}

function readProtection(pem: string, where: string): { protection: KeyProtection; block: ReturnType<typeof fromPem> } {
  if (pem.length > MAX_KEY_PEM_BYTES) throw new CustosError('CERT_INVALID', `${where}: too large for a private key`, { path: where, hint: 'Give the key file itself.' });
  const block = fromPem(pem, KEY_LABELS, where, 'private key');
  if (block.legacyEncrypted) return { protection: { kind: 'legacy-pem' }, block }; // RFC 1421 encryption: one MD5 round, nothing to bound
  if (block.label !== 'ENCRYPTED PRIVATE KEY') return { protection: { kind: 'none' }, block };
  const root = parseDer(block.der, where, 'encrypted private key');
  const [alg] = root.expect(TAG.SEQUENCE, 'EncryptedPrivateKeyInfo').items(2, 2);
  const [algOid, params] = alg!.expect(TAG.SEQUENCE, 'an AlgorithmIdentifier').items(2, 2);
  const scheme = algOid!.oid();
  if (scheme === OID.pbes2) return { protection: pbes2(params!, where), block };
  // PBES1 (RFC 8018 §6.1) and the PKCS#12 PBE schemes (RFC 7292 App. C) share PBEParameter { salt, iterationCount }.
  if (scheme.startsWith('1.2.840.113549.1.5.') || scheme.startsWith('1.2.840.113549.1.12.1.')) {
    const [, count] = params!.expect(TAG.SEQUENCE, 'PBE parameters').items(2, 2);
    return { protection: { kind: 'pbes1', scheme, iterations: iterations(count!, where) }, block };
  }
  throw new CustosError('CERT_INVALID', `${where}: the key is encrypted with an unknown scheme (${scheme})`, { path: where, hint: 'Re-encrypt it with openssl pkcs8 -topk8 -v2 aes-256-cbc.' });
}

function iterations(node: DerNode, where: string): number {
  const v = node.bigint(8);
  if (v < 1n || v > BigInt(MAX_KDF_ITERATIONS)) {
    throw new CustosError('CERT_INVALID', `${where}: the key file asks for ${v} key-derivation iterations; custos spends at most ${MAX_KDF_ITERATIONS}`, {
      path: where,
      hint: 'This key file was not written by custos or openssl defaults; re-encrypt the key (openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000).',
    });
  }
  return Number(v);
}

function pbes2(params: DerNode, where: string): KeyProtection {
  const [kdf, enc] = params.expect(TAG.SEQUENCE, 'PBES2 parameters').items(2, 2);
  const [kdfOid, kdfParams] = kdf!.expect(TAG.SEQUENCE, 'a key derivation AlgorithmIdentifier').items(2, 2);
  const cipher = enc!.expect(TAG.SEQUENCE, 'an encryption scheme').items(1, 2)[0]!.oid();
  const fields = kdfParams!.expect(TAG.SEQUENCE, 'key derivation parameters').items(2, 5);
  const salt = fields[0]!.expect(TAG.OCTET_STRING, 'a salt').content;
  if (salt.length > 1024) fields[0]!.fail('a salt of more than 1024 bytes');
  const kind = kdfOid!.oid();
  if (kind === OID.pbkdf2) {
    // PBKDF2-params ::= SEQUENCE { salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }
    const count = iterations(fields[1]!, where);
    const prfNode = fields.slice(2).find((f) => f.tag === TAG.SEQUENCE);
    const prfOid = prfNode ? prfNode.items(1, 2)[0]!.oid() : OID.hmacWithSHA1;
    return { kind: 'pbkdf2', prf: PRF_NAMES[prfOid] ?? prfOid, iterations: count, saltBytes: salt.length, cipher: cipher === OID.aes256cbc ? 'aes-256-cbc' : cipher };
  }
  if (kind === OID.scrypt) {
    // scrypt-params ::= SEQUENCE { salt, costParameter, blockSize, parallelizationParameter, keyLength OPTIONAL } (RFC 7914 §7.1)
    if (fields.length < 4) kdfParams!.fail('scrypt parameters without blockSize or parallelization');
    const n = fields[1]!.bigint(8);
    const r = fields[2]!.bigint(8);
    const p = fields[3]!.bigint(8);
    const fits = n >= 2n && n <= BigInt(MAX_SCRYPT_N) && (n & (n - 1n)) === 0n && r >= 1n && r <= BigInt(MAX_SCRYPT_R) && p >= 1n && p <= BigInt(MAX_SCRYPT_P) && 128n * n * r <= BigInt(MAX_SCRYPT_BYTES);
    if (!fits) {
      throw new CustosError('CERT_INVALID', `${where}: the key file asks for scrypt N=${n}, r=${r}, p=${p}; custos accepts N a power of two up to ${MAX_SCRYPT_N}, r up to ${MAX_SCRYPT_R}, p up to ${MAX_SCRYPT_P}, at most 1 GiB`, {
        path: where,
        hint: 'This key file was not written by custos or openssl defaults; re-encrypt the key (openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000).',
      });
    }
    return { kind: 'scrypt', n: Number(n), r: Number(r), p: Number(p), saltBytes: salt.length, cipher: cipher === OID.aes256cbc ? 'aes-256-cbc' : cipher };
  }
  throw new CustosError('CERT_INVALID', `${where}: the key is encrypted with an unknown key derivation (${kind})`, { path: where, hint: 'Re-encrypt it with openssl pkcs8 -topk8 -v2 aes-256-cbc.' });
}

/**
 * Opens a PEM private key: encrypted PKCS#8 (RFC 5958, any PBES2 parameters within the bounds,
 * so keys written by Node with 2048 iterations still open), legacy encrypted PEM, or an
 * unencrypted key. A wrong passphrase is a WRONG_PASSPHRASE; a damaged or hostile file a
 * CERT_INVALID naming `where`.
 */
export function decryptPrivateKey(pem: string, passphrase: string, where: string): KeyObject {
  const { protection, block } = readProtection(pem, where);
  const wrong = (err: unknown) =>
    new CustosError('WRONG_PASSPHRASE', `wrong passphrase for the key in ${where}`, { path: where, cause: err, hint: 'Type it again, or set CUSTOS_PASSPHRASE correctly for scripts.' });
  if (protection.kind === 'pbkdf2' || protection.kind === 'scrypt' || protection.kind === 'pbes1') {
    // Its structure was read above, so a failure now is the decryption: a wrong passphrase (or,
    // once in 256, garbage that passed the padding check).
    try {
      return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8', passphrase });
    } catch (err) {
      if (/unsupported|cipher/i.test((err as Error).message) && !/bad decrypt/i.test((err as Error).message)) {
        throw new CustosError('CERT_INVALID', `${where}: the key's encryption is not supported (${printable((err as Error).message, 200)})`, { path: where, cause: err, hint: 'Re-encrypt it with openssl pkcs8 -topk8 -v2 aes-256-cbc.' });
      }
      throw wrong(err);
    }
  }
  try {
    // Only the block looked at above goes to OpenSSL, never text around it.
    return createPrivateKey({ key: block.text, format: 'pem', passphrase });
  } catch (err) {
    const msg = (err as Error).message;
    if (protection.kind === 'legacy-pem' && /bad decrypt|decrypt|passphrase/i.test(msg)) throw wrong(err);
    throw new CustosError('CERT_INVALID', `${where}: not a private key custos can read (${printable(msg, 200)})`, { path: where, cause: err, hint: 'Give a PEM (PKCS#8 or PKCS#1) RSA private key.' });
  }
}
