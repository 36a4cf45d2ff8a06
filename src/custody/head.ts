/**
 * The signed head: the last entry's sequence number and hash, signed by an examiner, to be kept
 * outside the case folder. A ledger checked later against it (verify --expect-head) shows entries
 * cut off the end, which the chain alone cannot.
 */
import { CustosError, printable } from '../errors';
import { readBoundedFile } from '../fsutil';
import { type Environment, systemEnvironment } from '../host';
import { canonicalBytes } from './canonical';
import type { Signer } from './identity';
import { type LedgerReport, verifyLedger } from './verify';

/** A signed head for anchoring elsewhere (reports, another system). */
export interface SignedHead {
  case: string;
  seq: number;
  hash: string;
  at: string;
  signer: { name: string; cert: string };
  sig: string;
}

/** Signs a verified report's head (RS256 over its RFC 8785 bytes); undefined when there is no trustworthy head. */
export function signHead(r: LedgerReport, signer: Signer, at: Date): SignedHead | undefined {
  if (!r.head || r.verdict === 'invalid') return undefined;
  const body = { case: r.case!, seq: r.head.seq, hash: r.head.hash, at: at.toISOString(), signer: { name: signer.identity.name, cert: signer.identity.fingerprint } };
  return { ...body, sig: signer.sign(canonicalBytes(body)) };
}

/** The current head, signed by `signer` so it can be anchored elsewhere and checked later. */
export async function signedHead(dir: string, signer: Signer, env: Environment = systemEnvironment): Promise<SignedHead> {
  const r = await verifyLedger(dir);
  const head = signHead(r, signer, env.now());
  if (!head) {
    throw new CustosError('LEDGER_INVALID', `${r.path}: cannot sign the head of a ledger that does not verify (${r.firstBad?.reason ?? 'empty'})`, { path: r.path });
  }
  return head;
}

/** The head hash a ledger must still contain: given as 64 hex digits, or read from a signed head file (ledger head --out). */
export function expectedHead(value: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  const text = readBoundedFile(value, 'signed head', 64 * 1024).toString('utf8');
  let hash: unknown;
  try {
    hash = (JSON.parse(text) as { hash?: unknown })?.hash;
  } catch (err) {
    throw new CustosError('INVALID_INPUT', `${value}: not a signed head (not valid JSON: ${printable((err as Error).message)})`, { path: value, hint: 'Give the file written by custos ledger head --out, or the head hash itself.' });
  }
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new CustosError('INVALID_INPUT', `${value}: not a signed head (no SHA-256 "hash")`, { path: value, hint: 'Give the file written by custos ledger head --out, or the head hash itself.' });
  }
  return hash;
}
