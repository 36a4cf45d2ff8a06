/**
 * X.509 certificates (RFC 5280) as the CA needs them: read with the bounded DER reader (the
 * extensions Node does not expose — basicConstraints' path length, keyUsage bits, key
 * identifiers, criticality) next to Node's X509Certificate (signatures, the subject as ledgers
 * name it), and written field by field so that every byte is the one RFC 5280 asks for.
 */
import { createHash, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { CustosError, printable } from '../../errors';
import { bitString, bool, directoryString, explicit, fromPem, integer, NULL, octets, oid, parseDer, seq, set, TAG, time, tlv, toPem, unsignedInteger } from './der';

/**
 * The extended key usage custos requires of certificates a CA issues to examiners: "signs
 * custos chain-of-custody ledger entries". A UUID-based OID (ITU-T X.667, arc 2.25), so no
 * registration is needed and no other purpose can share it; the UUID is
 * 28642594-a7ca-42d3-a230-832e099ad7fd.
 */
export const CUSTOS_EKU_OID = '2.25.53689111744102020137797617723345917949';

export const OIDS = {
  commonName: '2.5.4.3',
  title: '2.5.4.12',
  organizationName: '2.5.4.10',
  emailAddress: '1.2.840.113549.1.9.1',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
} as const;

/** keyUsage bits (RFC 5280 §4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

/** Extensions whose meaning custos knows, so that a critical one does not stop a path (RFC 5280 §4.2). */
const UNDERSTOOD = new Set<string>([OIDS.subjectKeyIdentifier, OIDS.keyUsage, OIDS.subjectAltName, OIDS.basicConstraints, OIDS.authorityKeyIdentifier, OIDS.extKeyUsage]);

/** Bytes of a certificate PEM custos parses; real ones are a few kilobytes. */
export const MAX_CERT_PEM_BYTES = 1024 * 1024;

/** A certificate with every field the CA and the chain check use, read once. */
export interface CertInfo {
  x509: X509Certificate;
  pem: string;
  /** SHA-256 of the DER certificate, lowercase hex. */
  fingerprint: string;
  /** Serial number, lowercase hex without leading zeros. */
  serial: string;
  issuerRaw: Buffer;
  subjectRaw: Buffer;
  /** The commonName, else the whole subject, for messages. */
  name: string;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  basicConstraints?: { ca: boolean; pathLen?: number };
  keyUsage?: Set<number>;
  extKeyUsage?: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  /** Critical extensions custos does not understand (their OIDs). */
  unknownCritical: string[];
}

/** Canonical form of a serial number: lowercase hex, no leading zeros, no colons. */
export const serialHex = (v: bigint) => v.toString(16);

/**
 * Reads one PEM certificate (RFC 5280 §4.1) from outside: Node (OpenSSL) must accept it and the
 * bounded DER reader must find every field; anything else is a CERT_INVALID naming `where`.
 */
export function readCertificate(pem: string, where: string): CertInfo {
  const invalid = (why: string, cause?: unknown) =>
    new CustosError('CERT_INVALID', `${where}: not a usable X.509 certificate (${why})`, { path: where, cause, hint: 'Give the PEM file (-----BEGIN CERTIFICATE-----), or restore it from a copy.' });
  if (pem.length > MAX_CERT_PEM_BYTES) throw invalid('too large for a certificate');
  const { der, text } = fromPem(pem, ['CERTIFICATE'], where, 'X.509 certificate');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
    void x509.subject;
    x509.publicKey.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw invalid(printable((err as Error).message, 200), err);
  }
  const root = parseDer(der, where, 'X.509 certificate');
  const [tbs] = root.expect(TAG.SEQUENCE, 'a Certificate').items(3, 3);
  const f = tbs!.expect(TAG.SEQUENCE, 'a TBSCertificate').items(6, 10);
  const o = f[0]!.isContext(0) ? 1 : 0; // version [0] EXPLICIT, absent for v1
  if (f.length < o + 6) tbs!.fail('a TBSCertificate without its subject or public key');
  const [serial, , issuer, validity, subject, spki] = f.slice(o, o + 6) as [typeof root, typeof root, typeof root, typeof root, typeof root, typeof root];
  const [nb, na] = validity.expect(TAG.SEQUENCE, 'a Validity').items(2, 2);
  const info: CertInfo = {
    x509,
    pem: text,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    serial: serialHex(serial.bigint(32)),
    issuerRaw: Buffer.from(issuer.expect(TAG.SEQUENCE, 'an issuer Name').raw),
    subjectRaw: Buffer.from(subject.expect(TAG.SEQUENCE, 'a subject Name').raw),
    name: nameOf(x509),
    notBefore: nb!.time(),
    notAfter: na!.time(),
    spki: Buffer.from(spki.expect(TAG.SEQUENCE, 'a SubjectPublicKeyInfo').raw),
    unknownCritical: [],
  };
  const extsNode = f.slice(o + 6).find((n) => n.isContext(3));
  if (!extsNode) return info;
  const seen = new Set<string>();
  for (const ext of extsNode.items(1, 1)[0]!.expect(TAG.SEQUENCE, 'Extensions').items(1, 64)) {
    const parts = ext.expect(TAG.SEQUENCE, 'an Extension').items(2, 3);
    const id = parts[0]!.oid();
    const critical = parts.length === 3 && parts[1]!.expect(TAG.BOOLEAN, 'a criticality flag').content[0] !== 0;
    const value = parts[parts.length - 1]!.expect(TAG.OCTET_STRING, 'an extension value');
    if (seen.has(id)) value.fail(`the extension ${id} appears twice (RFC 5280 §4.2)`);
    seen.add(id);
    if (critical && !UNDERSTOOD.has(id)) info.unknownCritical.push(id);
    const inner = () => parseDer(Buffer.from(value.content), where, `X.509 certificate (extension ${id})`);
    if (id === OIDS.basicConstraints) {
      const kids = inner().expect(TAG.SEQUENCE, 'BasicConstraints').children(2);
      const ca = kids[0]?.tag === TAG.BOOLEAN && kids[0].content[0] !== 0;
      const len = kids.find((k) => k.tag === TAG.INTEGER);
      info.basicConstraints = { ca, ...(len ? { pathLen: len.smallInt(255, 'pathLenConstraint') } : {}) };
    } else if (id === OIDS.keyUsage) info.keyUsage = inner().namedBits();
    else if (id === OIDS.extKeyUsage) info.extKeyUsage = inner().expect(TAG.SEQUENCE, 'ExtKeyUsageSyntax').items(1, 64).map((n) => n.oid());
    else if (id === OIDS.subjectKeyIdentifier) info.subjectKeyId = Buffer.from(inner().expect(TAG.OCTET_STRING, 'a key identifier').content);
    else if (id === OIDS.authorityKeyIdentifier) {
      const keyId = inner().expect(TAG.SEQUENCE, 'AuthorityKeyIdentifier').children(3).find((k) => k.tag === 0x80);
      if (keyId) info.authorityKeyId = Buffer.from(keyId.content);
    }
  }
  return info;
}

/** The commonName of a certificate's subject, else the whole subject on one line. */
function nameOf(c: X509Certificate): string {
  const cn = c.subject.split('\n').find((l) => l.startsWith('CN='));
  return cn ? cn.slice(3) : c.subject.replace(/\n/g, ', ');
}

/** "the certificate of 'Alex Morgan' (3f2a…)": how messages name a certificate. */
export const describe = (c: CertInfo) => `the certificate of '${printable(c.name, 80)}' (sha256 ${c.fingerprint.slice(0, 16)}…)`;

/** The subjectPublicKey bits of a SubjectPublicKeyInfo. */
function publicKeyBits(spki: Buffer): Buffer {
  return parseDer(spki, 'public key', 'SubjectPublicKeyInfo').items(2, 2)[1]!.bitStringBytes();
}

/** Key identifier of RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (as openssl computes it). */
export const keyIdentifier = (spki: Buffer) => createHash('sha1').update(publicKeyBits(spki)).digest();

/** An examiner's subject as custos writes it (identity.ts): CN = name, title = role, O, emailAddress (X.520, PKCS #9). */
export interface ExaminerSubject {
  name: string;
  role: string;
  email?: string;
  organization?: string;
}

/** Checks a subject attribute (RFC 5280 Appendix A upper bounds) and returns it. */
export function attribute(value: string | undefined, what: string, max: number, required: boolean): string | undefined {
  if (value === undefined || (!required && value === '')) return undefined;
  if (!value.trim()) throw new CustosError('USAGE', `the ${what} is empty`, { hint: `Give a ${what}.` });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) throw new CustosError('USAGE', `the ${what} '${printable(value, 80)}' contains control characters`, { hint: `Type the ${what} as plain text.` });
  if ([...value].length > max) throw new CustosError('USAGE', `the ${what} has ${[...value].length} characters; a certificate allows at most ${max} (RFC 5280)`, { hint: `Shorten the ${what}.` });
  return value;
}

/** The DER Name for an examiner, in the order createIdentity writes it. */
export function examinerName(s: ExaminerSubject): Buffer {
  const rdn = (type: string, value: Buffer) => set(seq(oid(type), value));
  const email = attribute(s.email, 'email address', 255, false);
  if (email !== undefined && !/^[\x21-\x7e]+$/.test(email)) throw new CustosError('USAGE', `the email address '${printable(email, 80)}' is not plain ASCII`, { hint: 'An emailAddress is an IA5String (PKCS #9).' });
  const org = attribute(s.organization, 'organization', 64, false);
  return seq(
    rdn(OIDS.commonName, directoryString(attribute(s.name, 'name', 64, true)!)),
    rdn(OIDS.title, directoryString(attribute(s.role, 'role', 64, true)!)),
    ...(org !== undefined ? [rdn(OIDS.organizationName, directoryString(org))] : []),
    ...(email !== undefined ? [rdn(OIDS.emailAddress, tlv(TAG.IA5_STRING, Buffer.from(email, 'latin1')))] : []),
  );
}

/** The DER Name of a CA: CN and O. */
export function caName(name: string, organization?: string): Buffer {
  const rdn = (type: string, value: string) => set(seq(oid(type), directoryString(value)));
  const org = attribute(organization, 'organization', 64, false);
  return seq(rdn(OIDS.commonName, attribute(name, 'CA name', 64, true)!), ...(org !== undefined ? [rdn(OIDS.organizationName, org)] : []));
}

/** One Extension (RFC 5280 §4.1): id, critical when true, the DER value in an OCTET STRING. */
export const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** keyUsage as a DER BIT STRING of named bits, trailing zero bits dropped (X.690 §11.2.2). */
export function keyUsageBits(bits: number[]): Buffer {
  const top = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return tlv(TAG.BIT_STRING, Buffer.from([7 - (top & 7)]), bytes);
}

const SHA256_WITH_RSA = seq(oid(OIDS.sha256WithRSAEncryption), NULL);

/**
 * Builds and signs an X.509 v3 certificate (RFC 5280 §4.1) with sha256WithRSAEncryption
 * (RFC 4055); validity in whole seconds. Returns the PEM.
 */
export function buildCertificate(o: { serial: Buffer; issuer: Buffer; subject: Buffer; notBefore: Date; notAfter: Date; spki: Buffer; extensions: Buffer[]; signingKey: KeyObject }): string {
  const tbs = seq(explicit(0, integer(2)), unsignedInteger(o.serial), SHA256_WITH_RSA, o.issuer, seq(time(o.notBefore), time(o.notAfter)), o.subject, o.spki, explicit(3, seq(...o.extensions)));
  return toPem('CERTIFICATE', seq(tbs, SHA256_WITH_RSA, bitString(sign('sha256', tbs, o.signingKey))));
}

/** A positive 16-byte serial number with its top bits 01, so it is always 16 bytes (RFC 5280 §4.1.2.2). */
export function randomSerial(random: Buffer): Buffer {
  const s = Buffer.from(random.subarray(0, 16));
  s[0] = (s[0]! & 0x3f) | 0x40;
  return s;
}

/** True when `issuer`'s signature is on `child` and names match (the check before any policy). */
export function signedBy(child: CertInfo, issuer: CertInfo): boolean {
  if (!child.issuerRaw.equals(issuer.subjectRaw) && child.x509.issuer !== issuer.x509.subject) return false;
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}
