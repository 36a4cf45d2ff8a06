/**
 * The lab certificate authority: it vouches for examiners, so that a ledger signed by someone who
 * merely made an identity with the same name is told apart from one signed by the lab's examiner.
 *
 * - initCa: a CA folder (keep it offline, apart from identities; ca/store.ts describes its files).
 * - issueCertificate: examiner certificates with the custos extended key usage (CUSTOS_EKU_OID).
 * - revokeCertificate, writeCrl: revocation and X.509 v2 CRLs (RFC 5280 §5).
 * - verifyChain: does a signer's certificate chain to a trust anchor, unrevoked, at a given instant.
 */
export { CUSTOS_EKU_OID, type ExaminerSubject } from './ca/x509';
export { type CaInfo, initCa, type InitCaOptions, type Revocation, type RevocationReason } from './ca/store';
export { type CertificateRequest, issueCertificate, type IssueCertificateOptions, type IssuedCertificate, parseCsr } from './ca/issue';
export { type ParsedCrl, parseCrl, revokeCertificate, type RevokeOptions, writeCrl } from './ca/crl';
export { type ChainVerdict, verifyChain, type VerifyChainOptions } from './ca/verify';
