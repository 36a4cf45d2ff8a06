/**
 * Anchoring a case's ledger outside itself: a signed checkpoint of its Merkle tree (C2SP
 * tlog-checkpoint), and an RFC 3161 timestamp over that checkpoint from the case's TSA — on
 * request (ledger checkpoint, ledger timestamp) and after every acquisition when the case names a TSA.
 */
import { caseTrust, caseTsaCertificates, type CheckpointTimestamp, timestampCheckpoint } from '../custody/anchors';
import { sha256Hex } from '../custody/canonical';
import { type WrittenCheckpoint, writeCheckpoint } from '../custody/checkpoint-store';
import type { LedgerEntry } from '../custody/entry';
import type { Signer } from '../custody/identity';
import { keepCertPem } from '../custody/storage';
import { readCertificates } from '../custody/trust';
import { verifyLedger } from '../custody/verify';
import { CustosError } from '../errors';
import { readBoundedFile } from '../fsutil';
import { type Custody, failure, record } from './session';

/**
 * Signs a checkpoint of the ledger as it is now (by the session's examiner and any witnesses),
 * keeps it in CASE/checkpoints/ and records a `checkpoint` entry. Refused for a ledger that does
 * not verify: a checkpoint vouches for everything it covers.
 */
export async function checkpointCase(c: Custody, witnesses: readonly Signer[] = []): Promise<WrittenCheckpoint & { entry: LedgerEntry }> {
  const r = await verifyLedger(c.caseDir);
  if (r.verdict === 'invalid' || !r.case) {
    throw new CustosError('LEDGER_INVALID', `${r.path}: a checkpoint vouches for the ledger, and it does not verify (${r.firstBad?.reason ?? 'no entries'})`, {
      path: r.path,
      hint: 'Run custos ledger verify to see the first bad entry.',
    });
  }
  // Every signer's certificate is kept with the case, so the note's signatures are known keys to its verifiers.
  for (const s of [c.signer, ...witnesses]) keepCertPem(c.caseDir, s.identity.fingerprint, s.certPem);
  const w = writeCheckpoint(c.caseDir, r.case, [c.signer, ...witnesses]);
  const entry = await record(c, { action: 'checkpoint', details: { size: w.size, root: w.root, origin: w.origin, signers: w.signers, file: w.path, sha256: sha256Hex(Buffer.from(w.note)) } });
  return { ...w, entry };
}

/** Where a timestamp is asked for: the TSA's URL and the certificates its tokens must chain to. */
export interface TsaChoice {
  /** TSA URL; default: the one the case was opened with. */
  tsa?: string;
  /** PEM files of certificates the tokens must chain to; default: those the case was opened with. */
  tsaCerts?: string[];
}

/**
 * A checkpoint of the ledger now, timestamped by the TSA (RFC 3161 §2.4) and checked, the token
 * kept beside the checkpoint and recorded as a `timestamp` entry (time, TSA, serial, nonce, token hash).
 */
export async function timestampCase(c: Custody, o: TsaChoice = {}): Promise<{ checkpoint: WrittenCheckpoint; timestamp: CheckpointTimestamp; entry: LedgerEntry }> {
  const trust = caseTrust(c.caseDir);
  const url = o.tsa ?? trust?.tsa?.url;
  if (!url) throw new CustosError('USAGE', `no timestamp authority: the case ${c.caseDir} names none`, { hint: 'Give --tsa URL --tsa-cert PEM, or open the case with them.' });
  const trusted = o.tsaCerts ? o.tsaCerts.flatMap((p) => readCertificates(p, 'TSA certificate').map((x) => x.pem)) : caseTsaCertificates(c.caseDir, trust);
  if (trusted.length === 0) throw new CustosError('USAGE', `no certificate to check the tokens of ${url} against`, { hint: 'Give --tsa-cert PEM (the TSA\'s certificate or its CA\'s).' });
  const checkpoint = await checkpointCase(c);
  const timestamp = await timestampCheckpoint(checkpoint.path, url, trusted);
  const entry = await record(c, {
    action: 'timestamp',
    details: {
      checkpoint: { file: checkpoint.path, size: checkpoint.size, root: checkpoint.root },
      tsa: url,
      genTime: timestamp.info.genTimeIso,
      serial: timestamp.info.serial,
      policy: timestamp.info.policy,
      signer: timestamp.info.signerSubject,
      nonce: timestamp.nonce,
      token: { file: timestamp.token, sha256: sha256Hex(readBoundedFile(timestamp.token, 'timestamp token')) },
    },
  });
  return { checkpoint, timestamp, entry };
}

/**
 * After an acquisition in a case that names a TSA: checkpoint and timestamp the ledger. The
 * acquisition stands whatever the TSA does; a failure is recorded (a `timestamp` entry with the
 * error) and told through `onEvent`, never thrown.
 */
export async function anchorAfterAcquisition(c: Custody, onEvent?: (message: string) => void): Promise<void> {
  if (!caseTrust(c.caseDir)?.tsa?.url) return;
  try {
    const t = await timestampCase(c);
    onEvent?.(`timestamp: checkpoint of ${t.checkpoint.size} entries timestamped by ${t.timestamp.tsa} at ${t.timestamp.info.genTimeIso}`);
  } catch (err) {
    onEvent?.(`timestamp failed: ${(err as Error).message}`);
    await record(c, { action: 'timestamp', details: failure(err) });
  }
}
