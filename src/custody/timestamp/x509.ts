/**
 * The parts of an X.509 certificate (RFC 5280 §4.1) that timestamp verification needs and
 * node:crypto does not expose: the serial and the issuer and subject names as bytes (to match a
 * CMS SignerIdentifier and an ESSCertID), the validity, and each extension with its critical flag.
 * Signatures, keys and issuer checks stay with node:crypto's X509Certificate.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { printable } from '../../errors';
import { ctx, elements, malformed, parseDer, readBitIndexes, readBoolean, readInteger, readOctets, readOid, readString, readTime, Reader, TAG, type Tlv, value, whole } from './der';
import { NAME_ATTRIBUTES, OID } from './oids';

/** A certificate with the facts custos checks, each read once. */
export interface CertFacts {
  x509: X509Certificate;
  der: Buffer;
  serial: bigint;
  /** The issuer and subject Names, DER. */
  issuer: Buffer;
  subject: Buffer;
  subjectText: string;
  notBefore: Date;
  notAfter: Date;
  /** Extensions by OID (each at most once, RFC 5280 §4.2). */
  extensions: Map<string, { critical: boolean; value: Buffer }>;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string;
}

const MAX_EXTENSIONS = 64;

/** Reads a DER certificate (bounded by its container) and the facts above; INVALID_INPUT naming `where` if it is not one. */
export function certFacts(der: Buffer, where: string): CertFacts {
  const cert = new Reader(parseDer(der, TAG.SEQUENCE, where), where);
  const tbs = new Reader(cert.next(TAG.SEQUENCE, 'tbsCertificate'), `${where}: tbsCertificate`);
  tbs.optional(ctx(0, true));
  const serial = readInteger(tbs.next(TAG.INTEGER, 'serialNumber'), `${where}: serialNumber`, 32);
  tbs.next(TAG.SEQUENCE, 'signature');
  const issuer = whole(tbs.next(TAG.SEQUENCE, 'issuer'));
  const validity = new Reader(tbs.next(TAG.SEQUENCE, 'validity'), `${where}: validity`);
  const notBefore = readTime(validity.any('notBefore'), `${where}: notBefore`);
  const notAfter = readTime(validity.any('notAfter'), `${where}: notAfter`);
  validity.end();
  const subjectTlv = tbs.next(TAG.SEQUENCE, 'subject');
  tbs.next(TAG.SEQUENCE, 'subjectPublicKeyInfo');
  tbs.optional(ctx(1, false));
  tbs.optional(ctx(2, false));
  const extensions = new Map<string, { critical: boolean; value: Buffer }>();
  const exts = tbs.optional(ctx(3, true));
  if (exts) {
    const list = new Reader(exts, `${where}: extensions`).next(TAG.SEQUENCE, 'Extensions');
    for (const e of elements(list, `${where}: extensions`, MAX_EXTENSIONS)) {
      const r = new Reader(e, `${where}: extension`);
      const id = readOid(r.next(TAG.OID, 'extnID'), `${where}: extnID`);
      const crit = r.optional(TAG.BOOLEAN);
      const critical = crit ? readBoolean(crit, `${where}: extension ${id}: critical`) : false;
      const extValue = readOctets(r.next(TAG.OCTET_STRING, 'extnValue'), `${where}: extension ${id}`);
      r.end();
      if (extensions.has(id)) throw malformed(where, `the extension ${id} appears twice`);
      extensions.set(id, { critical, value: extValue });
    }
  }
  tbs.end();
  cert.next(TAG.SEQUENCE, 'signatureAlgorithm');
  cert.next(TAG.BIT_STRING, 'signatureValue');
  cert.end();
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
    x509.publicKey.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw malformed(where, `not a usable X.509 certificate (${printable((err as Error).message, 200)})`);
  }
  return {
    x509,
    der,
    serial,
    issuer,
    subject: whole(subjectTlv),
    subjectText: nameText(subjectTlv, `${where}: subject`),
    notBefore,
    notAfter,
    extensions,
    fingerprint: createHash('sha256').update(der).digest('hex'),
  };
}

/** A Name (RFC 5280 §4.1.2.4) as one line, in encoded order: "C=DE, O=Lab, CN=TSA". */
export function nameText(name: Tlv, where: string): string {
  const parts: string[] = [];
  for (const rdn of elements(name, where, 64)) {
    if (rdn.tag !== TAG.SET) throw malformed(where, 'a relative distinguished name that is not a SET');
    for (const atv of elements(rdn, where, 16)) {
      const r = new Reader(atv, where);
      const type = readOid(r.next(TAG.OID, 'attribute type'), where);
      const v = r.any('attribute value');
      r.end();
      let text: string;
      try {
        text = readString(v, where);
      } catch {
        text = `#${value(v).subarray(0, 64).toString('hex')}`;
      }
      parts.push(`${NAME_ATTRIBUTES[type] ?? type}=${text}`);
    }
  }
  return parts.join(', ');
}

/** A GeneralName (RFC 5280 §4.2.1.6) as text: a directory name as above, others with their kind. */
export function generalNameText(g: Tlv, where: string): string {
  switch (g.tag) {
    case ctx(4, true): {
      const r = new Reader(g, where);
      const name = r.next(TAG.SEQUENCE, 'directoryName');
      r.end();
      return nameText(name, where);
    }
    case ctx(1, false):
      return `email:${readString(g, where)}`;
    case ctx(2, false):
      return `DNS:${readString(g, where)}`;
    case ctx(6, false):
      return `URI:${readString(g, where)}`;
    default:
      return `GeneralName [${g.tag & 0x1f}] ${value(g).subarray(0, 64).toString('hex')}`;
  }
}

/** The OIDs of an extendedKeyUsage extension value (RFC 5280 §4.2.1.12). */
export function extKeyUsages(ext: Buffer, where: string): string[] {
  return elements(parseDer(ext, TAG.SEQUENCE, where), where, 64).map((t) => readOid(t, where));
}

/** The bits set in a keyUsage extension value (RFC 5280 §4.2.1.3): 0 digitalSignature, 1 nonRepudiation, 5 keyCertSign… */
export function keyUsageBits(ext: Buffer, where: string): number[] {
  return readBitIndexes(parseDer(ext, TAG.BIT_STRING, where), where);
}

/** The key identifier of a subjectKeyIdentifier extension value (RFC 5280 §4.2.1.2). */
export function subjectKeyId(c: CertFacts, where: string): Buffer | undefined {
  const e = c.extensions.get(OID.subjectKeyIdentifier);
  return e && readOctets(parseDer(e.value, TAG.OCTET_STRING, where), where);
}

/** The GeneralNames of a subjectAltName extension, as their DER encodings. */
export function subjectAltNames(c: CertFacts, where: string): Buffer[] {
  const e = c.extensions.get(OID.subjectAltName);
  return e ? elements(parseDer(e.value, TAG.SEQUENCE, where), where, 256).map(whole) : [];
}
