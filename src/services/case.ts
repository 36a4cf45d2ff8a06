/** Opening a case: the case folder with its signed chain-of-custody ledger. */
import { custosHome, initCase, type LedgerEntry, loadSigner } from '../custody';
import { prepareTrust } from '../custody/trust';
import type { Unlock } from './custody';

/** What a case is opened with. */
export interface CaseInitOptions {
  /** The case folder (created if missing). */
  dir: string;
  /** The case number. */
  caseId: string;
  description?: string;
  /** Authority for opening the case (warrant, request). */
  purpose?: string;
  /** Evidence numbers in the case. */
  evidence?: string[];
  /** Name or fingerprint of the identity that signs (default: the only one in CUSTOS_HOME). */
  identity?: string;
  /** Trust anchors: PEM files of the lab CA(s), or `sha256:HEX` pins of examiner certificates. */
  trust?: string[];
  /** Timestamp authority (RFC 3161 over HTTP) that checkpoints are sent to after every acquisition. */
  tsa?: string;
  /** PEM files of the certificates the TSA's tokens must chain to. */
  tsaCerts?: string[];
}

/** custos case init: creates CASE_DIR/custody.jsonl with its first entry, `case-open`, signed by the identity unlocked. */
export async function caseInit(o: CaseInitOptions, unlock: Unlock): Promise<LedgerEntry> {
  // Anchors and TSA certificates are read first: a wrong file fails before a passphrase is asked.
  const trust = prepareTrust({ anchors: o.trust, tsaUrl: o.tsa, tsaCerts: o.tsaCerts });
  // The identity found is the one unlocked: its full fingerprint selects it again.
  const signer = await unlock(o.identity, (passphrase, id) => loadSigner(custosHome(), id.fingerprint, passphrase));
  return initCase(o.dir, { caseId: o.caseId, description: o.description, purpose: o.purpose, evidence: o.evidence, trust }, signer);
}
