/**
 * The ledger on disk: CASE_DIR/custody.jsonl (one entry per line) and CASE_DIR/certs/. Appends
 * happen under the case's lock and are fsynced; a write that fails part-way is cut back; a torn
 * last line left by a crash blocks appends until `repairLedger` removes it and records that.
 */
import { closeSync, constants, existsSync, fstatSync, fsyncSync, ftruncateSync, readSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CustosError, fromFsError, isCustosError, printable } from '../errors';
import { ensureDir, openExistingForWrite, openRegularForRead, syncDir, writeAll, writeNewFile } from '../fsutil';
import { type Environment, systemEnvironment } from '../host';
import { schemaProblems } from '../schema';
import { sha256Hex } from './canonical';
import { buildEntry, type EntryInput, entryHash, genesisHash, type LedgerEntry, MAX_ENTRY_BYTES } from './entry';
import type { Signer } from './identity';
import { keepTrustFiles, type TrustRecord } from './trust';

export const LEDGER_FILE = 'custody.jsonl';
export const CERTS_DIR = 'certs';

/** CASE_DIR/custody.jsonl. */
export const ledgerPath = (dir: string): string => join(dir, LEDGER_FILE);
/** CASE_DIR/certs/FINGERPRINT.pem. */
export const certPath = (dir: string, fingerprint: string): string => join(dir, CERTS_DIR, `${fingerprint}.pem`);

/** Opens the ledger for reading: it must exist and be a regular file (never a FIFO or a device). */
function openLedgerForRead(file: string): { fd: number; size: number } {
  if (!existsSync(file)) {
    throw new CustosError('LEDGER_NOT_FOUND', `${file} does not exist`, { path: file, hint: 'Name the case folder with --case-dir (or CUSTOS_CASE_DIR), or open the case with custos case init.' });
  }
  return openRegularForRead(file, 'custody ledger');
}

/** The ledger's size in bytes, checking that it exists and is a regular file. */
export function ledgerSize(file: string): number {
  const { fd, size } = openLedgerForRead(file);
  closeSync(fd);
  return size;
}

/** How far a walk over the ledger's lines got: complete lines read, and the incomplete last line, if any. */
export interface LineWalk {
  count: number;
  torn?: { line: number; bytes: number };
}

/**
 * The ledger's complete lines, read in 4 MiB blocks so that memory does not grow with the
 * ledger: the one reader of every walk over the lines (verification, listing, counting). An
 * incomplete last line is not yielded but reported in `walk.torn`; a line longer than an entry
 * may be is yielded cut short, and the caller rejects it by its length.
 */
export function* ledgerLines(file: string, walk: LineWalk = { count: 0 }): Generator<string> {
  const { fd } = openLedgerForRead(file);
  try {
    const block = Buffer.alloc(4 * 1024 * 1024);
    let carry = Buffer.alloc(0);
    let position = 0;
    for (;;) {
      const n = readSync(fd, block, 0, block.length, position);
      if (n === 0) break;
      position += n;
      const data = carry.length > 0 ? Buffer.concat([carry, block.subarray(0, n)]) : block.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
        walk.count++;
        yield data.toString('utf8', start, nl);
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
      if (carry.length > MAX_ENTRY_BYTES + 1) {
        walk.count++;
        yield carry.subarray(0, MAX_ENTRY_BYTES + 1).toString('latin1');
        return;
      }
    }
    if (carry.length > 0) walk.torn = { line: walk.count + 1, bytes: carry.length };
  } finally {
    closeSync(fd);
  }
}

/** Complete lines in the ledger (streamed). */
function countLines(file: string): number {
  const walk: LineWalk = { count: 0 };
  for (const _ of ledgerLines(file, walk)) {
    // counting only
  }
  return walk.count;
}

/**
 * The end of the ledger, read from its tail only (appends stay fast on long ledgers): the last
 * complete line parsed, and the bytes after it when the last line is torn.
 */
function readTail(file: string): { last: LedgerEntry | undefined; torn: Buffer; size: number } {
  const { fd, size } = openLedgerForRead(file);
  try {
    if (size === 0) return { last: undefined, torn: Buffer.alloc(0), size };
    const length = Math.min(size, 2 * MAX_ENTRY_BYTES + 2);
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, size - length);
    if (n !== length) throw new CustosError('IO_ERROR', `${file}: changed while being read`, { path: file, hint: 'Another process is writing it; try again.' });
    const end = buf.lastIndexOf(0x0a);
    const torn = Buffer.from(buf.subarray(end + 1));
    if (end === -1) {
      if (length < size) throw new CustosError('LEDGER_INVALID', `${file}: the last ${length} bytes hold no complete entry`, { path: file, hint: 'Run custos ledger verify to see what is wrong.' });
      return { last: undefined, torn, size };
    }
    const start = buf.lastIndexOf(0x0a, end - 1) + 1;
    if (start === 0 && length < size) throw new CustosError('LEDGER_INVALID', `${file}: last entry longer than ${MAX_ENTRY_BYTES} bytes`, { path: file, hint: 'Run custos ledger verify to see what is wrong.' });
    let last: LedgerEntry;
    try {
      last = JSON.parse(buf.subarray(start, end).toString('utf8')) as LedgerEntry;
    } catch {
      throw new CustosError('LEDGER_INVALID', `${file}: the last entry is not valid JSON`, { path: file, hint: 'Run custos ledger verify to see what is wrong; restore the ledger from a copy.' });
    }
    if (schemaProblems('ledger-entry', last).length > 0) {
      throw new CustosError('LEDGER_INVALID', `${file}: the last line is not a ledger entry`, { path: file, hint: 'Run custos ledger verify to see what is wrong; restore the ledger from a copy.' });
    }
    return { last, torn, size };
  } finally {
    closeSync(fd);
  }
}

/**
 * The entries as recorded, for display and export, up to the first line that is not a well-formed
 * entry (bad JSON, not matching the schema, longer than an entry may be): that line is reported
 * in `invalid` and nothing after it is returned. Whether the chain verifies is verifyLedger's job.
 */
export function readEntries(dir: string): { entries: LedgerEntry[]; torn?: { line: number; bytes: number }; invalid?: { line: number; reason: string } } {
  const walk: LineWalk = { count: 0 };
  const entries: LedgerEntry[] = [];
  let invalid: { line: number; reason: string } | undefined;
  for (const raw of ledgerLines(ledgerPath(dir), walk)) {
    const line = walk.count;
    if (Buffer.byteLength(raw) > MAX_ENTRY_BYTES) {
      invalid = { line, reason: `longer than ${MAX_ENTRY_BYTES} bytes` };
      break;
    }
    let e: unknown;
    try {
      e = JSON.parse(raw);
    } catch (err) {
      invalid = { line, reason: `not valid JSON (${printable((err as Error).message)})` };
      break;
    }
    const problems = schemaProblems('ledger-entry', e);
    if (problems.length > 0) {
      invalid = { line, reason: `not a ledger entry: ${problems.slice(0, 3).join('; ')}` };
      break;
    }
    entries.push(e as LedgerEntry);
  }
  return { entries, ...(walk.torn && !invalid ? { torn: walk.torn } : {}), ...(invalid ? { invalid } : {}) };
}

/**
 * Holds the case's exclusive lock while `fn` runs: read the head, append, fsync — so parallel
 * processes never interleave or lose entries. A lock left by a crashed process goes stale.
 */
async function withLock<T>(dir: string, fn: () => T | Promise<T>): Promise<T> {
  const file = ledgerPath(dir);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      realpath: false,
      stale: 10_000,
      update: 2_000,
      retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new CustosError('LEDGER_BUSY', `${file}: another custos process holds the ledger lock`, {
        path: file,
        cause: err,
        hint: 'Wait for it to finish; a lock left by a crashed process expires after 10 s.',
      });
    }
    throw fromFsError(err, file, 'locking it') ?? err;
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Appends one line and fsyncs it. A write that fails part-way (disk full, I/O error) is cut back
 * off, so the ledger never keeps a torn line from custos itself, and the failure is reported.
 */
function appendLine(file: string, entry: LedgerEntry): void {
  const fd = openExistingForWrite(file, constants.O_WRONLY | constants.O_APPEND, { ownRecord: true });
  const before = fstatSync(fd).size;
  try {
    writeAll(fd, Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8'), null, file);
    fsyncSync(fd);
  } catch (err) {
    try {
      ftruncateSync(fd, before);
      fsyncSync(fd);
    } catch {
      // the torn line stays; ledger verify reports it and ledger repair removes it
    }
    const why = err instanceof Error ? err.message : String(err);
    throw new CustosError('IO_ERROR', `${file}: the ${entry.action} entry could not be recorded (${why}); the ledger is unchanged`, {
      path: file,
      cause: err,
      hint: 'Free space on the case folder (or fix the storage), then record what happened with custos ledger note.',
    });
  } finally {
    closeSync(fd);
  }
}

/** Keeps the signer's certificate in the case folder, so a verifier needs nothing else. */
function keepCert(dir: string, signer: Signer): void {
  keepCertPem(dir, signer.identity.fingerprint, signer.certPem);
}

/** Stores a certificate as certs/FINGERPRINT.pem unless it is there already. */
export function keepCertPem(dir: string, fingerprint: string, pem: string): void {
  const p = certPath(dir, fingerprint);
  if (existsSync(p)) return;
  ensureDir(join(dir, CERTS_DIR));
  try {
    writeNewFile(p, pem);
  } catch (err) {
    // Two appenders may race to store the same certificate: the other one won.
    if (!(isCustosError(err) && err.code === 'OUTPUT_EXISTS')) throw err;
  }
}

/** Creates CASE_DIR/custody.jsonl with its first, signed `case-open` entry. */
export async function initCase(
  dir: string,
  o: { caseId: string; description?: string; purpose?: string; evidence?: string[]; trust?: { record?: TrustRecord; files: { fingerprint: string; pem: string }[] } },
  signer: Signer,
  env: Environment = systemEnvironment,
): Promise<LedgerEntry> {
  ensureDir(dir);
  const file = ledgerPath(dir);
  if (existsSync(file)) {
    throw new CustosError('LEDGER_EXISTS', `${file} already exists`, { path: file, hint: 'A case is opened once; append to it with --case-dir.' });
  }
  writeNewFile(file, '');
  return withLock(dir, () => {
    keepCert(dir, signer);
    // The certificates the first entry names are in the case before it is.
    if (o.trust) keepTrustFiles(dir, o.trust.files);
    const entry = buildEntry(
      { seq: 0, caseId: o.caseId, prev: genesisHash(o.caseId) },
      { action: 'case-open', evidence: o.evidence, purpose: o.purpose, details: { ...(o.description ? { description: o.description } : {}), ...(o.trust?.record ? { trust: o.trust.record } : {}) } },
      signer,
      env,
    );
    appendLine(file, entry);
    syncDir(dir);
    return entry;
  });
}

/** Appends one signed entry under the lock. Refuses a ledger whose last line is torn. */
export async function appendEntry(dir: string, input: EntryInput, signer: Signer, env: Environment = systemEnvironment): Promise<LedgerEntry> {
  const file = ledgerPath(dir);
  if (!existsSync(file)) {
    throw new CustosError('LEDGER_NOT_FOUND', `${file} does not exist`, { path: file, hint: 'Open the case first: custos case init CASE_DIR --case NUMBER.' });
  }
  return withLock(dir, () => {
    const tail = readTail(file);
    if (tail.torn.length > 0) throw tornError(file);
    if (!tail.last) throw new CustosError('LEDGER_INVALID', `${file} is empty: it has no case-open entry`, { path: file, hint: 'Restore the ledger from a copy.' });
    keepCert(dir, signer);
    const entry = buildEntry({ seq: tail.last.seq + 1, caseId: tail.last.case, prev: entryHash(tail.last) }, input, signer, env, tail.last.time.utc);
    appendLine(file, entry);
    return entry;
  });
}

function tornError(file: string): CustosError {
  return new CustosError('LEDGER_TORN', `${file}: the last line is incomplete (a write was interrupted); nothing more is appended until it is repaired`, {
    path: file,
    hint: 'Run custos ledger verify to see it, then custos ledger repair, which records the repair as an entry.',
  });
}

/**
 * Cuts a torn last line off the ledger (keeping its bytes in a side file for the record) and
 * appends a signed `repair` entry that says what was removed. Never touches complete entries.
 */
export async function repairLedger(dir: string, signer: Signer, env: Environment = systemEnvironment): Promise<LedgerEntry> {
  // Checked before the lock: the lock library would retry a missing file for half a minute.
  if (!existsSync(ledgerPath(dir))) {
    throw new CustosError('LEDGER_NOT_FOUND', `${ledgerPath(dir)} does not exist`, { path: ledgerPath(dir), hint: 'Name the case folder with --case-dir (or CUSTOS_CASE_DIR).' });
  }
  const file = ledgerPath(dir);
  return withLock(dir, () => {
    const { last, torn: removed, size } = readTail(file);
    if (removed.length === 0) throw new CustosError('INVALID_INPUT', `${file}: nothing to repair, the last line is complete`, { path: file, hint: 'custos ledger verify checks the whole chain.' });
    if (!last) throw new CustosError('LEDGER_INVALID', `${file}: no complete entry before the torn line`, { path: file, hint: 'Restore the ledger from a copy.' });
    const tornLine = countLines(file) + 1;
    const side = `${file}.torn-${env.now().toISOString().replace(/[:.]/g, '')}`;
    writeNewFile(side, removed);
    const wfd = openExistingForWrite(file, constants.O_RDWR, { ownRecord: true });
    try {
      ftruncateSync(wfd, size - removed.length);
      fsyncSync(wfd);
    } finally {
      closeSync(wfd);
    }
    keepCert(dir, signer);
    const entry = buildEntry(
      { seq: last.seq + 1, caseId: last.case, prev: entryHash(last) },
      { action: 'repair', details: { removedLine: tornLine, removedBytes: removed.length, removedSha256: sha256Hex(removed), keptIn: side } },
      signer,
      env,
      last.time.utc,
    );
    appendLine(file, entry);
    return entry;
  });
}
