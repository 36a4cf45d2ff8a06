/**
 * What anchors a case's ledger outside itself: the trust recorded when the case was opened, and
 * RFC 3161 timestamps over its checkpoints (CASE/checkpoints/checkpoint-N.tsr beside each
 * checkpoint-N.txt), checked against the TSA certificates the case names.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { CustosError, isCustosError } from '../errors';
import { readBoundedFile, writeNewFile } from '../fsutil';
import { caseNoteKeys, checkCheckpoint, ledgerTree, storedCheckpoints } from './checkpoint-store';
import { ledgerLines, ledgerPath } from './storage';
import type { LedgerReport } from './verify';
import { requestTimestamp, type TimestampInfo, verifyTimestamp } from './timestamp';
import { MAX_TOKEN_BYTES } from './timestamp/cms';
import { type TrustRecord, trustCertificate } from './trust';

/** The trust a case was opened with, from its signed case-open entry; undefined when it has none (or no ledger). */
export function caseTrust(dir: string): TrustRecord | undefined {
  if (!existsSync(ledgerPath(dir))) return undefined;
  for (const line of ledgerLines(ledgerPath(dir))) {
    try {
      const t = (JSON.parse(line) as { action?: string; details?: { trust?: TrustRecord } }).details?.trust;
      return t && Array.isArray(t.anchors) ? t : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The PEMs of the TSA certificates a case trusts (kept in CASE/trust/). */
export function caseTsaCertificates(dir: string, trust = caseTrust(dir)): string[] {
  return (trust?.tsa?.certs ?? []).map((c) => {
    const pem = trustCertificate(dir, c.fingerprint);
    if (!pem) throw new CustosError('LEDGER_INVALID', `the TSA certificate ${c.fingerprint.slice(0, 16)}… the case names is missing from its trust/ folder`, { hint: 'Restore the case folder from a copy.' });
    return pem;
  });
}

/** Where the timestamp token of a checkpoint file is kept. */
export const tokenPathOf = (checkpointPath: string): string => checkpointPath.replace(/\.txt$/, '.tsr');

/** A timestamp obtained for a checkpoint: the token's file and what it states. */
export interface CheckpointTimestamp {
  checkpoint: string;
  token: string;
  tsa: string;
  info: TimestampInfo;
  /** The nonce sent, hex: the reply answered this request. */
  nonce: string;
}

/**
 * Asks the TSA at `url` for a timestamp over the SHA-256 of a checkpoint file (RFC 3161 §2.4.1),
 * checks the token against `trusted` (RFC 3161 §2.4.2: imprint, nonce, signature, certificate
 * chain) and keeps it beside the checkpoint.
 */
export async function timestampCheckpoint(checkpointPath: string, url: string, trusted: string[], random: (n: number) => Buffer = randomBytes): Promise<CheckpointTimestamp> {
  if (trusted.length === 0) {
    throw new CustosError('USAGE', 'no certificate to check the TSA\'s tokens against', { hint: 'Give --tsa-cert, or open the case with --tsa-cert.' });
  }
  const digest = createHash('sha256').update(readBoundedFile(checkpointPath, 'checkpoint', 1024 * 1024)).digest();
  const nonce = random(8);
  const token = await requestTimestamp(url, digest, { nonce });
  const info = verifyTimestamp(token, { digest, nonce, trusted });
  const tokenPath = tokenPathOf(checkpointPath);
  writeNewFile(tokenPath, token);
  return { checkpoint: checkpointPath, token: tokenPath, tsa: url, info, nonce: nonce.toString('hex') };
}

/** How one kept timestamp token checks out. */
export interface TimestampCheck {
  checkpoint: string;
  token: string;
  genTime?: string;
  tsa?: string;
  problem?: string;
}

/**
 * The nonce each token was requested with, as the case's `timestamp` entries record it (by the
 * token's file name; a case folder may have moved since): a token is checked against the request it answered, not only against the data.
 */
export function recordedNonces(dir: string): Map<string, string> {
  const nonces = new Map<string, string>();
  if (!existsSync(ledgerPath(dir))) return nonces;
  for (const line of ledgerLines(ledgerPath(dir))) {
    if (!line.includes('"action":"timestamp"')) continue;
    try {
      const d = (JSON.parse(line) as { details?: { nonce?: unknown; token?: { file?: unknown } } }).details;
      if (typeof d?.nonce === 'string' && /^[0-9a-f]{1,64}$/.test(d.nonce) && typeof d.token?.file === 'string') nonces.set(basename(d.token.file), d.nonce);
    } catch {
      // a malformed entry is reported by the verification of the entries
    }
  }
  return nonces;
}

/** Checks the tokens kept beside checkpoints against the case's TSA certificates, and the nonces recorded for them (RFC 3161 §2.4.2). */
export function checkTimestamps(checkpoints: readonly string[], trusted: string[], nonces: ReadonlyMap<string, string> = new Map()): TimestampCheck[] {
  const out: TimestampCheck[] = [];
  for (const cp of checkpoints) {
    const token = tokenPathOf(cp);
    if (cp === token || !existsSync(token)) continue;
    try {
      if (trusted.length === 0) throw new CustosError('LEDGER_INVALID', 'the case names no TSA certificate to check it against');
      const digest = createHash('sha256').update(readBoundedFile(cp, 'checkpoint', 1024 * 1024)).digest();
      const nonce = nonces.get(basename(token));
      const info = verifyTimestamp(readBoundedFile(token, 'timestamp token', MAX_TOKEN_BYTES), { digest, trusted, ...(nonce ? { nonce: Buffer.from(nonce.length % 2 ? `0${nonce}` : nonce, 'hex') } : {}) });
      out.push({ checkpoint: cp, token, genTime: info.genTimeIso, tsa: info.tsaName ?? info.signerSubject });
    } catch (err) {
      if (!isCustosError(err)) throw err;
      out.push({ checkpoint: cp, token, problem: err.message });
    }
  }
  return out;
}

/**
 * Checks the checkpoints given and those kept in the case against the ledger's Merkle tree: a
 * ledger rewritten or cut short since any of them was signed is invalid (RFC 9162 §2.1.2).
 */
export function withCheckpoints(dir: string, report: LedgerReport, given: readonly string[], tsaCerts?: string[]): LedgerReport {
  const paths = [...new Set([...given, ...storedCheckpoints(dir)])];
  if (paths.length === 0 || !report.case) return report;
  const { tree } = ledgerTree(dir);
  const keys = caseNoteKeys(dir);
  report.checkpoints = paths.map((p) => checkCheckpoint(p, tree, report.case!, keys));
  const fail = (line: number, reason: string) => {
    if (report.firstBad) return;
    report.firstBad = { line, reason };
    report.verdict = 'invalid';
  };
  const failed = report.checkpoints.find((c) => c.problem);
  if (failed) fail((failed.size ?? 0) + 1, `checkpoint ${failed.path}: ${failed.problem}`);
  // Tokens are checked against the TSA certificates given, else those the case was opened with.
  let trusted: string[];
  try {
    trusted = tsaCerts ?? caseTsaCertificates(dir);
  } catch (err) {
    if (!isCustosError(err)) throw err;
    fail(1, err.message);
    return report;
  }
  report.timestamps = checkTimestamps(paths.filter((p) => !report.checkpoints!.find((c) => c.path === p)?.problem), trusted, recordedNonces(dir));
  const badToken = report.timestamps.find((t) => t.problem);
  if (badToken) fail(1, `timestamp ${badToken.token}: ${badToken.problem}`);
  return report;
}
