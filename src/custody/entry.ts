/** The entry model of the chain-of-custody ledger: what one entry holds, its canonical bytes and hash, and how it is built and signed. */
import { randomUUID } from 'node:crypto';
import { CustosError } from '../errors';
import { type Environment, formatOffset } from '../host';
import { toolInfo } from '../tool';
import { canonicalBytes, sha256Hex } from './canonical';
import type { Signer } from './identity';

/** An entry line larger than this is refused on append and rejected on verify. */
export const MAX_ENTRY_BYTES = 1024 * 1024;

/** Bytes of command line an entry keeps in full; a longer one (thousands of paths) is cut, with its hash. */
export const MAX_COMMAND_LINE_BYTES = 16 * 1024;

/**
 * The command line as an entry records it: whole when it is short, else its first arguments and
 * one marker naming how many were left out and the SHA-256 of the whole (arguments joined by NUL),
 * so the entry stays within its bound and the full line can still be checked against it.
 */
export function boundedCommandLine(args: readonly string[]): string[] {
  const size = (a: string) => Buffer.byteLength(a) + 4;
  if (args.reduce((n, a) => n + size(a), 0) <= MAX_COMMAND_LINE_BYTES) return [...args];
  const kept: string[] = [];
  let used = 256; // room for the marker
  for (const a of args) {
    if (used + size(a) > MAX_COMMAND_LINE_BYTES) break;
    kept.push(a);
    used += size(a);
  }
  const rest = args.slice(kept.length);
  const restBytes = rest.reduce((n, a) => n + Buffer.byteLength(a), 0);
  kept.push(`[… ${rest.length} more argument${rest.length === 1 ? '' : 's'} (${restBytes} bytes) left out; sha256 of the whole command line, NUL-separated: ${sha256Hex(Buffer.from(args.join('\0')))}]`);
  return kept;
}

export type LedgerAction =
  | 'case-open'
  | 'acquire-start'
  | 'acquire-complete'
  | 'acquire-failed'
  | 'convert'
  | 'verify'
  | 'hash'
  | 'info'
  | 'report-export'
  | 'transfer'
  | 'accept'
  | 'note'
  | 'repair'
  | 'checkpoint'
  | 'timestamp';

/** One entry of the ledger (schemas/ledger-entry.schema.json). */
export interface LedgerEntry {
  v: 1;
  seq: number;
  id: string;
  case: string;
  evidence: string[];
  action: LedgerAction;
  actor: { name: string; role: string; cert: string };
  time: { utc: string; offset: string; zone: string };
  host: ReturnType<Environment['host']>;
  tool: { name: string; version: string };
  commandLine: string[];
  purpose?: string;
  details: Record<string, unknown>;
  prev: string;
  sig: { alg: 'RS256'; cert: string; value: string };
}

/** What a command asks to record. */
export interface EntryInput {
  action: LedgerAction;
  evidence?: string[];
  purpose?: string;
  details?: Record<string, unknown>;
}

/** The canonical bytes an entry's signature covers and its successor's `prev` hashes: RFC 8785 of the entry without `sig`. */
export function entryBytes(entry: Omit<LedgerEntry, 'sig'> & { sig?: unknown }): Buffer {
  const { sig: _sig, ...unsigned } = entry;
  return canonicalBytes(unsigned);
}

/** SHA-256 of an entry's canonical bytes: its identity in the chain. */
export function entryHash(entry: Omit<LedgerEntry, 'sig'> & { sig?: unknown }): string {
  return sha256Hex(entryBytes(entry));
}

/** The `prev` of the first entry: SHA-256 of the case id, so a ledger cannot be moved to another case. */
export function genesisHash(caseId: string): string {
  return sha256Hex(Buffer.from(caseId, 'utf8'));
}

/**
 * Builds the entry that follows `base` and signs it (RS256 over its RFC 8785 bytes). Refuses a
 * clock earlier than `notBefore` (the last entry's time: timestamps never go backwards) and an
 * entry too large to stay well under MAX_ENTRY_BYTES once signed.
 */
export function buildEntry(
  base: { seq: number; caseId: string; prev: string },
  input: EntryInput,
  signer: Signer,
  env: Environment,
  notBefore?: string,
): LedgerEntry {
  const now = env.now();
  const utc = now.toISOString().replace(/\.(\d{3})Z$/, '.$1Z');
  if (notBefore && utc < notBefore) {
    throw new CustosError('LEDGER_INVALID', `this computer's clock (${utc}) is earlier than the last ledger entry (${notBefore})`, {
      hint: 'Correct the system clock (timestamps in a ledger never go backwards), then try again.',
    });
  }
  const unsigned: Omit<LedgerEntry, 'sig'> = {
    v: 1,
    seq: base.seq,
    id: randomUUID(),
    case: base.caseId,
    evidence: input.evidence ?? [],
    action: input.action,
    actor: { name: signer.identity.name, role: signer.identity.role, cert: signer.identity.fingerprint },
    time: { utc, offset: formatOffset(env.utcOffsetMinutes(now)), zone: env.timeZone() },
    host: env.host(),
    tool: toolInfo(),
    commandLine: boundedCommandLine(env.commandLine()),
    ...(input.purpose ? { purpose: input.purpose } : {}),
    details: input.details ?? {},
    prev: base.prev,
  };
  const bytes = canonicalBytes(unsigned);
  if (bytes.length > MAX_ENTRY_BYTES / 2) throw new CustosError('INVALID_INPUT', `ledger entry of ${bytes.length} bytes is too large`, { hint: 'Record large data in a file and its hash in the ledger.' });
  return { ...unsigned, sig: { alg: 'RS256', cert: signer.identity.fingerprint, value: signer.sign(bytes) } };
}
