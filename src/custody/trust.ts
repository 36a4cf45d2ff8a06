/**
 * The trust a case is opened with: the certificate authorities (or pinned examiner certificates)
 * that vouch for the people who sign its ledger, and the timestamp authority that dates its
 * checkpoints. Recorded in the signed `case-open` entry (fingerprints) with the certificates
 * themselves in CASE/trust/, so a verifier needs nothing else; a verifier who distrusts the case
 * folder passes its own anchors instead (ledger verify --trust), and the anchors used are named
 * in every verdict.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../errors';
import { ensureDir, readBoundedFile, writeNewFile } from '../fsutil';
import { describeCert } from './identity';

/** Folder of a case holding anchor, CRL and TSA certificates by fingerprint. */
export const TRUST_DIR = 'trust';

/** What the case-open entry records of the case's trust (its `details.trust`). */
export interface TrustRecord {
  /** SHA-256 fingerprints of CA certificates kept in CASE/trust/, or of examiner certificates pinned as they are. */
  anchors: { fingerprint: string; subject?: string; pinned?: boolean }[];
  /** The timestamp authority checkpoints are sent to after every acquisition, and the certificates its tokens must chain to. */
  tsa?: { url?: string; certs: { fingerprint: string; subject: string }[] };
}

/** A trust anchor as given on the command line: a PEM file of a CA, or `sha256:HEX` pinning one certificate. */
export type AnchorSpec = string;

const MAX_CERT_FILE = 256 * 1024;
const PIN = /^sha256:([0-9a-fA-F]{64})$/;

/** Certificates read from PEM files given by the user, each with its fingerprint; a file of several certificates gives each. */
export function readCertificates(path: string, what: string): { pem: string; fingerprint: string; subject: string }[] {
  const text = readBoundedFile(path, what, MAX_CERT_FILE).toString('utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new CustosError('CERT_INVALID', `${path}: no PEM certificate in it`, { path, hint: `Give the ${what} as a PEM file (-----BEGIN CERTIFICATE-----).` });
  }
  if (blocks.length > 16) throw new CustosError('CERT_INVALID', `${path}: more than 16 certificates`, { path, hint: `Give only the ${what}.` });
  return blocks.map((b) => {
    const pem = `${b}\n`;
    const d = describeCert(pem, path);
    return { pem, fingerprint: d.fingerprint, subject: d.subject };
  });
}

/**
 * Reads the anchors and TSA certificates a case is to be opened with, before anything is written:
 * the record for the case-open entry and the certificate files to keep in CASE/trust/.
 */
export function prepareTrust(o: { anchors?: AnchorSpec[]; tsaUrl?: string; tsaCerts?: string[] }): { record?: TrustRecord; files: { fingerprint: string; pem: string }[] } {
  const files = new Map<string, string>();
  const anchors: TrustRecord['anchors'] = [];
  for (const spec of o.anchors ?? []) {
    const pin = PIN.exec(spec);
    if (pin) {
      anchors.push({ fingerprint: pin[1]!.toLowerCase(), pinned: true });
      continue;
    }
    for (const c of readCertificates(spec, 'trust anchor')) {
      files.set(c.fingerprint, c.pem);
      anchors.push({ fingerprint: c.fingerprint, subject: c.subject });
    }
  }
  if (o.tsaUrl !== undefined) checkTsaUrl(o.tsaUrl);
  const tsaCerts = (o.tsaCerts ?? []).flatMap((p) => readCertificates(p, 'TSA certificate'));
  if (o.tsaUrl && tsaCerts.length === 0) {
    throw new CustosError('USAGE', `--tsa ${o.tsaUrl} needs --tsa-cert: the certificate its timestamps must chain to`, { hint: 'Give the TSA\'s certificate or its CA\'s as a PEM file with --tsa-cert.' });
  }
  for (const c of tsaCerts) files.set(c.fingerprint, c.pem);
  const unique = [...new Map(anchors.map((a) => [a.fingerprint, a])).values()];
  if (unique.length === 0 && tsaCerts.length === 0) return { files: [] };
  return {
    record: {
      anchors: unique,
      ...(tsaCerts.length > 0 ? { tsa: { ...(o.tsaUrl ? { url: o.tsaUrl } : {}), certs: tsaCerts.map((c) => ({ fingerprint: c.fingerprint, subject: c.subject })) } } : {}),
    },
    files: [...files].map(([fingerprint, pem]) => ({ fingerprint, pem })),
  };
}

/** A TSA address custos will POST to: http or https, nothing else. */
export function checkTsaUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CustosError('USAGE', `--tsa ${url} is not a URL`, { hint: 'Give the timestamp authority\'s address, e.g. http://timestamp.example.org/tsa.' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CustosError('USAGE', `--tsa ${url}: only http and https timestamp authorities are supported`, { hint: 'RFC 3161 over HTTP (RFC 3161 §3.4).' });
  }
}

/** Keeps the certificates of a case's trust in CASE/trust/FINGERPRINT.pem (written once, never replaced). */
export function keepTrustFiles(dir: string, files: readonly { fingerprint: string; pem: string }[]): void {
  if (files.length === 0) return;
  ensureDir(join(dir, TRUST_DIR));
  for (const f of files) {
    const p = join(dir, TRUST_DIR, `${f.fingerprint}.pem`);
    if (!existsSync(p)) writeNewFile(p, f.pem);
  }
}

/** The PEM of a certificate kept in CASE/trust/, checked against the fingerprint it is filed under; undefined when missing. */
export function trustCertificate(dir: string, fingerprint: string): string | undefined {
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
  const p = join(dir, TRUST_DIR, `${fingerprint}.pem`);
  if (!existsSync(p)) return undefined;
  const pem = readBoundedFile(p, 'trust certificate', MAX_CERT_FILE).toString('utf8');
  const d = describeCert(pem, p);
  if (d.fingerprint !== fingerprint) {
    throw new CustosError('LEDGER_INVALID', `${p} holds the certificate ${d.fingerprint.slice(0, 16)}…, not the one its name says`, { path: p, hint: 'Restore the case folder\'s trust/ from a copy.' });
  }
  return pem;
}

/** Certificate revocation lists kept in CASE/trust/ (files ending .crl.pem or .crl), as PEM or DER bytes. */
export function caseCrls(dir: string): { path: string; bytes: Buffer }[] {
  const d = join(dir, TRUST_DIR);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((n) => /\.crl(\.pem)?$/.test(n))
    .sort()
    .slice(0, 64)
    .map((n) => ({ path: join(d, n), bytes: readBoundedFile(join(d, n), 'certificate revocation list', 16 * 1024 * 1024) }));
}
