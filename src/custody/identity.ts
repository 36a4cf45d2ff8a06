import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { CustosError, fromFsError, printable } from '../errors';
import { ensureDir, readBoundedFile, writeNewFile } from '../fsutil';
import { issueCertificate } from './ca';
import { sha256Hex } from './canonical';
import { decryptPrivateKey, encryptPrivateKey } from './keyfile';

/** An examiner's identity as custos keeps it: the certificate's facts, never key material. */
export interface IdentityRecord {
  name: string;
  role: string;
  email?: string;
  organization?: string;
  /** SHA-256 of the certificate (DER), lowercase hex: how ledgers name the signer. */
  fingerprint: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  selfSigned: boolean;
}

/** Where identities live: $CUSTOS_HOME, else ~/.config/custos. */
export function custosHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CUSTOS_HOME || join(homedir(), '.config', 'custos');
}

const identitiesDir = (home: string) => join(home, 'identities');

/** Bytes of a certificate PEM custos will parse; real ones are a few kilobytes. */
const MAX_CERT_BYTES = 1024 * 1024;

/**
 * Parses a PEM certificate (RFC 5280) from outside, and reads every field custos uses (subject,
 * issuer, validity, public key) once, so that a damaged certificate fails here as a CERT_INVALID
 * naming `where`, never later inside a getter.
 */
export function parseCert(certPem: string, where = 'certificate'): X509Certificate {
  const invalid = (why: string, cause?: unknown) =>
    new CustosError('CERT_INVALID', `${where}: not a usable X.509 certificate (${why})`, {
      path: where,
      cause,
      hint: 'Give the PEM file (-----BEGIN CERTIFICATE-----), or restore it from a copy.',
    });
  if (certPem.length > MAX_CERT_BYTES) throw invalid('too large for a certificate');
  let c: X509Certificate;
  try {
    c = new X509Certificate(certPem);
    void c.subject;
    void c.issuer;
    void c.raw;
    c.publicKey.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw invalid(printable((err as Error).message, 200), err);
  }
  for (const [name, text] of [['notBefore', c.validFrom], ['notAfter', c.validTo]] as const) {
    if (Number.isNaN(new Date(text).getTime())) throw invalid(`its ${name} date '${printable(text, 40)}' cannot be read`);
  }
  return c;
}

/** SHA-256 fingerprint of a PEM certificate (hash of its DER form). */
export function certFingerprint(certPem: string, where?: string): string {
  return sha256Hex(parseCert(certPem, where).raw);
}

/** The attributes custos writes into a subject: CN is the name, title the role (X.520). */
function subjectField(cert: X509Certificate, key: string): string | undefined {
  const line = cert.subject.split('\n').find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1);
}

/** Describes a certificate as an identity record. */
export function describeCert(certPem: string, where?: string): IdentityRecord {
  const c = parseCert(certPem, where);
  const email = subjectField(c, 'emailAddress');
  const organization = subjectField(c, 'O');
  return {
    name: subjectField(c, 'CN') ?? c.subject,
    role: subjectField(c, 'title') ?? '',
    ...(email ? { email } : {}),
    ...(organization ? { organization } : {}),
    fingerprint: sha256Hex(c.raw),
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    selfSigned: c.subject === c.issuer,
  };
}

/** True when the certificate is valid at instant `at`. */
export function certValidAt(certPem: string, at: Date): boolean {
  const c = parseCert(certPem);
  return at >= new Date(c.validFrom) && at <= new Date(c.validTo);
}

function store(home: string, certPem: string, encryptedKeyPem: string): IdentityRecord {
  const record = describeCert(certPem);
  const dir = join(identitiesDir(home), record.fingerprint.slice(0, 16));
  if (existsSync(dir)) {
    throw new CustosError('IDENTITY_EXISTS', `an identity with certificate ${record.fingerprint.slice(0, 16)}… already exists in ${home}`, {
      hint: 'List them with custos identity list.',
    });
  }
  ensureDir(dir, 0o700);
  try {
    chmodSync(home, 0o700);
  } catch (err) {
    throw fromFsError(err, home, 'protecting the identity folder') ?? err;
  }
  writeNewFile(join(dir, 'cert.pem'), certPem, 0o644);
  // The key file is created 0600 from the start, so it is never readable by others even briefly.
  writeNewFile(join(dir, 'key.pem'), encryptedKeyPem, 0o600);
  return record;
}

export interface CreateIdentityOptions {
  name: string;
  role: string;
  email?: string;
  organization?: string;
  passphrase: string;
  /** Validity in days from `now`. */
  days?: number;
  home: string;
  now?: Date;
}

function checkPassphrase(passphrase: string): void {
  if (passphrase.length < 8) {
    throw new CustosError('USAGE', 'the passphrase must have at least 8 characters', { hint: 'Choose a longer passphrase; it protects your signing key.' });
  }
}

/** The lab CA that issues an identity's certificate (ca.ts): its folder and its key's passphrase. */
export interface IssuingCa {
  dir: string;
  passphrase: string;
}

/**
 * Makes an RSA-3072 key pair and an X.509 certificate (RFC 5280) for an examiner: subject
 * CN=name, title=role, O=organization, emailAddress; key usage digitalSignature and
 * nonRepudiation. Self-signed, or, given `ca`, issued by the lab CA (issueCertificate: with the
 * custos extended key usage, valid `days` from `now`). The private key is stored as encrypted
 * PKCS#8 (PBES2, PBKDF2-HMAC-SHA256 at 600,000 iterations, AES-256-CBC; keyfile.ts), mode 0600.
 */
export function createIdentity(o: CreateIdentityOptions, ca?: IssuingCa): IdentityRecord {
  checkPassphrase(o.passphrase);
  if (!o.name.trim() || !o.role.trim()) throw new CustosError('USAGE', 'an identity needs a --name and a --role', { hint: 'e.g. --name "Alex Morgan" --role examiner' });
  const now = o.now ?? new Date();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  if (ca) {
    const subject = { name: o.name, role: o.role, ...(o.email ? { email: o.email } : {}), ...(o.organization ? { organization: o.organization } : {}) };
    const issued = issueCertificate({ caDir: ca.dir, passphrase: ca.passphrase, publicKey, subject, validityDays: o.days, now });
    return store(o.home, issued.certPem, encryptPrivateKey(privateKey, o.passphrase));
  }
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER (RFC 5280 §4.1.2.2)
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = now;
  cert.validity.notAfter = new Date(now.getTime() + (o.days ?? 3 * 365) * 86_400_000);
  // UTF8String (RFC 5280 §4.1.2.6): forge would otherwise write the bytes of a non-ASCII name as a PrintableString.
  const utf8 = (value: string) => ({ value, valueTagClass: forge.asn1.Type.UTF8 as number });
  const attrs: forge.pki.CertificateField[] = [
    { name: 'commonName', ...utf8(o.name) },
    { type: '2.5.4.12', ...utf8(o.role) },
    ...(o.organization ? [{ name: 'organizationName', ...utf8(o.organization) }] : []),
    ...(o.email ? [{ name: 'emailAddress', value: o.email }] : []),
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const forgeKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
  cert.sign(forgeKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return store(o.home, certPem, encryptPrivateKey(privateKey, o.passphrase));
}

function readText(path: string, what: string): string {
  return readBoundedFile(path, what, MAX_CERT_BYTES).toString('utf8');
}

function decryptKey(pem: string, passphrase: string, where: string): KeyObject {
  return decryptPrivateKey(pem, passphrase, where);
}

/** Checks that a certificate can sign now: parseable, RSA, in its validity period. */
function checkCertUsable(certPem: string, where: string, now: Date): X509Certificate {
  const c = parseCert(certPem, where);
  if (c.publicKey.asymmetricKeyType !== 'rsa') {
    throw new CustosError('CERT_INVALID', `${where}: the certificate's key is ${c.publicKey.asymmetricKeyType}, custos signs with RSA`, { path: where, hint: 'Ask your CA for an RSA certificate.' });
  }
  if (now > new Date(c.validTo)) {
    throw new CustosError('CERT_INVALID', `${where}: the certificate expired on ${new Date(c.validTo).toISOString()}`, { path: where, hint: 'Renew it (or create a new identity) before signing.' });
  }
  if (now < new Date(c.validFrom)) {
    throw new CustosError('CERT_INVALID', `${where}: the certificate is not valid before ${new Date(c.validFrom).toISOString()}`, { path: where, hint: 'Check the system clock.' });
  }
  return c;
}

/** Imports a certificate issued by an organisation's CA with its private key, re-encrypted under `passphrase`. */
export function importIdentity(o: { certPath: string; keyPath: string; passphrase: string; keyPassphrase?: string; home: string; now?: Date }): IdentityRecord {
  checkPassphrase(o.passphrase);
  const certPem = readText(o.certPath, 'certificate');
  const cert = checkCertUsable(certPem, o.certPath, o.now ?? new Date());
  const key = decryptKey(readText(o.keyPath, 'private key'), o.keyPassphrase ?? o.passphrase, o.keyPath);
  if (!cert.checkPrivateKey(key)) {
    throw new CustosError('KEY_MISMATCH', `${o.keyPath} is not the private key of the certificate ${o.certPath}`, { path: o.keyPath, hint: 'Give the key that belongs to this certificate.' });
  }
  return store(o.home, certPem.trim() + '\n', encryptPrivateKey(key, o.passphrase));
}

/** Every identity in `home`, by name. */
export function listIdentities(home: string): (IdentityRecord & { dir: string })[] {
  const root = identitiesDir(home);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'cert.pem')))
    .map((d) => ({ ...describeCert(readText(join(root, d, 'cert.pem'), 'certificate'), join(root, d, 'cert.pem')), dir: join(root, d) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Finds one identity by fingerprint (or a prefix of it) or by exact name; alone, the only one there is. */
export function findIdentity(home: string, selector?: string): IdentityRecord & { dir: string } {
  const all = listIdentities(home);
  const hint = `Create one with custos identity create, or choose with --identity (custos identity list shows them; home: ${home}).`;
  if (!selector) {
    if (all.length === 1) return all[0]!;
    throw new CustosError(all.length === 0 ? 'IDENTITY_NOT_FOUND' : 'IDENTITY_AMBIGUOUS', all.length === 0 ? 'no identity to sign with' : `${all.length} identities: say which one signs`, { hint });
  }
  const s = selector.toLowerCase().replace(/:/g, '');
  const found = all.filter((i) => i.name === selector || (s.length >= 8 && i.fingerprint.startsWith(s)));
  if (found.length === 1) return found[0]!;
  throw new CustosError(found.length === 0 ? 'IDENTITY_NOT_FOUND' : 'IDENTITY_AMBIGUOUS', `identity '${selector}' ${found.length === 0 ? 'not found' : 'matches several'}`, { hint });
}

/** A loaded signing identity: the key stays inside the KeyObject, never in a string. */
export interface Signer {
  identity: IdentityRecord;
  certPem: string;
  /** RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2), base64. */
  sign(data: Uint8Array): string;
}

/** Decrypts an identity's key with its passphrase and checks that it may sign at `now`. */
export function loadSigner(home: string, selector: string | undefined, passphrase: string, now = new Date()): Signer {
  const id = findIdentity(home, selector);
  const certPath = join(id.dir, 'cert.pem');
  const certPem = readText(certPath, 'certificate');
  const cert = checkCertUsable(certPem, certPath, now);
  const key = decryptKey(readText(join(id.dir, 'key.pem'), 'private key'), passphrase, join(id.dir, 'key.pem'));
  if (!cert.checkPrivateKey(key)) throw new CustosError('KEY_MISMATCH', `${id.dir}: key and certificate do not belong together`, { hint: 'Re-import the identity.' });
  return { identity: id, certPem, sign: (data) => sign('sha256', data, key).toString('base64') };
}

/** The public key of a PEM certificate, for verifiers. */
export function certPublicKey(certPem: string, where?: string): KeyObject {
  return createPublicKey(parseCert(certPem, where).publicKey.export({ type: 'spki', format: 'pem' }));
}
