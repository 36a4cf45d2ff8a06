/** A custody session: the case folder and the unlocked signer that evidence commands record with. */
import { isCustosError } from '../errors';
import { type Environment, systemEnvironment } from '../host';
import { custosHome, loadSigner, type Signer } from '../custody/identity';
import { appendEntry, type EntryInput, type LedgerEntry, protectCaseRecords } from '../custody';

/** Where and as whom evidence handling is recorded. */
export interface Custody {
  caseDir: string;
  signer: Signer;
  purpose?: string;
  env?: Environment;
}

/** Opens the signer for a case folder (identity from CUSTOS_HOME, key unlocked with the passphrase). */
export function openCustody(o: { caseDir: string; identity?: string; passphrase: string; purpose?: string; home?: string; env?: Environment }): Custody {
  const env = o.env ?? systemEnvironment;
  protectCaseRecords(o.caseDir);
  return { caseDir: o.caseDir, signer: loadSigner(o.home ?? custosHome(), o.identity, o.passphrase, env.now()), purpose: o.purpose, env };
}

/** Appends one entry for this custody session. */
export function record(c: Custody, input: EntryInput): Promise<LedgerEntry> {
  return appendEntry(c.caseDir, { ...input, ...(c.purpose && !input.purpose ? { purpose: c.purpose } : {}) }, c.signer, c.env);
}

/** An error as an entry records it: code and message (a bug is recorded as INTERNAL). */
export function failure(err: unknown): Record<string, unknown> {
  return isCustosError(err) ? { error: { code: err.code, message: err.message } } : { error: { code: 'INTERNAL', message: String((err as Error)?.message ?? err) } };
}


/** Files listed in full in an entry; beyond this, a count (the manifest, pinned by its hash, lists them all). */
export const MAX_LISTED = 20;

/** A list in an entry: whole up to MAX_LISTED items, else a count and the first ones. */
export function listed<T>(items: readonly T[]): T[] | { count: number; first: T[] } {
  return items.length <= MAX_LISTED ? [...items] : { count: items.length, first: items.slice(0, MAX_LISTED) };
}

/** Image files in an entry: whole up to MAX_LISTED, else their count, total size and the first ones. */
export function listedFiles(files: readonly { path: string; size: number; hashes: unknown }[]): unknown {
  const out = files.map((f) => ({ path: f.path, size: f.size, hashes: f.hashes }));
  return out.length <= MAX_LISTED ? out : { count: out.length, bytes: out.reduce((n, f) => n + f.size, 0), first: out.slice(0, MAX_LISTED) };
}
