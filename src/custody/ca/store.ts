/**
 * The lab CA's folder: its certificate, its encrypted key, and index.json, the record of every
 * certificate it issued and revoked. The folder is meant to live offline (a removable drive kept
 * in the safe), apart from examiners' identities ($CUSTOS_HOME/identities): whoever holds the CA
 * key can make an examiner out of anyone.
 *
 *   ca-cert.pem   the CA certificate (self-signed, CA:TRUE, pathLen 0), 0644
 *   ca-key.pem    its RSA key, encrypted PKCS#8 (keyfile.ts), 0600
 *   index.json    issued and revoked serial numbers, CRL number, 0600
 *   issued/       a copy of every certificate issued, by serial
 *   crl.pem       the latest CRL (writeCrl)
 *   lock          present while a custos process changes the folder
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError, printable } from '../../errors';
import { createExclusive, ensureDir, entryExists, readBoundedFile, writeAll, writeFileAtomic, writeNewFile } from '../../fsutil';
import { decryptPrivateKey, encryptPrivateKey } from '../keyfile';
import { buildCertificate, caName, type CertInfo, extension, KEY_USAGE, keyIdentifier, keyUsageBits, OIDS, randomSerial, readCertificate } from './x509';
import { bool, integer, octets, seq } from './der';

export const CA_FILES = { cert: 'ca-cert.pem', key: 'ca-key.pem', index: 'index.json', issued: 'issued', crl: 'crl.pem', lock: 'lock' } as const;

/** Bytes of index.json custos reads: some 200 bytes a certificate, so about 80,000 certificates. */
const MAX_INDEX_BYTES = 16 * 1024 * 1024;

/** What a CA is, as initCa and openCa report it. */
export interface CaInfo {
  dir: string;
  certPem: string;
  /** SHA-256 of the CA certificate (DER), lowercase hex: the fingerprint a case records as its trust anchor. */
  fingerprint: string;
  subject: string;
  notBefore: string;
  notAfter: string;
}

/** Why a certificate was revoked (RFC 5280 §5.3.1 CRLReason; certificateHold and removeFromCRL are not offered). */
export type RevocationReason = 'unspecified' | 'keyCompromise' | 'cACompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation' | 'privilegeWithdrawn' | 'aACompromise';

export const REASON_CODES: Record<RevocationReason, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export interface IssuedRecord {
  serial: string;
  subject: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
}

export interface Revocation {
  serial: string;
  /** The revocationDate the CRL states, ISO 8601 UTC. */
  revokedAt: string;
  reason: RevocationReason;
}

/** index.json. */
export interface CaIndex {
  version: 1;
  /** The number of the last CRL written (RFC 5280 §5.2.3), 0 before the first. */
  crlNumber: number;
  issued: IssuedRecord[];
  revoked: Revocation[];
}

export function checkPassphrase(passphrase: string): void {
  if (passphrase.length < 8) {
    throw new CustosError('USAGE', 'the passphrase must have at least 8 characters', { hint: 'Choose a longer passphrase; it protects the CA key.' });
  }
}

function info(dir: string, c: CertInfo): CaInfo {
  return { dir, certPem: c.pem, fingerprint: c.fingerprint, subject: c.x509.subject.replace(/\n/g, ', '), notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
}

/** Whole seconds: what a certificate's validity can hold. */
export const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

export interface InitCaOptions {
  dir: string;
  name: string;
  organization?: string;
  passphrase: string;
  /** Validity of the CA certificate in years from `now` (default 10, at most 30). */
  validityYears?: number;
  now?: Date;
}

/**
 * Creates a lab CA in `dir`: an RSA-3072 key and a self-signed CA certificate (RFC 5280):
 * basicConstraints CA:TRUE, pathLenConstraint 0 (critical), keyUsage keyCertSign and cRLSign
 * (critical), subjectKeyIdentifier. The key is encrypted with keyfile.ts and written 0600.
 * Keep the folder offline; copy ca-cert.pem (or its fingerprint) to wherever certificates are checked.
 */
export function initCa(o: InitCaOptions): CaInfo {
  checkPassphrase(o.passphrase);
  const years = o.validityYears ?? 10;
  if (!Number.isInteger(years) || years < 1 || years > 30) throw new CustosError('USAGE', `a CA validity of ${years} years: give a whole number from 1 to 30`, { hint: 'e.g. 10' });
  const subject = caName(o.name, o.organization);
  for (const f of [CA_FILES.cert, CA_FILES.key, CA_FILES.index]) {
    if (entryExists(join(o.dir, f))) throw new CustosError('OUTPUT_EXISTS', `${o.dir} already holds a CA (${f} exists)`, { path: join(o.dir, f), hint: 'Choose an empty folder for a new CA.' });
  }
  ensureDir(o.dir, 0o700);
  ensureDir(join(o.dir, CA_FILES.issued), 0o700);
  const now = seconds(o.now ?? new Date());
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const certPem = buildCertificate({
    serial: randomSerial(randomBytes(16)),
    issuer: subject,
    subject,
    notBefore: now,
    notAfter,
    spki,
    extensions: [
      extension(OIDS.basicConstraints, true, seq(bool(true), integer(0))),
      extension(OIDS.keyUsage, true, keyUsageBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
      extension(OIDS.subjectKeyIdentifier, false, octets(keyIdentifier(spki))),
    ],
    signingKey: privateKey,
  });
  // The key first, the certificate last: a folder with a certificate is a complete CA.
  writeNewFile(join(o.dir, CA_FILES.key), encryptPrivateKey(privateKey, o.passphrase), 0o600);
  writeNewFile(join(o.dir, CA_FILES.index), indexText({ version: 1, crlNumber: 0, issued: [], revoked: [] }), 0o600);
  writeNewFile(join(o.dir, CA_FILES.cert), certPem, 0o644);
  return info(o.dir, readCertificate(certPem, join(o.dir, CA_FILES.cert)));
}

/** An open CA: its certificate and its decrypted key. */
export interface OpenCa {
  dir: string;
  cert: CertInfo;
  key: KeyObject;
  info: CaInfo;
}

/** Reads the CA certificate of `dir` (no passphrase needed). */
export function readCaCertificate(dir: string): CertInfo {
  const path = join(dir, CA_FILES.cert);
  return readCertificate(readBoundedFile(path, 'CA certificate', 1024 * 1024).toString('utf8'), path);
}

/** Opens the CA in `dir` with its passphrase: the key must belong to the certificate. */
export function openCa(dir: string, passphrase: string): OpenCa {
  const cert = readCaCertificate(dir);
  const keyPath = join(dir, CA_FILES.key);
  const key = decryptPrivateKey(readBoundedFile(keyPath, 'CA key', 1024 * 1024).toString('utf8'), passphrase, keyPath);
  if (!cert.x509.checkPrivateKey(key)) throw new CustosError('KEY_MISMATCH', `${keyPath} is not the key of ${join(dir, CA_FILES.cert)}`, { path: keyPath, hint: 'Restore the CA folder from its backup.' });
  return { dir, cert, key, info: info(dir, cert) };
}

/** Runs `fn` while holding the CA folder's lock file, so that two processes never lose each other's changes. */
export function withCaLock<T>(dir: string, fn: () => T): T {
  const lock = join(dir, CA_FILES.lock);
  if (!entryExists(join(dir, CA_FILES.cert))) throw new CustosError('FILE_NOT_FOUND', `${dir}: no CA here (${CA_FILES.cert} is missing)`, { path: dir, hint: 'Name the folder made by initCa.' });
  let fd: number;
  try {
    fd = createExclusive(lock, 0o600);
  } catch (err) {
    if ((err as CustosError).code === 'OUTPUT_EXISTS') {
      throw new CustosError('IO_ERROR', `${dir}: another custos process is changing this CA (${lock} exists)`, {
        path: lock,
        cause: err,
        hint: 'Wait for it to finish; if none is running (it crashed), remove the lock file.',
      });
    }
    throw err;
  }
  try {
    writeAll(fd, Buffer.from(`${process.pid}\n`), 0, lock);
  } finally {
    closeSync(fd);
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function indexText(idx: CaIndex): string {
  return `${JSON.stringify(idx, null, 2)}\n`;
}

const HEX_SERIAL = /^[0-9a-f]{1,40}$/;
/** An ISO date a certificate or CRL can hold (RFC 5280 §4.1.2.5: 1950 to 9999). */
const isIso = (v: unknown) => typeof v === 'string' && v.length <= 30 && Date.parse(v) >= Date.UTC(1950, 0, 1) && Date.parse(v) < Date.UTC(10000, 0, 1);

/** Reads and checks index.json: a record of the CA's folder, so held to its shape before use. */
export function readIndex(dir: string): CaIndex {
  const path = join(dir, CA_FILES.index);
  const bad = (why: string) => new CustosError('INVALID_INPUT', `${path}: not a custos CA index (${why})`, { path, hint: 'Restore the CA folder from its backup.' });
  let idx: CaIndex;
  try {
    idx = JSON.parse(readBoundedFile(path, 'CA index', MAX_INDEX_BYTES).toString('utf8')) as CaIndex;
  } catch (err) {
    if (err instanceof CustosError) throw err;
    throw bad(printable((err as Error).message, 120));
  }
  if (typeof idx !== 'object' || idx === null || idx.version !== 1) throw bad('no version 1');
  if (!Number.isSafeInteger(idx.crlNumber) || idx.crlNumber < 0) throw bad('crlNumber is not a count');
  if (!Array.isArray(idx.issued) || !Array.isArray(idx.revoked)) throw bad('issued or revoked is not a list');
  idx.issued.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || !HEX_SERIAL.test(r.serial) || !/^[0-9a-f]{64}$/.test(r.fingerprint) || typeof r.subject !== 'string' || !isIso(r.notBefore) || !isIso(r.notAfter)) throw bad(`issued[${i}] is malformed`);
  });
  idx.revoked.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || !HEX_SERIAL.test(r.serial) || !isIso(r.revokedAt) || !Object.hasOwn(REASON_CODES, String(r.reason))) throw bad(`revoked[${i}] is malformed`);
  });
  return idx;
}

/** Replaces index.json atomically (a crash leaves the old or the new one, never half). */
export function writeIndex(dir: string, idx: CaIndex): void {
  writeFileAtomic(join(dir, CA_FILES.index), indexText(idx), { replace: true, mode: 0o600 });
}
