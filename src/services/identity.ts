/** Examiner identities in CUSTOS_HOME: RSA keys and X.509 certificates that sign ledger entries. */
import { createIdentity, custosHome, findIdentity, type IdentityRecord, importIdentity, listIdentities } from '../custody';

/**
 * custos identity create: an RSA-3072 key and a self-signed X.509 certificate (RFC 5280), the key
 * stored encrypted (PKCS#8, AES-256) under `passphrase` in CUSTOS_HOME, which is returned too.
 */
export async function identityCreate(o: {
  name: string;
  role: string;
  email?: string;
  organization?: string;
  /** Validity of the certificate in days. */
  days?: number;
  passphrase: string;
}): Promise<IdentityRecord & { home: string }> {
  const home = custosHome();
  const r = createIdentity({ name: o.name, role: o.role, email: o.email, organization: o.organization, days: o.days, passphrase: o.passphrase, home });
  return { ...r, home };
}

/**
 * custos identity import: a certificate issued by an organisation's CA and its private key, checked
 * to belong together and stored encrypted under `passphrase`; an encrypted key file is opened with
 * `keyPassphrase`, else with `passphrase`.
 */
export async function identityImport(o: { cert: string; key: string; passphrase: string; keyPassphrase?: string }): Promise<IdentityRecord> {
  return importIdentity({ certPath: o.cert, keyPath: o.key, passphrase: o.passphrase, keyPassphrase: o.keyPassphrase, home: custosHome() });
}

/** custos identity list: the identities in CUSTOS_HOME by name, and where that is. */
export async function identityList(): Promise<{ identities: IdentityRecord[]; home: string }> {
  const home = custosHome();
  return { identities: listIdentities(home).map(({ dir: _dir, ...r }) => r), home };
}

/** custos identity show: one identity by name or fingerprint (default: the only one). */
export async function identityShow(o: { identity?: string }): Promise<IdentityRecord> {
  const { dir: _dir, ...r } = findIdentity(custosHome(), o.identity);
  return r;
}
