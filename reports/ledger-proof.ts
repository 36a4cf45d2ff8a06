/**
 * What a report can show of the custody ledger that recorded its subject: the entry, the latest
 * checkpoint of the case that covers it (checked against the ledger), its RFC 3161 timestamp, and
 * the RFC 9162 inclusion proof of the entry in that checkpoint — to embed, so the report carries
 * its own proof.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { checkTimestamps, caseTsaCertificates, tokenPathOf } from '../src/custody/anchors';
import { caseNoteKeys, checkCheckpoint, ledgerTree, storedCheckpoints } from '../src/custody/checkpoint-store';
import { readEntries } from '../src/custody/storage';
import { isCustosError } from '../src/errors';
import { readBoundedFile } from '../src/fsutil';

/** The facts to print and the files to embed; undefined when no entry of the case matches. */
export interface LedgerProof {
  facts: [string, string][];
  embedded: { name: string; data: Uint8Array; type: string }[];
}

/**
 * The proof that the first entry of `caseDir` for which `matches` holds is in the case's latest
 * checkpoint covering it. Never throws for a damaged case: what cannot be shown is said.
 */
export function ledgerProofFor(caseDir: string, matches: (details: Record<string, unknown>, action: string) => boolean): LedgerProof | undefined {
  let seq: number | undefined;
  let caseId: string | undefined;
  try {
    const { entries } = readEntries(caseDir);
    caseId = entries[0]?.case;
    seq = entries.find((e) => matches(e.details, e.action))?.seq;
  } catch (err) {
    if (!isCustosError(err)) throw err;
    return { facts: [['Custody ledger', `cannot be read: ${err.message}`]], embedded: [] };
  }
  if (seq === undefined || caseId === undefined) return undefined;
  const facts: [string, string][] = [['Ledger entry', `#${seq} of case ${caseId}`]];
  const { tree } = ledgerTree(caseDir);
  const keys = caseNoteKeys(caseDir);
  const covering = storedCheckpoints(caseDir)
    .map((p) => checkCheckpoint(p, tree, caseId!, keys))
    .filter((c) => !c.problem && c.size !== undefined && c.size > seq!);
  const cp = covering.pop();
  if (!cp) {
    facts.push(['Checkpoint', 'none of the case covers this entry yet (custos ledger checkpoint)']);
    return { facts, embedded: [] };
  }
  const embedded: LedgerProof['embedded'] = [{ name: `checkpoints/${basename(cp.path)}`, data: readBoundedFile(cp.path, 'checkpoint', 1024 * 1024), type: 'text/plain' }];
  facts.push(['Checkpoint', `${basename(cp.path)}: ${cp.size} entries, Merkle root ${cp.root}`]);
  const token = tokenPathOf(cp.path);
  if (existsSync(token)) {
    let stamp: string;
    try {
      const [t] = checkTimestamps([cp.path], caseTsaCertificates(caseDir));
      stamp = t?.problem ? `FAILS: ${t.problem}` : `${t?.genTime} by ${t?.tsa}`;
    } catch (err) {
      if (!isCustosError(err)) throw err;
      stamp = `FAILS: ${err.message}`;
    }
    facts.push(['Timestamp (RFC 3161)', stamp]);
    embedded.push({ name: `checkpoints/${basename(token)}`, data: readBoundedFile(token, 'timestamp token', 1024 * 1024), type: 'application/timestamp-reply' });
  }
  const proof = {
    about: 'RFC 9162 inclusion proof: entry seq (its line as stored, without the newline, is the leaf) is in the checkpoint of treeSize entries',
    seq,
    leafHash: tree.leafHashAt(seq).toString('hex'),
    treeSize: cp.size,
    root: cp.root,
    proof: tree.inclusionProof(seq, cp.size).map((h) => h.toString('hex')),
  };
  embedded.push({ name: 'ledger-inclusion-proof.json', data: Buffer.from(`${JSON.stringify(proof, null, 2)}\n`), type: 'application/json' });
  facts.push(['Inclusion proof', `${proof.proof.length} hashes, embedded as ledger-inclusion-proof.json (custos ledger prove --inclusion ${seq})`]);
  return { facts, embedded };
}
