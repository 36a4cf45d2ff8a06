/**
 * The lab certificate authority (src/custody/ca): created once and kept offline, it issues the
 * examiners' certificates (from their CSR or with their identity), revokes them, and publishes
 * CRLs that cases keep in CASE/trust/ so ledger verification knows who was revoked when.
 */
import { type CaInfo, initCa, issueCertificate, type IssuedCertificate, parseCsr, type Revocation, type RevocationReason, revokeCertificate, writeCrl } from '../custody/ca';
import { createIdentity, custosHome, type IdentityRecord } from '../custody/identity';
import { readBoundedFile, writeFileAtomic, writeNewFile } from '../fsutil';

/** custos ca init: a new CA (RSA key encrypted at rest, self-signed certificate) in its own folder. */
export function caInit(o: { dir: string; name: string; organization?: string; passphrase: string; years?: number }): CaInfo {
  return initCa({ dir: o.dir, name: o.name, organization: o.organization, passphrase: o.passphrase, validityYears: o.years });
}

/** custos ca issue: an examiner certificate for the key of a PKCS#10 CSR (RFC 2986), written to `out` (created new). */
export function caIssue(o: { ca: string; passphrase: string; csr: string; name: string; role: string; email?: string; organization?: string; days?: number; out?: string }): IssuedCertificate {
  const csrPem = readBoundedFile(o.csr, 'certificate request', 64 * 1024).toString('utf8');
  const issued = issueCertificate({ caDir: o.ca, passphrase: o.passphrase, csrPem, subject: { name: o.name, role: o.role, email: o.email, organization: o.organization }, validityDays: o.days });
  if (o.out) writeNewFile(o.out, issued.certPem);
  return issued;
}

/** Reads a CSR only to check it before the CA's passphrase is asked. */
export function checkCsr(path: string): void {
  parseCsr(readBoundedFile(path, 'certificate request', 64 * 1024).toString('utf8'), path);
}

/** custos ca revoke: records the revocation of a certificate (by serial or PEM file) in the CA's index. */
export function caRevoke(o: { ca: string; passphrase: string; serial?: string; cert?: string; reason?: RevocationReason; at?: Date }): Revocation {
  const certPem = o.cert ? readBoundedFile(o.cert, 'certificate', 256 * 1024).toString('utf8') : undefined;
  return revokeCertificate({ caDir: o.ca, passphrase: o.passphrase, serial: o.serial, certPem, reason: o.reason, at: o.at });
}

/** custos ca crl: a new signed CRL (RFC 5280 §5) of every revocation, written to `out` (created, or replaced with `force`). */
export function caCrl(o: { ca: string; passphrase: string; out?: string; force?: boolean; days?: number }): string {
  const pem = writeCrl({ caDir: o.ca, passphrase: o.passphrase, nextUpdateDays: o.days });
  if (o.out) writeFileAtomic(o.out, pem, { replace: o.force });
  return pem;
}

/** custos identity create --ca: an identity whose certificate the lab CA issues. */
export function identityFromCa(o: { name: string; role: string; email?: string; organization?: string; days?: number; passphrase: string; ca: string; caPassphrase: string }): IdentityRecord & { home: string } {
  const home = custosHome();
  const r = createIdentity({ name: o.name, role: o.role, email: o.email, organization: o.organization, days: o.days, passphrase: o.passphrase, home }, { dir: o.ca, passphrase: o.caPassphrase });
  return { ...r, home };
}
