/** The chain of custody: entry model, storage, verification, signed head, identities, transfers and the openssl export. */
export { canonicalBytes, sha256Hex } from './canonical';
export { type EntryInput, entryBytes, entryHash, genesisHash, type LedgerAction, type LedgerEntry, MAX_ENTRY_BYTES } from './entry';
export { exportForOpenssl } from './export';
export { expectedHead, type SignedHead, signedHead, signHead } from './head';
export {
  certFingerprint,
  certPublicKey,
  certValidAt,
  createIdentity,
  type CreateIdentityOptions,
  custosHome,
  describeCert,
  findIdentity,
  type IdentityRecord,
  importIdentity,
  listIdentities,
  loadSigner,
  parseCert,
  type Signer,
} from './identity';
export { appendEntry, CERTS_DIR, initCase, keepCertPem, LEDGER_FILE, readEntries, repairLedger } from './storage';
export { acceptCustody, transferCustody } from './transfer';
export { type LedgerProblem, type LedgerReport, verifyLedger } from './verify';
export { protectCaseRecords } from './protect-records';
export { emptyRoot, HASH_BYTES, leafHash, MAX_PROOF_HASHES, MerkleTree, nodeHash, verifyConsistency, verifyInclusion } from './merkle';
export {
  caseOrigin, type Checkpoint, checkpointBody, examinerKeyName, examinerNoteKey, examinerNoteSigner, type NoteKey, noteKeyId, type NoteSignature, type NoteSigner,
  openCheckpoint, parseCheckpoint, parseSignedNote, type SignedNote, signNote, verifyNote,
} from './checkpoint';
export { type AnchorSpec, caseCrls, checkTsaUrl, keepTrustFiles, prepareTrust, readCertificates, TRUST_DIR, trustCertificate, type TrustRecord } from './trust';
export { CLOCK_SKEW_MS, MAX_TOKEN_BYTES, type Nonce, parseTimestampResponse, requestTimestamp, type RequestTimestampOptions, timestampRequest, type TimestampInfo, verifyTimestamp, type VerifyTimestampOptions } from './timestamp';
export {
  type CaInfo, type ChainVerdict, CUSTOS_EKU_OID, type ExaminerSubject, initCa, type InitCaOptions, issueCertificate, type IssueCertificateOptions, type IssuedCertificate, parseCrl, parseCsr,
  type Revocation, type RevocationReason, revokeCertificate, type RevokeOptions, verifyChain, type VerifyChainOptions, writeCrl,
} from './ca';
export { decryptPrivateKey, encryptPrivateKey, keyProtection, PBKDF2_ITERATIONS } from './keyfile';
export { caseTrust, caseTsaCertificates, type CheckpointTimestamp, checkTimestamps, timestampCheckpoint, type TimestampCheck } from './anchors';
export { CHECKPOINTS_DIR, type CheckpointCheck, checkCheckpoint, ledgerTree, storedCheckpoints, type WrittenCheckpoint, writeCheckpoint } from './checkpoint-store';
