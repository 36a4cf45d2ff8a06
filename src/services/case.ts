/** Opening a case: the case folder with its signed chain-of-custody ledger. */
import { custosHome, initCase, type LedgerEntry, loadSigner } from '../custody';
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
}

/** custos case init: creates CASE_DIR/custody.jsonl with its first entry, `case-open`, signed by the identity unlocked. */
export async function caseInit(o: CaseInitOptions, unlock: Unlock): Promise<LedgerEntry> {
  // The identity found is the one unlocked: its full fingerprint selects it again.
  const signer = await unlock(o.identity, (passphrase, id) => loadSigner(custosHome(), id.fingerprint, passphrase));
  return initCase(o.dir, { caseId: o.caseId, description: o.description, purpose: o.purpose, evidence: o.evidence }, signer);
}
