import { OIDS } from '../ca/x509';

/** Object identifiers of the timestamp structures, with the RFC that assigns each. */
export const OID = {
  /** RFC 5652 §5.1 */
  signedData: '1.2.840.113549.1.7.2',
  /** RFC 3161 §2.4.2 */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  /** RFC 5652 §11.1 */
  contentType: '1.2.840.113549.1.9.3',
  /** RFC 5652 §11.2 */
  messageDigest: '1.2.840.113549.1.9.4',
  /** RFC 2634 §5.4 (ESSCertID, SHA-1) */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  /** RFC 5035 §3 (ESSCertIDv2), allowed for timestamps by RFC 5816 §2.2.1 */
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** RFC 5280 §4.2.1.12 */
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** RFC 5280 §4.2.1: the certificate extensions, as the CA module names them */
  subjectKeyIdentifier: OIDS.subjectKeyIdentifier,
  keyUsage: OIDS.keyUsage,
  subjectAltName: OIDS.subjectAltName,
  basicConstraints: OIDS.basicConstraints,
  certificatePolicies: OIDS.certificatePolicies,
  authorityKeyIdentifier: OIDS.authorityKeyIdentifier,
  extKeyUsage: OIDS.extKeyUsage,
  /** RFC 8017 appendix A */
  rsaEncryption: '1.2.840.113549.1.1.1',
  /** RFC 5480 §2.1.1 */
  ecPublicKey: '1.2.840.10045.2.1',
} as const;

/** Digest algorithms (RFC 5754 §2; SHA-1 from RFC 3370 §2.1, for ESSCertID only). */
export const DIGESTS: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms custos verifies: RSA PKCS#1 v1.5 (RFC 8017 §8.2, RFC 5754 §3.2) and ECDSA (RFC 5758 §3.2). */
export const SIGNATURES: Record<string, { key: 'rsa' | 'ec'; hash?: 'sha256' | 'sha384' | 'sha512' }> = {
  [OID.rsaEncryption]: { key: 'rsa' },
  '1.2.840.113549.1.1.11': { key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', hash: 'sha512' },
  [OID.ecPublicKey]: { key: 'ec' },
  '1.2.840.10045.4.3.2': { key: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', hash: 'sha512' },
};

/** Short names of the attribute types of distinguished names (RFC 4514 §3, RFC 5280 appendix A). */
export const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};
