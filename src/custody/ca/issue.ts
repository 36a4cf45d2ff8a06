/** Issuing examiner certificates from the lab CA, from a public key or a PKCS#10 request. */
import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import { join } from 'node:path';
import { CustosError, printable } from '../../errors';
import { writeNewFile } from '../../fsutil';
import { type DerNode, fromPem, octets, oid, parseDer, seq, TAG, tlv } from './der';
import { CA_FILES, openCa, readIndex, seconds, withCaLock, writeIndex } from './store';
import { buildCertificate, CUSTOS_EKU_OID, examinerName, type ExaminerSubject, extension, KEY_USAGE, keyIdentifier, keyUsageBits, OIDS, randomSerial, readCertificate } from './x509';

/** Bytes of a certificate request custos reads; an RSA-8192 request is under 2.5 kB. */
export const MAX_CSR_PEM_BYTES = 64 * 1024;

/** Signature algorithms custos accepts on a request (RFC 4055 §5, RFC 5758 §3.2): no SHA-1. */
const SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** A PKCS#10 request whose self-signature verified. */
export interface CertificateRequest {
  publicKey: KeyObject;
  /** The subject the requester wrote, one line; custos does not copy it (the CA decides the subject). */
  subject: string;
}

/**
 * Reads a PKCS#10 certification request (RFC 2986 §4) and verifies its self-signature, which
 * proves that the requester holds the private key. Bounded; a damaged or forged request is a
 * CERT_INVALID naming `where`.
 */
export function parseCsr(pem: string, where = 'certificate request'): CertificateRequest {
  const invalid = (why: string) => new CustosError('CERT_INVALID', `${where}: not a usable certificate request (${why})`, { path: where, hint: 'Make the request again (openssl req -new).' });
  if (pem.length > MAX_CSR_PEM_BYTES) throw invalid('too large for a certificate request');
  const { der } = fromPem(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], where, 'certificate request');
  const [info, alg, sig] = parseDer(der, where, 'certificate request').expect(TAG.SEQUENCE, 'a CertificationRequest').items(3, 3) as [DerNode, DerNode, DerNode];
  const [version, subject, spki] = info.expect(TAG.SEQUENCE, 'a CertificationRequestInfo').items(4, 4);
  if (version!.smallInt(0, 'the request version') !== 0) version!.fail('a request version other than v1');
  subject!.expect(TAG.SEQUENCE, 'a subject Name');
  const algOid = alg.expect(TAG.SEQUENCE, 'an AlgorithmIdentifier').items(1, 2)[0]!.oid();
  const hash = SIGNATURE_HASHES[algOid];
  if (!hash) throw invalid(`its signature algorithm ${algOid} is not one custos accepts (sha256/384/512 with RSA or ECDSA)`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki!.expect(TAG.SEQUENCE, 'a SubjectPublicKeyInfo').raw), format: 'der', type: 'spki' });
  } catch (err) {
    throw invalid(`its public key cannot be read: ${printable((err as Error).message, 120)}`);
  }
  let ok = false;
  try {
    ok = verify(hash, info.raw, publicKey, sig.bitStringBytes());
  } catch (err) {
    if (err instanceof CustosError) throw err;
  }
  if (!ok) throw invalid('its signature does not verify with its own public key: it was altered, or its maker does not hold the key');
  return { publicKey, subject: subjectText(subject!.raw) };
}

/** The subject of a request as one line, for messages (Node parses Names only inside certificates). */
function subjectText(raw: Buffer): string {
  const parts: string[] = [];
  for (const rdn of parseDer(Buffer.from(raw), 'request', 'Name').children(32)) {
    for (const atv of rdn.children(8)) {
      const [type, value] = atv.items(2, 2);
      parts.push(`${type!.oid()}=${value!.content.toString('utf8')}`);
    }
  }
  return printable(parts.join(', '), 400);
}

/** Checks that a public key can sign ledger entries: RSA (custos signs RSASSA-PKCS1-v1_5), 2048 to 8192 bits. */
function checkSigningKey(key: KeyObject, where: string): void {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048 || bits > 8192) {
    throw new CustosError('CERT_INVALID', `${where}: the key is ${key.asymmetricKeyType}${bits ? ` (${bits} bits)` : ''}; examiners sign with RSA keys of 2048 to 8192 bits`, { path: where, hint: 'Make an RSA key (openssl req -newkey rsa:3072).' });
  }
}

export interface IssueCertificateOptions {
  caDir: string;
  /** The CA key's passphrase. */
  passphrase: string;
  /** A PKCS#10 request (PEM); its key is certified after its self-signature verifies. */
  csrPem?: string;
  /** Or the examiner's public key. */
  publicKey?: KeyObject;
  subject: ExaminerSubject;
  /** Validity in days from `now` (default 3 × 365); it must end before the CA certificate does. */
  validityDays?: number;
  now?: Date;
}

export interface IssuedCertificate {
  certPem: string;
  /** Serial number, lowercase hex. */
  serial: string;
  /** SHA-256 of the certificate (DER), lowercase hex. */
  fingerprint: string;
  notBefore: string;
  notAfter: string;
}

/**
 * Issues an examiner certificate (RFC 5280) signed by the CA in `caDir`: subject as createIdentity
 * writes it; keyUsage digitalSignature + nonRepudiation (critical); extendedKeyUsage
 * CUSTOS_EKU_OID (critical: the certificate is good for signing custos ledgers and nothing else,
 * §4.2.1.12); basicConstraints CA:FALSE (critical); authority and subject key identifiers; a
 * random positive 16-byte serial. Recorded in the CA's index.json and issued/ folder.
 */
export function issueCertificate(o: IssueCertificateOptions): IssuedCertificate {
  if ((o.csrPem === undefined) === (o.publicKey === undefined)) {
    throw new CustosError('USAGE', 'issue a certificate either from a certificate request or from a public key', { hint: 'Give csrPem or publicKey, not both.' });
  }
  const subject = examinerName(o.subject);
  const days = o.validityDays ?? 3 * 365;
  if (!Number.isFinite(days) || days <= 0 || days > 10 * 366) throw new CustosError('USAGE', `a validity of ${days} days: give a number of days from 1 to 3660`, { hint: 'e.g. 1095 (three years)' });
  const key = o.csrPem !== undefined ? parseCsr(o.csrPem, 'certificate request').publicKey : o.publicKey!.type === 'public' ? o.publicKey! : createPublicKey(o.publicKey!);
  checkSigningKey(key, o.csrPem !== undefined ? 'certificate request' : 'public key');
  return withCaLock(o.caDir, () => {
    const ca = openCa(o.caDir, o.passphrase);
    const now = seconds(o.now ?? new Date());
    const notAfter = seconds(new Date(now.getTime() + days * 86_400_000));
    if (now < ca.cert.notBefore || now > ca.cert.notAfter) {
      throw new CustosError('CERT_INVALID', `the CA certificate is valid from ${ca.info.notBefore} to ${ca.info.notAfter}, not at ${now.toISOString()}`, { path: o.caDir, hint: 'Check the clock, or make a new CA.' });
    }
    if (notAfter > ca.cert.notAfter) {
      throw new CustosError('USAGE', `a certificate valid until ${notAfter.toISOString()} would outlive the CA certificate (valid until ${ca.info.notAfter})`, { hint: 'Give fewer days.' });
    }
    const spki = key.export({ type: 'spki', format: 'der' });
    const serial = randomSerial(randomBytes(16));
    const certPem = buildCertificate({
      serial,
      issuer: ca.cert.subjectRaw,
      subject,
      notBefore: now,
      notAfter,
      spki,
      extensions: [
        extension(OIDS.basicConstraints, true, seq()),
        extension(OIDS.keyUsage, true, keyUsageBits([KEY_USAGE.digitalSignature, KEY_USAGE.nonRepudiation])),
        extension(OIDS.extKeyUsage, true, seq(oid(CUSTOS_EKU_OID))),
        extension(OIDS.subjectKeyIdentifier, false, octets(keyIdentifier(spki))),
        extension(OIDS.authorityKeyIdentifier, false, seq(tlv(0x80, ca.cert.subjectKeyId ?? keyIdentifier(ca.cert.spki)))),
      ],
      signingKey: ca.key,
    });
    const cert = readCertificate(certPem, 'issued certificate');
    const idx = readIndex(o.caDir);
    writeNewFile(join(o.caDir, CA_FILES.issued, `${cert.serial}.pem`), certPem, 0o644);
    idx.issued.push({ serial: cert.serial, subject: cert.x509.subject.replace(/\n/g, ', '), fingerprint: cert.fingerprint, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() });
    writeIndex(o.caDir, idx);
    return { certPem, serial: cert.serial, fingerprint: cert.fingerprint, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() };
  });
}
