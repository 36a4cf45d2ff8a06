/**
 * The ledger commands, one function per user action: each opens what it needs (the signer through
 * openCustody, which also protects the case's records), does the work, records the ledger entry
 * and returns a typed result; a result that is not a plain success says so in `outcome`.
 */
import {
  acceptCustody,
  expectedHead,
  exportForOpenssl,
  type IdentityRecord,
  type LedgerEntry,
  type LedgerProblem,
  type LedgerReport,
  readEntries,
  repairLedger,
  type SignedHead,
  signedHead,
  transferCustody,
  verifyLedger,
} from '../custody';
import { caseNoteKeys, checkCheckpoint, ledgerTree, type WrittenCheckpoint } from '../custody/checkpoint-store';
import { custosHome, loadSigner } from '../custody/identity';
import { readCertificates } from '../custody/trust';
import { CustosError, type Outcome } from '../errors';
import { writeFileAtomic } from '../fsutil';
import { checkpointCase, timestampCase, type TsaChoice } from './anchor';
import { type Custody, openCustody, record } from './session';

/**
 * How a service gets the passphrase of the identity that signs, which only the command can ask
 * for (on the terminal, naming the identity, three tries; or CUSTOS_PASSPHRASE): it finds the
 * identity by `selector` and calls `open` with a passphrase until `open` stops throwing
 * WRONG_PASSPHRASE. CustosCommand.unlock is one.
 */
export type Unlock = <T>(selector: string | undefined, open: (passphrase: string, identity: IdentityRecord) => T) => Promise<T>;

/** The case folder a ledger action is recorded in, and who signs it. */
export interface SignedAction {
  caseDir: string;
  /** Name or fingerprint of the identity that signs (default: the only one in CUSTOS_HOME). */
  identity?: string;
  /** Why, and under what authority. */
  purpose?: string;
}

/**
 * How a command ended when it did not fail: 'ok'; 'mismatch', records that do not verify (exit 4);
 * 'torn', a ledger whose last line is incomplete but whose entries before it verify (exit 3).
 */
export { type Outcome, outcomeExitCode } from '../errors';

/** Unlocks the signer for a case folder and protects the case's records for this process. */
function openSigner(o: SignedAction, unlock: Unlock): Promise<Custody> {
  // The identity found is the one unlocked: its full fingerprint selects it again.
  return unlock(o.identity, (passphrase, id) => openCustody({ caseDir: o.caseDir, identity: id.fingerprint, purpose: o.purpose, passphrase }));
}

/** custos ledger note: records a manual event (sealed, moved, handed over) as a signed `note` entry. */
export async function ledgerNote(o: SignedAction & { text: string; evidence?: string[] }, unlock: Unlock): Promise<LedgerEntry> {
  const c = await openSigner(o, unlock);
  return record(c, { action: 'note', evidence: o.evidence, details: { text: o.text } });
}

/** custos ledger transfer: records the release of custody to another examiner; open until they accept. */
export async function ledgerTransfer(o: SignedAction & { to: string; reason: string; evidence?: string[] }, unlock: Unlock): Promise<LedgerEntry> {
  const c = await openSigner(o, unlock);
  return transferCustody(o.caseDir, { to: o.to, reason: o.reason, evidence: o.evidence, purpose: o.purpose }, c.signer);
}

/** custos ledger accept: the signer accepts the open transfer addressed to them (the latest one). */
export async function ledgerAccept(o: SignedAction & { note?: string }, unlock: Unlock): Promise<LedgerEntry> {
  const c = await openSigner(o, unlock);
  return acceptCustody(o.caseDir, { note: o.note, purpose: o.purpose }, c.signer);
}

/** The ledger as a timeline: its entries as recorded, and what verification says of them. */
export interface LedgerTimeline {
  entries: LedgerEntry[];
  openTransfers: LedgerReport['openTransfers'];
  verdict: LedgerReport['verdict'];
  /** The first entry that fails verification, when one does. */
  firstBad?: LedgerProblem;
}

/** custos ledger show: the entries up to the first malformed line, with open transfers and the verdict. */
export async function ledgerShow(o: { caseDir: string }): Promise<LedgerTimeline> {
  const { entries } = readEntries(o.caseDir);
  const r = await verifyLedger(o.caseDir);
  return { entries, openTransfers: r.openTransfers, verdict: r.verdict, ...(r.firstBad ? { firstBad: r.firstBad } : {}) };
}

/**
 * custos ledger verify: the whole chain, and with `expectHead` (64 hex digits, or a signed head
 * file from ledger head --out) that the ledger still holds that head. Outcome 'mismatch' when it
 * fails verification, 'torn' when only its last line is incomplete.
 */
export async function ledgerVerify(o: { caseDir: string; expectHead?: string; checkpoints?: string[]; tsaCerts?: string[]; trust?: string[]; crls?: string[] }): Promise<LedgerReport & { outcome: Outcome }> {
  const tsaCerts = o.tsaCerts?.flatMap((p) => readCertificates(p, 'TSA certificate').map((x) => x.pem));
  const r = await verifyLedger(o.caseDir, { expectHead: o.expectHead ? expectedHead(o.expectHead) : undefined, checkpoints: o.checkpoints, tsaCerts, trust: o.trust, crls: o.crls });
  return { ...r, outcome: r.verdict === 'invalid' ? 'mismatch' : r.torn ? 'torn' : 'ok' };
}

/**
 * custos ledger head: the head of a ledger that verifies, signed for anchoring elsewhere; with
 * `out`, also written to that file (created new, or replaced with `force`; never a link, evidence
 * or a record of the case).
 */
export async function ledgerHead(o: SignedAction & { out?: string; force?: boolean }, unlock: Unlock): Promise<SignedHead> {
  const c = await openSigner(o, unlock);
  const h = await signedHead(o.caseDir, c.signer);
  if (o.out) writeFileAtomic(o.out, `${JSON.stringify(h, null, 2)}\n`, { replace: o.force });
  return h;
}

/** custos ledger export --openssl: the ledger as files that openssl and sha256sum alone can check, with verify.sh. */
export async function ledgerExport(o: { caseDir: string; outDir: string }): Promise<{ entries: number; script: string }> {
  return exportForOpenssl(o.caseDir, o.outDir);
}

/** custos ledger repair: cuts a torn last line off (its bytes kept in a side file) and records a signed `repair` entry. */
export async function ledgerRepair(o: SignedAction, unlock: Unlock): Promise<LedgerEntry> {
  const c = await openSigner(o, unlock);
  return repairLedger(o.caseDir, c.signer);
}

/** custos ledger checkpoint: a signed checkpoint by the examiner and any witnesses, kept in the case and recorded. */
export async function ledgerCheckpoint(o: SignedAction & { witnesses?: string[] }, unlock: Unlock): Promise<WrittenCheckpoint & { entry: LedgerEntry }> {
  const c = await openSigner(o, unlock);
  const witnesses = [];
  for (const w of o.witnesses ?? []) witnesses.push(await unlock(w, (passphrase, id) => loadSigner(custosHome(), id.fingerprint, passphrase)));
  return checkpointCase(c, witnesses);
}

/** custos ledger timestamp: a checkpoint now, timestamped by the TSA (RFC 3161), checked, kept and recorded. */
export async function ledgerTimestamp(o: SignedAction & TsaChoice, unlock: Unlock): ReturnType<typeof timestampCase> {
  const c = await openSigner(o, unlock);
  return timestampCase(c, o);
}

/** What ledger prove prints: an RFC 9162 proof with what it proves, in hex. */
export type LedgerProof =
  | { kind: 'inclusion'; seq: number; leafHash: string; treeSize: number; root: string; proof: string[]; checkpoint?: string }
  | { kind: 'consistency'; oldSize: number; newSize: number; oldRoot: string; newRoot: string; proof: string[] };

/**
 * custos ledger prove: that entry `seq` is in the tree of `size` entries (default: the whole
 * ledger, or the checkpoint given, whose signature and root are checked first), or that the tree
 * of `oldSize` entries is a prefix of the tree of `newSize` (RFC 9162 §2.1.3, §2.1.4).
 */
export function ledgerProve(o: { caseDir: string; inclusion?: number; checkpoint?: string; consistency?: [number, number] }): LedgerProof {
  const { tree, caseId } = ledgerTree(o.caseDir);
  const hex = (b: Buffer[]) => b.map((h) => h.toString('hex'));
  if (o.consistency) {
    const [oldSize, newSize] = o.consistency;
    return { kind: 'consistency', oldSize, newSize, oldRoot: tree.root(oldSize).toString('hex'), newRoot: tree.root(newSize).toString('hex'), proof: hex(tree.consistencyProof(oldSize, newSize)) };
  }
  if (o.inclusion === undefined) throw new CustosError('USAGE', 'say what to prove: --inclusion SEQ or --consistency OLD NEW', { hint: 'custos ledger prove --inclusion 3' });
  let size = tree.size;
  if (o.checkpoint) {
    const check = checkCheckpoint(o.checkpoint, tree, caseId ?? '', caseNoteKeys(o.caseDir));
    if (check.problem) throw new CustosError('LEDGER_INVALID', `${o.checkpoint}: ${check.problem}`, { path: o.checkpoint, hint: 'Give a checkpoint of this case that the ledger still holds.' });
    size = check.size!;
  }
  const seq = o.inclusion;
  const proof = hex(tree.inclusionProof(seq, size)); // refuses an entry beyond the tree
  return { kind: 'inclusion', seq, leafHash: tree.leafHashAt(seq).toString('hex'), treeSize: size, root: tree.root(size).toString('hex'), proof, ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}) };
}
