/**
 * Checkpoints of a case's ledger: the Merkle tree (RFC 9162 §2.1) over its lines, signed
 * checkpoints (C2SP tlog-checkpoint in a signed note) kept in CASE/checkpoints/ and anywhere else,
 * and the proofs that an entry is in a checkpoint and that a later ledger extends an earlier one.
 * A checkpoint taken before a rewrite or a truncation no longer matches the ledger.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError, isCustosError } from '../errors';
import { ensureDir, readBoundedFile, writeNewFile } from '../fsutil';
import { caseOrigin, checkpointBody, examinerNoteKey, examinerNoteSigner, MAX_NOTE_BYTES, type NoteKey, openCheckpoint, signNote } from './checkpoint';
import { describeCert, type Signer } from './identity';
import { leafHash, MerkleTree } from './merkle';
import { CERTS_DIR, ledgerLines, ledgerPath } from './storage';

/** Folder of a case holding its signed checkpoints (and their timestamp tokens). */
export const CHECKPOINTS_DIR = 'checkpoints';

/** The file name of the checkpoint of the first `size` entries. */
export const checkpointFileName = (size: number): string => `checkpoint-${String(size).padStart(10, '0')}.txt`;

/** The Merkle tree over a ledger's complete lines (each line as stored, without its newline), and the case it names. */
export function ledgerTree(dir: string): { tree: MerkleTree; caseId?: string } {
  const tree = new MerkleTree();
  let caseId: string | undefined;
  for (const line of ledgerLines(ledgerPath(dir))) {
    if (tree.size === 0) caseId = caseOfLine(line);
    tree.append(leafHash(Buffer.from(line, 'utf8')));
  }
  return { tree, caseId };
}

function caseOfLine(line: string): string | undefined {
  try {
    const c = (JSON.parse(line) as { case?: unknown }).case;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** A checkpoint as written: where, of how many entries, its root, who signed it, and the note itself. */
export interface WrittenCheckpoint {
  path: string;
  size: number;
  root: string;
  origin: string;
  signers: string[];
  note: string;
}

/**
 * Signs a checkpoint of the ledger as it is now (C2SP tlog-checkpoint, signed note) by `signers`
 * (the examiner, and witnesses), and keeps it in CASE/checkpoints/. The caller has verified the
 * ledger: a checkpoint vouches for what it covers.
 */
export function writeCheckpoint(dir: string, caseId: string, signers: readonly Signer[]): WrittenCheckpoint {
  const { tree } = ledgerTree(dir);
  if (tree.size === 0) throw new CustosError('LEDGER_INVALID', `${ledgerPath(dir)}: no entries to checkpoint`, { hint: 'Open the case first (custos case init).' });
  const origin = caseOrigin(caseId);
  const root = tree.root();
  const note = signNote(checkpointBody({ origin, size: tree.size, root }), signers.map(examinerNoteSigner));
  ensureDir(join(dir, CHECKPOINTS_DIR));
  const path = join(dir, CHECKPOINTS_DIR, checkpointFileName(tree.size));
  writeNewFile(path, note);
  return { path, size: tree.size, root: root.toString('hex'), origin, signers: signers.map((s) => s.identity.name), note };
}

/** The checkpoints kept in a case folder, oldest first. */
export function storedCheckpoints(dir: string): string[] {
  const d = join(dir, CHECKPOINTS_DIR);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((n) => /^checkpoint-\d{10}\.txt$/.test(n))
    .sort()
    .map((n) => join(d, n));
}

/** The note keys of every certificate kept in the case (the examiners who signed its entries), with the name of each key's holder. */
export function caseNoteKeys(dir: string): (NoteKey & { holder: string })[] {
  const d = join(dir, CERTS_DIR);
  if (!existsSync(d)) return [];
  const keys: (NoteKey & { holder: string })[] = [];
  for (const n of readdirSync(d).filter((f) => /^[0-9a-f]{64}\.pem$/.test(f)).slice(0, 1000)) {
    try {
      const pem = readBoundedFile(join(d, n), 'certificate', 1024 * 1024).toString('utf8');
      keys.push({ ...examinerNoteKey(pem, join(d, n)), holder: describeCert(pem, join(d, n)).name });
    } catch {
      // a damaged certificate is reported by the verification of the entries it signed
    }
  }
  return keys;
}

/** How one checkpoint compares with the ledger. */
export interface CheckpointCheck {
  path: string;
  size?: number;
  root?: string;
  verifiedBy?: string[];
  /** Why it does not hold; undefined when the ledger extends it. */
  problem?: string;
}

/**
 * Checks a checkpoint against the ledger's tree: signed by a key of the case, for this case, of
 * no more entries than the ledger has, and with the root of the ledger's first `size` entries
 * (RFC 9162 §2.1.2) — so the ledger is that checkpoint's ledger, extended and not rewritten.
 */
export function checkCheckpoint(path: string, tree: MerkleTree, caseId: string, keys: readonly (NoteKey & { holder?: string })[]): CheckpointCheck {
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    opened = openCheckpoint(readBoundedFile(path, 'checkpoint', MAX_NOTE_BYTES + 1), keys, caseOrigin(caseId));
  } catch (err) {
    if (!isCustosError(err)) throw err;
    return { path, problem: err.message.replace(/^checkpoint: /, '') };
  }
  const { checkpoint, verifiedBy } = opened;
  // Signers by name where the case knows them (the key name is a certificate fingerprint prefix).
  const named = verifiedBy.map((k) => keys.find((x) => x.name === k)?.holder ?? k);
  const facts = { path, size: checkpoint.size, root: checkpoint.root.toString('hex'), verifiedBy: named };
  if (checkpoint.size > tree.size) {
    return { ...facts, problem: `it covers ${checkpoint.size} entries, the ledger has ${tree.size}: entries were cut off the end` };
  }
  if (!tree.root(checkpoint.size).equals(checkpoint.root)) {
    return { ...facts, problem: `the ledger's first ${checkpoint.size} entries are not the ones it covers: the history was rewritten` };
  }
  return facts;
}
