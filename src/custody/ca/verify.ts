/**
 * Does a signer's certificate chain to a trust anchor, and was it usable at a given instant?
 * A simplified RFC 5280 §6 path validation for ledgers: the anchors are what a case trusts (CA
 * certificates, or SHA-256 pins of a certificate); the instant is the ledger entry's time, not now.
 */
import { CustosError, printable } from '../../errors';
import { crlClaimsIssuer, type ParsedCrl, parseCrl, verifyCrlSignature } from './crl';
import { type CertInfo, CUSTOS_EKU_OID, describe, KEY_USAGE, readCertificate, signedBy } from './x509';

/** Bounds on what one call reads: anchors, intermediates, CRLs, and intermediates in one path. */
export const MAX_ANCHORS = 64;
export const MAX_INTERMEDIATES = 8;
export const MAX_CRLS = 64;
const MAX_PATH_INTERMEDIATES = 4;

export interface VerifyChainOptions {
  /** The signer's certificate (PEM). */
  certPem: string;
  /** Trust anchors: PEM CA certificates, or 'sha256:<hex>' fingerprints of a certificate (the signer's own, or a CA's among `intermediates`). */
  anchors: string[];
  /** CRLs (PEM) of the CAs in the chain; one that claims such a CA but fails its signature is an error. */
  crls?: string[];
  /** The instant the certificate must have been good at (a ledger entry's time). */
  at: Date;
  /** CA certificates between the signer and an anchor (PEM). */
  intermediates?: string[];
}

/** ok: the chain ends at `anchor` (SHA-256 fingerprint, lowercase hex); else why not, one sentence. */
export type ChainVerdict = { ok: true; anchor: string } | { ok: false; reason: string };

function pin(text: string, k: number): string | undefined {
  if (!/^sha256:/i.test(text.trim())) return undefined;
  const hex = text.trim().slice(7).replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CustosError('USAGE', `trust anchor ${k + 1}: '${printable(text, 100)}' is not sha256: followed by 64 hex digits`, { hint: 'Give the SHA-256 fingerprint of the certificate (custos identity show), or the certificate as PEM.' });
  }
  return hex;
}

const iso = (d: Date) => d.toISOString();

/** Why `c` was not usable at `at` (validity, unknown critical extensions), or undefined. */
function notUsableAt(c: CertInfo, at: Date): string | undefined {
  if (at < c.notBefore) return `${describe(c)} is not valid before ${iso(c.notBefore)} (checked at ${iso(at)})`;
  if (at > c.notAfter) return `${describe(c)} expired on ${iso(c.notAfter)} (checked at ${iso(at)})`;
  if (c.unknownCritical.length > 0) return `${describe(c)} has critical extensions custos does not understand (${c.unknownCritical.join(', ')})`;
  return undefined;
}

/** Why the signer's certificate may not sign ledger entries (RFC 5280 §4.2.1.3, §4.2.1.12), or undefined. */
function notASigner(leaf: CertInfo, caIssued: boolean): string | undefined {
  if (leaf.keyUsage ? !leaf.keyUsage.has(KEY_USAGE.digitalSignature) : caIssued) return `${describe(leaf)} may not make signatures (its keyUsage lacks digitalSignature)`;
  if (caIssued && !leaf.extKeyUsage?.includes(CUSTOS_EKU_OID)) return `${describe(leaf)} was not issued for signing custos ledgers (its extendedKeyUsage lacks ${CUSTOS_EKU_OID})`;
  return undefined;
}

/** Why a path [leaf, …, anchor] does not hold at `at`, or undefined when it does; `crlsOf` gives the CRLs signed by a CA. */
function checkPath(path: CertInfo[], crlsOf: (ca: CertInfo) => ParsedCrl[], at: Date): string | undefined {
  for (const c of path) {
    const why = notUsableAt(c, at);
    if (why) return why;
  }
  const why = notASigner(path[0]!, true);
  if (why) return why;
  for (let j = 1; j < path.length; j++) {
    const issuer = path[j]!;
    const child = path[j - 1]!;
    if (!issuer.basicConstraints?.ca) return `${describe(issuer)} is not a CA certificate (no basicConstraints CA:TRUE), so it cannot vouch for ${describe(child)}`;
    if (!issuer.keyUsage?.has(KEY_USAGE.keyCertSign)) return `${describe(issuer)} may not sign certificates (its keyUsage lacks keyCertSign)`;
    if (issuer.basicConstraints.pathLen !== undefined && j - 1 > issuer.basicConstraints.pathLen) return `${describe(issuer)} allows ${issuer.basicConstraints.pathLen} intermediate CAs below it, this chain has ${j - 1}`;
    if (!child.x509.checkIssued(issuer.x509)) return `${describe(child)} does not name ${describe(issuer)} as its issuer (the key identifiers differ)`;
  }
  for (let j = 0; j + 1 < path.length; j++) {
    const child = path[j]!;
    for (const crl of crlsOf(path[j + 1]!)) {
      const entry = crl.revoked.get(child.serial);
      if (entry && entry.revokedAt <= at) return `${describe(child)} was revoked on ${iso(entry.revokedAt)} (${entry.reason}), before ${iso(at)}`;
    }
  }
  return undefined;
}

/**
 * Checks that the certificate in `certPem` chains to one of `anchors` and was good at `at`
 * (RFC 5280 §6, simplified): each link signed by the next (X509Certificate.verify, checkIssued),
 * every certificate valid at `at`, each issuer CA:TRUE with keyCertSign and its path length
 * respected, the signer with digitalSignature and, when CA-issued, CUSTOS_EKU_OID; not revoked at
 * or before `at` by a CRL its issuer signed. A pinned fingerprint equal to the signer's
 * certificate is an anchor by itself (self-signed identities; no CRL applies to it then). The
 * answer is only as current as the CRLs given. Damaged input (certificates, CRLs, a CRL whose
 * signature fails) throws a CustosError; a certificate that does not pass is `{ ok: false, reason }`.
 */
export function verifyChain(o: VerifyChainOptions): ChainVerdict {
  if (!(o.at instanceof Date) || Number.isNaN(o.at.getTime())) throw new CustosError('USAGE', 'verifyChain needs a valid date to check at', { hint: 'Give the entry time.' });
  const intermediatesPem = o.intermediates ?? [];
  const crlsPem = o.crls ?? [];
  if (o.anchors.length > MAX_ANCHORS || intermediatesPem.length > MAX_INTERMEDIATES || crlsPem.length > MAX_CRLS) {
    throw new CustosError('INVALID_INPUT', `too many certificates to check: ${o.anchors.length} anchors, ${intermediatesPem.length} intermediates, ${crlsPem.length} CRLs (at most ${MAX_ANCHORS}, ${MAX_INTERMEDIATES}, ${MAX_CRLS})`, { hint: 'Keep only the CAs the case trusts.' });
  }
  const leaf = readCertificate(o.certPem, 'certificate');
  const pins = new Set<string>();
  const anchorCerts: CertInfo[] = [];
  o.anchors.forEach((a, k) => {
    const p = pin(a, k);
    if (p) pins.add(p);
    else anchorCerts.push(readCertificate(a, `trust anchor ${k + 1}`));
  });
  const intermediates = intermediatesPem.map((c, k) => readCertificate(c, `intermediate certificate ${k + 1}`));
  const crls = crlsPem.map((c, k) => parseCrl(c, `CRL ${k + 1}`));

  if (pins.has(leaf.fingerprint) || anchorCerts.some((a) => a.fingerprint === leaf.fingerprint)) {
    const why = notUsableAt(leaf, o.at) ?? notASigner(leaf, false);
    return why ? { ok: false, reason: why } : { ok: true, anchor: leaf.fingerprint };
  }

  const trusted = [...anchorCerts, ...intermediates.filter((c) => pins.has(c.fingerprint))];
  const untrusted = intermediates.filter((c) => !pins.has(c.fingerprint));
  // A CRL applies to the CA whose signature it carries. One that claims these CAs (name, key
  // identifier) but verifies with none of them is damaged or forged: an error, not ignored.
  const signedCrls = new Map<string, ParsedCrl[]>();
  for (const crl of crls) {
    const claimed = [...trusted, ...untrusted].filter((ca) => crlClaimsIssuer(crl, ca));
    let firstError: unknown;
    for (const ca of claimed) {
      try {
        verifyCrlSignature(crl, ca);
        signedCrls.set(ca.fingerprint, [...(signedCrls.get(ca.fingerprint) ?? []), crl]);
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError && !claimed.some((ca) => signedCrls.get(ca.fingerprint)?.includes(crl))) throw firstError;
  }

  const memo = new Map<string, boolean>();
  const signs = (child: CertInfo, issuer: CertInfo) => {
    const k = `${child.fingerprint}>${issuer.fingerprint}`;
    if (!memo.has(k)) memo.set(k, child.fingerprint !== issuer.fingerprint && signedBy(child, issuer));
    return memo.get(k)!;
  };
  const paths: CertInfo[][] = [];
  const walk = (path: CertInfo[]) => {
    const top = path[path.length - 1]!;
    for (const t of trusted) if (!path.includes(t) && signs(top, t)) paths.push([...path, t]);
    if (path.length - 1 < MAX_PATH_INTERMEDIATES) for (const u of untrusted) if (!path.includes(u) && signs(top, u)) walk([...path, u]);
  };
  walk([leaf]);

  let first: string | undefined;
  for (const path of paths) {
    const why = checkPath(path, (ca) => signedCrls.get(ca.fingerprint) ?? [], o.at);
    if (!why) return { ok: true, anchor: path[path.length - 1]!.fingerprint };
    first ??= why;
  }
  if (first) return { ok: false, reason: first };
  const issuerName = printable(leaf.x509.issuer.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? leaf.x509.issuer.replace(/\n/g, ', '), 80);
  if (leaf.issuerRaw.equals(leaf.subjectRaw)) return { ok: false, reason: `${describe(leaf)} is self-signed and not a pinned trust anchor` };
  if ([...trusted, ...untrusted].some((c) => c.subjectRaw.equals(leaf.issuerRaw) || c.x509.subject === leaf.x509.issuer)) {
    return { ok: false, reason: `${describe(leaf)} names '${issuerName}' as its issuer, but no trusted CA of that name signed it` };
  }
  return { ok: false, reason: `${describe(leaf)} was issued by '${issuerName}', which is not a trust anchor` };
}
