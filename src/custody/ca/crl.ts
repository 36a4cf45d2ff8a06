/**
 * Revocation: the CA's record of revoked serials, and X.509 v2 CRLs (RFC 5280 §5) written and
 * read here (node-forge has no CRL support): TBSCertList built with the DER writer and signed with
 * node:crypto; CRLs from outside read with the bounded DER reader.
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import { CustosError, printable } from '../../errors';
import { writeFileAtomic } from '../../fsutil';
import { bitString, type DerNode, explicit, fromPem, integer, NULL, oid, parseDer, seq, seqOf, TAG, time, tlv, toPem } from './der';
import { CA_FILES, openCa, REASON_CODES, readIndex, type RevocationReason, type Revocation, seconds, withCaLock, writeIndex } from './store';
import { type CertInfo, describe, extension, KEY_USAGE, keyIdentifier, OIDS, readCertificate, serialHex, signedBy } from './x509';

const CRL_OIDS = { crlNumber: '2.5.29.20', reasonCode: '2.5.29.21', invalidityDate: '2.5.29.24', deltaCrlIndicator: '2.5.29.27', issuingDistributionPoint: '2.5.29.28', certificateIssuer: '2.5.29.29' } as const;

/** Bytes of a CRL PEM custos reads, and the entries it reads from one: a lab CA's CRL is a few kilobytes. */
export const MAX_CRL_PEM_BYTES = 8 * 1024 * 1024;
export const MAX_CRL_ENTRIES = 100_000;

const REASON_BY_CODE = new Map<number, string>([...Object.entries(REASON_CODES).map(([k, v]) => [v, k] as [number, string]), [6, 'certificateHold'], [8, 'removeFromCRL']]);

export interface RevokeOptions {
  caDir: string;
  passphrase: string;
  /** Serial number in hex (colons allowed), as index.json or openssl show it; must be one this CA issued. */
  serial?: string;
  /** Or the certificate itself, which must be signed by this CA (also one it did not record, e.g. issued with openssl). */
  certPem?: string;
  reason?: RevocationReason;
  /** The revocation date the CRL states (default now; may be earlier, not later). */
  at?: Date;
}

/** Records a revocation in the CA's index; the next writeCrl lists it (RFC 5280 §5.3). */
export function revokeCertificate(o: RevokeOptions): Revocation {
  if ((o.serial === undefined) === (o.certPem === undefined)) throw new CustosError('USAGE', 'name the certificate to revoke by its serial number or give the certificate', { hint: 'Give serial or certPem, not both.' });
  const reason = o.reason ?? 'unspecified';
  if (!Object.hasOwn(REASON_CODES, reason)) throw new CustosError('USAGE', `unknown revocation reason '${printable(String(reason), 40)}'`, { hint: `One of ${Object.keys(REASON_CODES).join(', ')}.` });
  return withCaLock(o.caDir, () => {
    const ca = openCa(o.caDir, o.passphrase);
    const idx = readIndex(o.caDir);
    let serial: string;
    if (o.certPem !== undefined) {
      const cert = readCertificate(o.certPem, 'certificate to revoke');
      if (!signedBy(cert, ca.cert)) throw new CustosError('INVALID_INPUT', `${describe(cert)} was not issued by this CA (${ca.cert.name})`, { hint: 'Revoke it at the CA that issued it.' });
      serial = cert.serial;
    } else {
      const text = o.serial!.toLowerCase().replace(/:/g, '');
      if (!/^[0-9a-f]{1,40}$/.test(text)) throw new CustosError('USAGE', `'${printable(o.serial!, 80)}' is not a serial number in hex`, { hint: 'Copy it from index.json or openssl x509 -serial.' });
      serial = serialHex(BigInt(`0x${text}`));
      if (!idx.issued.some((r) => r.serial === serial)) throw new CustosError('INVALID_INPUT', `this CA has not issued a certificate with serial ${serial}`, { path: join(o.caDir, CA_FILES.index), hint: 'Check the serial number (index.json lists those issued), or give the certificate.' });
    }
    const now = new Date();
    const at = seconds(o.at ?? now);
    if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1950) throw new CustosError('USAGE', 'the revocation date is not a valid date', { hint: 'Leave the date out to revoke now.' });
    if (at.getTime() > now.getTime() + 60_000) throw new CustosError('USAGE', `a revocation cannot be dated in the future (${at.toISOString()})`, { hint: 'Leave the date out to revoke now.' });
    const already = idx.revoked.find((r) => r.serial === serial);
    if (already) throw new CustosError('INVALID_INPUT', `serial ${serial} was already revoked on ${already.revokedAt} (${already.reason})`, { hint: 'Write a new CRL with writeCrl if it is not published yet.' });
    const record: Revocation = { serial, revokedAt: at.toISOString(), reason };
    idx.revoked.push(record);
    writeIndex(o.caDir, idx);
    return record;
  });
}

const SHA256_WITH_RSA = seq(oid(OIDS.sha256WithRSAEncryption), NULL);

/** Builds and signs a v2 CRL (RFC 5280 §5.1) over `revoked`; returns its DER. */
export function buildCrl(o: { issuer: CertInfo; key: KeyObject; revoked: Revocation[]; crlNumber: number; thisUpdate: Date; nextUpdate: Date }): Buffer {
  const sorted = [...o.revoked].sort((a, b) => a.revokedAt.localeCompare(b.revokedAt) || a.serial.localeCompare(b.serial));
  const entries = sorted.map((r) =>
    seq(
      integer(BigInt(`0x${r.serial}`)),
      time(new Date(r.revokedAt)),
      // RFC 5280 §5.3.1: reasonCode unspecified SHOULD be absent rather than written.
      ...(r.reason !== 'unspecified' ? [seq(extension(CRL_OIDS.reasonCode, false, integer(REASON_CODES[r.reason], TAG.ENUMERATED)))] : []),
    ),
  );
  const tbs = seq(
    integer(1), // v2
    SHA256_WITH_RSA,
    o.issuer.subjectRaw,
    time(o.thisUpdate),
    time(o.nextUpdate),
    ...(entries.length > 0 ? [seqOf(entries)] : []), // an empty list is left out (§5.1.2.6)
    explicit(
      0,
      seq(
        extension(OIDS.authorityKeyIdentifier, false, seq(tlv(0x80, o.issuer.subjectKeyId ?? keyIdentifier(o.issuer.spki)))),
        extension(CRL_OIDS.crlNumber, false, integer(o.crlNumber)),
      ),
    ),
  );
  return seq(tbs, SHA256_WITH_RSA, bitString(sign('sha256', tbs, o.key)));
}

/**
 * Writes the CA's next CRL (RFC 5280 §5): every revocation recorded, thisUpdate `now`, nextUpdate
 * `nextUpdateDays` later (default 30), the next crlNumber, authorityKeyIdentifier; signed
 * sha256WithRSAEncryption. Saved as crl.pem in the CA folder and returned as PEM.
 */
export function writeCrl(o: { caDir: string; passphrase: string; now?: Date; nextUpdateDays?: number }): string {
  const days = o.nextUpdateDays ?? 30;
  if (!Number.isFinite(days) || days <= 0 || days > 3660) throw new CustosError('USAGE', `nextUpdate ${days} days ahead: give 1 to 3660 days`, { hint: 'e.g. 30' });
  return withCaLock(o.caDir, () => {
    const ca = openCa(o.caDir, o.passphrase);
    const idx = readIndex(o.caDir);
    const now = seconds(o.now ?? new Date());
    idx.crlNumber += 1;
    const pem = toPem('X509 CRL', buildCrl({ issuer: ca.cert, key: ca.key, revoked: idx.revoked, crlNumber: idx.crlNumber, thisUpdate: now, nextUpdate: seconds(new Date(now.getTime() + days * 86_400_000)) }));
    writeFileAtomic(join(o.caDir, CA_FILES.crl), pem, { replace: true, mode: 0o644 });
    writeIndex(o.caDir, idx);
    return pem;
  });
}

/** Signature algorithms custos accepts on CRLs (RFC 4055, RFC 5758): no SHA-1, no PSS. */
const CRL_SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** A CRL as read: signature not yet checked (verifyCrlSignature). */
export interface ParsedCrl {
  where: string;
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  issuerRaw: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  authorityKeyId?: Buffer;
  /** Revoked serials (lowercase hex) with their revocation date and reason. */
  revoked: Map<string, { revokedAt: Date; reason: string }>;
}

/**
 * Reads an X.509 v2 CRL (RFC 5280 §5.1) from outside, bounded: at most MAX_CRL_ENTRIES entries,
 * no indirect or delta CRLs, no critical extension custos does not understand (§5.2, §5.3).
 */
export function parseCrl(pem: string, where = 'CRL'): ParsedCrl {
  const invalid = (why: string) => new CustosError('CERT_INVALID', `${where}: not a usable CRL (${why})`, { path: where, hint: 'Give the CRL as the CA wrote it (-----BEGIN X509 CRL-----).' });
  if (pem.length > MAX_CRL_PEM_BYTES) throw invalid('too large for a CRL');
  const { der } = fromPem(pem, ['X509 CRL'], where, 'CRL');
  const [tbs, alg, sig] = parseDer(der, where, 'CRL').expect(TAG.SEQUENCE, 'a CertificateList').items(3, 3) as [DerNode, DerNode, DerNode];
  const f = tbs.expect(TAG.SEQUENCE, 'a TBSCertList').items(4, 7);
  let i = 0;
  if (f[i]!.tag === TAG.INTEGER) f[i++]!.smallInt(1, 'the CRL version'); // v2 (1); absent in v1
  const innerAlg = f[i++]!.expect(TAG.SEQUENCE, 'an AlgorithmIdentifier').items(1, 2)[0]!.oid();
  const outerAlg = alg.expect(TAG.SEQUENCE, 'an AlgorithmIdentifier').items(1, 2)[0]!.oid();
  if (innerAlg !== outerAlg) throw invalid(`the signature algorithm inside (${innerAlg}) differs from the one outside (${outerAlg})`);
  const issuer = f[i++]!.expect(TAG.SEQUENCE, 'an issuer Name');
  if (!f[i]) tbs.fail('no thisUpdate');
  const crl: ParsedCrl = { where, tbs: Buffer.from(tbs.raw), signatureAlgorithm: outerAlg, signature: Buffer.from(sig.bitStringBytes()), issuerRaw: Buffer.from(issuer.raw), thisUpdate: f[i++]!.time(), revoked: new Map() };
  if (f[i] && (f[i]!.tag === TAG.UTC_TIME || f[i]!.tag === TAG.GENERALIZED_TIME)) crl.nextUpdate = f[i++]!.time();
  if (f[i] && f[i]!.tag === TAG.SEQUENCE) {
    for (const entry of f[i++]!.children(MAX_CRL_ENTRIES)) {
      const parts = entry.expect(TAG.SEQUENCE, 'a revoked certificate').items(2, 3);
      const serial = serialHex(parts[0]!.bigint(32));
      const revokedAt = parts[1]!.time();
      let reason = 'unspecified';
      for (const [id, critical, value] of extensions(parts[2])) {
        if (id === CRL_OIDS.reasonCode) reason = REASON_BY_CODE.get(parseDer(value, where, 'CRL reason code').smallInt(10, 'reason code', TAG.ENUMERATED)) ?? 'unknown';
        else if (id === CRL_OIDS.certificateIssuer) throw invalid('it is an indirect CRL (certificateIssuer), which custos does not read');
        else if (critical && id !== CRL_OIDS.invalidityDate) throw invalid(`an entry has the critical extension ${id}, which custos does not understand`);
      }
      if (crl.revoked.has(serial)) throw invalid(`serial ${serial} is listed twice`);
      crl.revoked.set(serial, { revokedAt, reason });
    }
  }
  if (f[i] && f[i]!.isContext(0)) {
    for (const [id, critical, value] of extensions(f[i++]!.items(1, 1)[0])) {
      if (id === OIDS.authorityKeyIdentifier) crl.authorityKeyId = Buffer.from(parseDer(value, where, 'CRL authority key identifier').children(3).find((k) => k.tag === 0x80)?.content ?? Buffer.alloc(0));
      else if (id === CRL_OIDS.crlNumber) crl.crlNumber = parseDer(value, where, 'CRL number').bigint(20);
      else if (id === CRL_OIDS.deltaCrlIndicator) throw invalid('it is a delta CRL, which custos does not read');
      else if (critical) throw invalid(`it has the critical extension ${id}, which custos does not understand`);
    }
  }
  if (f[i]) f[i]!.fail('unexpected fields after the CRL extensions');
  return crl;
}

/** The extensions of an Extensions SEQUENCE (absent: none) as [oid, critical, value]. */
function extensions(node: DerNode | undefined): [string, boolean, Buffer][] {
  if (!node) return [];
  const out: [string, boolean, Buffer][] = [];
  const seen = new Set<string>();
  for (const ext of node.expect(TAG.SEQUENCE, 'Extensions').items(1, 32)) {
    const parts = ext.expect(TAG.SEQUENCE, 'an Extension').items(2, 3);
    const id = parts[0]!.oid();
    if (seen.has(id)) ext.fail(`the extension ${id} appears twice`);
    seen.add(id);
    const critical = parts.length === 3 && parts[1]!.expect(TAG.BOOLEAN, 'a criticality flag').content[0] !== 0;
    out.push([id, critical, Buffer.from(parts[parts.length - 1]!.expect(TAG.OCTET_STRING, 'an extension value').content)]);
  }
  return out;
}

/** True when the CRL names `ca` as its issuer (same name; same key identifier when both carry one). */
export function crlClaimsIssuer(crl: ParsedCrl, ca: CertInfo): boolean {
  if (!crl.issuerRaw.equals(ca.subjectRaw)) return false;
  const caKeyId = ca.subjectKeyId ?? keyIdentifier(ca.spki);
  return !crl.authorityKeyId || crl.authorityKeyId.length === 0 || crl.authorityKeyId.equals(caKeyId);
}

/**
 * Checks that `ca` signed the CRL and may sign CRLs (keyUsage cRLSign, RFC 5280 §4.2.1.3). A CRL
 * that claims this CA but fails is an error, never skipped: it is either damaged or forged.
 */
export function verifyCrlSignature(crl: ParsedCrl, ca: CertInfo): void {
  const hash = CRL_SIGNATURE_HASHES[crl.signatureAlgorithm];
  if (!hash) throw new CustosError('CERT_INVALID', `${crl.where}: the CRL is signed with ${crl.signatureAlgorithm}, which custos does not accept`, { path: crl.where, hint: 'Have the CA sign its CRLs with SHA-256.' });
  let ok = false;
  try {
    ok = verify(hash, crl.tbs, ca.x509.publicKey, crl.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new CustosError('CERT_INVALID', `${crl.where}: the CRL's signature does not verify with the key of ${describe(ca)}: it was altered or forged`, { path: crl.where, hint: 'Fetch the CRL again from the CA.' });
  if (ca.keyUsage && !ca.keyUsage.has(KEY_USAGE.cRLSign)) {
    throw new CustosError('CERT_INVALID', `${crl.where}: ${describe(ca)} may not sign CRLs (its keyUsage lacks cRLSign)`, { path: crl.where, hint: 'Use a CRL from a CA certificate with cRLSign.' });
  }
}
