import { randomUUID, verify as verifySignature, type KeyObject } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, readdirSync, readSync } from 'node:fs';
import { protectFile } from '../protect';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import lockfile from 'proper-lockfile';
import { CustosError, fromFsError, isCustosError, printable } from '../errors';
import { ensureDir, openExistingForWrite, openRegularForRead, readBoundedFile, syncDir, writeAll, writeNewFile } from '../fsutil';
import { type Environment, formatOffset, systemEnvironment } from '../host';
import { schemaProblems } from '../schema';
import { toolInfo } from '../tool';
import { canonicalBytes, sha256Hex } from './canonical';
import { certPublicKey, describeCert, type Signer } from './identity';
import type { SigReply, SigRequest } from './verify-worker';
import { workerScript } from '../workers';

export const LEDGER_FILE = 'custody.jsonl';
export const CERTS_DIR = 'certs';
/** An entry line larger than this is refused on append and rejected on verify. */
export const MAX_ENTRY_BYTES = 1024 * 1024;

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
  | 'repair';

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

const ledgerPath = (dir: string) => join(dir, LEDGER_FILE);
const certPath = (dir: string, fingerprint: string) => join(dir, CERTS_DIR, `${fingerprint}.pem`);

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

/** Opens the ledger for reading: it must exist and be a regular file (never a FIFO or a device). */
function openLedgerForRead(file: string): { fd: number; size: number } {
  if (!existsSync(file)) {
    throw new CustosError('LEDGER_NOT_FOUND', `${file} does not exist`, { path: file, hint: 'Name the case folder with --case-dir (or CUSTOS_CASE_DIR), or open the case with custos case init.' });
  }
  return openRegularForRead(file, 'custody ledger');
}

/**
 * The end of the ledger, read from its tail only (appends stay fast on long ledgers): the last
 * complete line parsed, and the bytes after it when the last line is torn.
 */
function readTail(file: string): { last: LedgerEntry | undefined; lastBytes: number; torn: number; size: number } {
  const { fd, size } = openLedgerForRead(file);
  try {
    if (size === 0) return { last: undefined, lastBytes: 0, torn: 0, size };
    const length = Math.min(size, 2 * MAX_ENTRY_BYTES + 2);
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, size - length);
    if (n !== length) throw new CustosError('IO_ERROR', `${file}: changed while being read`, { path: file, hint: 'Another process is writing it; try again.' });
    const end = buf.lastIndexOf(0x0a);
    const torn = length - 1 - end;
    if (end === -1) {
      if (length < size) throw new CustosError('LEDGER_INVALID', `${file}: the last ${length} bytes hold no complete entry`, { path: file, hint: 'Run custos ledger verify to see what is wrong.' });
      return { last: undefined, lastBytes: 0, torn, size };
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
    return { last, lastBytes: end - start + 1, torn, size };
  } finally {
    closeSync(fd);
  }
}

function buildEntry(
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
    commandLine: env.commandLine(),
    ...(input.purpose ? { purpose: input.purpose } : {}),
    details: input.details ?? {},
    prev: base.prev,
  };
  const bytes = canonicalBytes(unsigned);
  if (bytes.length > MAX_ENTRY_BYTES / 2) throw new CustosError('INVALID_INPUT', `ledger entry of ${bytes.length} bytes is too large`, { hint: 'Record large data in a file and its hash in the ledger.' });
  return { ...unsigned, sig: { alg: 'RS256', cert: signer.identity.fingerprint, value: signer.sign(bytes) } };
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
  o: { caseId: string; description?: string; purpose?: string; evidence?: string[] },
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
    const entry = buildEntry(
      { seq: 0, caseId: o.caseId, prev: genesisHash(o.caseId) },
      { action: 'case-open', evidence: o.evidence, purpose: o.purpose, details: o.description ? { description: o.description } : {} },
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
    if (tail.torn > 0) throw tornError(file);
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

/** One problem found by verification, naming the entry. */
export interface LedgerProblem {
  line: number;
  seq?: number;
  reason: string;
}

/** What `custos ledger verify` reports. */
export interface LedgerReport {
  path: string;
  case?: string;
  entries: number;
  head?: { seq: number; hash: string };
  /** The first entry that fails, and why; undefined when the chain is intact. */
  firstBad?: LedgerProblem;
  /** A torn (incomplete) last line: the entries before it still verify. */
  torn?: { line: number; bytes: number };
  openTransfers: { seq: number; from: string; to: string; reason: string }[];
  expectHead?: { hash: string; found: boolean; at?: number };
  /** 'ok': intact and complete; 'open-transfers': intact, with unaccepted transfers; 'invalid'. */
  verdict: 'ok' | 'open-transfers' | 'invalid';
  signers: { name: string; role: string; cert: string }[];
}

/** A signed head for anchoring elsewhere (reports, another system). */
export interface SignedHead {
  case: string;
  seq: number;
  hash: string;
  at: string;
  signer: { name: string; cert: string };
  sig: string;
}

/**
 * Verifies the whole ledger: schema of every entry, sequence continuity, the `prev` chain,
 * each signature against its certificate (kept in the case folder), the certificate's
 * fingerprint, subject and validity at the entry's time, one certificate per actor, timestamps
 * that never go backwards, and transfers accepted by their recipient. With `expectHead`, a
 * ledger that no longer contains that head (tail cut off, history rewritten) fails.
 */
export async function verifyLedger(dir: string, o: { expectHead?: string; parallel?: boolean } = {}): Promise<LedgerReport> {
  const file = ledgerPath(dir);
  const { fd, size } = openLedgerForRead(file);
  closeSync(fd);
  if (!(o.parallel ?? size >= PARALLEL_FROM_BYTES)) return checkLines(dir, file, o, inlineSignatures);
  // Signatures are checked on another thread while this one walks the chain; should any fail,
  // the ledger is walked again in order so that the report names exactly the first bad entry.
  const checker = new SignatureWorker();
  try {
    const report = await checkLines(dir, file, o, checker.collect, () => checker.drain());
    if ((await checker.failures()).length === 0) return report;
  } finally {
    await checker.close();
  }
  return checkLines(dir, file, o, inlineSignatures);
}

/** Ledgers at least this large (about 2,000 entries) have their signatures verified on a worker thread. */
const PARALLEL_FROM_BYTES = 2 * 1024 * 1024;
/** Batches of signatures in flight before the chain walk waits for the worker (bounds memory). */
const MAX_BATCHES_IN_FLIGHT = 8;

/** Checks one signature: inline it answers now; the worker collects and answers later (true meanwhile). */
type SignatureCheck = (index: number, bytes: Buffer, e: LedgerEntry, cert: CertFacts) => boolean;
interface CertFacts {
  key: KeyObject;
  spki: string;
  name: string;
  notBefore: string;
  notAfter: string;
}

const inlineSignatures: SignatureCheck = (_i, bytes, e, cert) => verifySignature('sha256', bytes, cert.key, Buffer.from(e.sig.value, 'base64'));

class SignatureWorker {
  private readonly worker: Worker;
  private batch: { index: number; bytes: Uint8Array; sig: string; cert: string }[] = [];
  private sent = 0;
  private readonly replies: Promise<number[]>[] = [];
  private readonly waiting = new Map<number, { resolve: (f: number[]) => void; reject: (e: unknown) => void }>();
  private readonly certsSent = new Set<string>();

  constructor() {
    const { file, execArgv } = workerScript(__dirname, 'verify-worker');
    this.worker = new Worker(file, { execArgv });
    this.worker.on('message', (m: SigReply) => {
      this.waiting.get(m.id)?.resolve(m.failed);
      this.waiting.delete(m.id);
    });
    this.worker.on('error', (e) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
  }

  readonly collect: SignatureCheck = (index, bytes, e, cert) => {
    if (!this.certsSent.has(e.sig.cert)) {
      this.certsSent.add(e.sig.cert);
      this.worker.postMessage({ type: 'certs', certs: [[e.sig.cert, cert.spki]] } satisfies SigRequest);
    }
    this.batch.push({ index, bytes, sig: e.sig.value, cert: e.sig.cert });
    if (this.batch.length >= 1000) this.flush();
    return true;
  };

  private flush(): void {
    if (this.batch.length === 0) return;
    const id = this.sent++;
    this.replies.push(new Promise<number[]>((resolve, reject) => this.waiting.set(id, { resolve, reject })));
    this.worker.postMessage({ type: 'batch', id, items: this.batch } satisfies SigRequest);
    this.batch = [];
  }

  /** Waits while too many batches are queued, so a huge ledger never piles up in memory. */
  async drain(): Promise<void> {
    while (this.waiting.size > MAX_BATCHES_IN_FLIGHT) await this.replies[this.replies.length - this.waiting.size];
  }

  async failures(): Promise<number[]> {
    this.flush();
    return (await Promise.all(this.replies)).flat();
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

async function checkLines(
  dir: string,
  file: string,
  o: { expectHead?: string },
  checkSignature: SignatureCheck,
  pause?: () => Promise<void>,
): Promise<LedgerReport> {
  const read: LineCount = { count: 0 };
  // Certificates are parsed once each: a ledger has few signers and many entries.
  const keys = new Map<string, CertFacts | string>();
  /** The certificate's facts, or why it cannot be used (missing, unreadable, not the fingerprint it is filed under). */
  const certFor = (fp: string): CertFacts | string => {
    if (!keys.has(fp)) keys.set(fp, loadCertFacts(dir, fp));
    return keys.get(fp)!;
  };
  const report: LedgerReport = { path: file, entries: 0, openTransfers: [], verdict: 'ok', signers: [] };
  const actorCert = new Map<string, string>();
  const actorRole = new Map<string, string>();
  const open = new Map<number, { seq: number; from: string; to: string; toCert: string; reason: string }>();
  const hashes = new Map<string, number>();
  let prev: string | undefined;
  let lastTime = '';
  let i = -1;
  for (const raw of ledgerLines(file, read)) {
    i++;
    if (report.firstBad) break;
    if (pause && i % 1000 === 999) await pause();
    const lineNo = i + 1;
    const bad = (reason: string, seq?: number) => {
      report.firstBad = { line: lineNo, ...(seq === undefined ? {} : { seq }), reason };
    };
    if (Buffer.byteLength(raw) > MAX_ENTRY_BYTES) {
      bad(`line of ${Buffer.byteLength(raw)} bytes exceeds the ${MAX_ENTRY_BYTES}-byte limit`);
      break;
    }
    let e: LedgerEntry;
    try {
      e = JSON.parse(raw) as LedgerEntry;
    } catch (err) {
      bad(`not valid JSON (${printable((err as Error).message)})`);
      break;
    }
    const problems = schemaProblems('ledger-entry', e);
    if (problems.length > 0) {
      bad(`does not match the ledger-entry schema: ${problems.slice(0, 3).join('; ')}`, typeof e?.seq === 'number' ? e.seq : undefined);
      break;
    }
    if (e.seq !== i) {
      bad(`sequence number ${e.seq} where ${i} was expected (an entry was deleted, inserted or moved)`, e.seq);
      break;
    }
    if (i === 0) {
      report.case = e.case;
      if (e.action !== 'case-open') bad('the first entry is not case-open', e.seq);
      prev = genesisHash(e.case);
    } else if (e.case !== report.case) {
      bad(`belongs to case '${e.case}', not '${report.case}'`, e.seq);
    }
    if (report.firstBad) break;
    if (e.prev !== prev) {
      bad(`prev ${e.prev.slice(0, 16)}… does not match the previous entry's hash ${prev!.slice(0, 16)}… (an earlier entry was changed, removed or reordered)`, e.seq);
      break;
    }
    const bytes = entryBytes(e);
    const cert = certFor(e.sig.cert);
    if (typeof cert === 'string') {
      bad(cert, e.seq);
      break;
    }
    if (!checkSignature(i, bytes, e, cert)) {
      bad('signature does not verify: the entry was changed after it was signed, or signed by another key', e.seq);
      break;
    }
    if (e.sig.cert !== e.actor.cert) {
      bad(`signed with certificate ${e.sig.cert.slice(0, 16)}…, but the actor ${e.actor.name} is certificate ${e.actor.cert.slice(0, 16)}…`, e.seq);
      break;
    }
    if (cert.name !== e.actor.name) {
      bad(`signed by the certificate of '${cert.name}', but the entry names '${e.actor.name}' as actor`, e.seq);
      break;
    }
    const known = actorCert.get(e.actor.name);
    if (known && known !== e.actor.cert) {
      bad(`${e.actor.name} signed earlier entries with certificate ${known.slice(0, 16)}…, this one with ${e.actor.cert.slice(0, 16)}…: not the named actor's key`, e.seq);
      break;
    }
    const at = new Date(e.time.utc).toISOString();
    if (at < cert.notBefore || at > cert.notAfter) {
      bad(`certificate of ${e.actor.name} was not valid at ${e.time.utc} (valid ${cert.notBefore} to ${cert.notAfter})`, e.seq);
      break;
    }
    if (e.time.utc < lastTime) {
      bad(`time ${e.time.utc} is earlier than the previous entry's ${lastTime}`, e.seq);
      break;
    }
    if (e.action === 'transfer') {
      const to = e.details.to as { name?: string; cert?: string } | undefined;
      if (!to?.cert) {
        bad('transfer without a recipient certificate', e.seq);
        break;
      }
      open.set(e.seq, { seq: e.seq, from: e.actor.name, to: to.name ?? to.cert, toCert: to.cert, reason: String(e.details.reason ?? '') });
    } else if (e.action === 'accept') {
      const t = open.get(Number(e.details.transferSeq));
      if (!t) {
        bad(`accepts transfer #${String(e.details.transferSeq)}, which is not an open transfer`, e.seq);
        break;
      }
      if (t.toCert !== e.actor.cert) {
        bad(`transfer #${t.seq} was to ${t.to}, but ${e.actor.name} accepted it`, e.seq);
        break;
      }
      open.delete(t.seq);
    }
    actorCert.set(e.actor.name, e.actor.cert);
    actorRole.set(e.actor.name, e.actor.role);
    lastTime = e.time.utc;
    prev = sha256Hex(bytes);
    hashes.set(prev, e.seq);
    report.entries = i + 1;
    report.head = { seq: e.seq, hash: prev };
  }
  report.signers = [...actorCert].map(([name, cert]) => ({ name, role: actorRole.get(name) ?? '', cert }));
  report.openTransfers = [...open.values()].map(({ toCert: _c, ...t }) => t);
  if (o.expectHead) {
    const want = o.expectHead.toLowerCase();
    const at = hashes.get(want);
    report.expectHead = { hash: want, found: at !== undefined, ...(at === undefined ? {} : { at }) };
    if (at === undefined && !report.firstBad) {
      report.firstBad = {
        line: read.count + 1,
        reason: `the expected head ${want.slice(0, 16)}… is not in the ledger: entries were cut off the end, or the history was rewritten`,
      };
    }
  }
  if (read.torn) report.torn = read.torn;
  if (read.count === 0 && !report.firstBad) report.firstBad = { line: 1, reason: 'the ledger has no entries' };
  report.verdict = report.firstBad ? 'invalid' : report.openTransfers.length > 0 ? 'open-transfers' : 'ok';
  return report;
}

/** Reads certs/FINGERPRINT.pem for verification; a problem with it comes back as the reason the entry fails. */
function loadCertFacts(dir: string, fp: string): CertFacts | string {
  const p = certPath(dir, fp);
  if (!/^[0-9a-f]{64}$/.test(fp)) return `certificate name ${fp.slice(0, 80)} is not a SHA-256 fingerprint`;
  if (!existsSync(p)) return `certificate ${fp.slice(0, 16)}… is missing from ${join(dir, CERTS_DIR)}`;
  try {
    const pem = readBoundedFile(p, 'certificate', 1024 * 1024).toString('utf8');
    const d = describeCert(pem, p);
    if (d.fingerprint !== fp) return `certificate file ${p} holds the certificate ${d.fingerprint.slice(0, 16)}…, not the one its name says`;
    const key = certPublicKey(pem);
    return { key, spki: key.export({ type: 'spki', format: 'pem' }) as string, name: d.name, notBefore: d.notBefore, notAfter: d.notAfter };
  } catch (err) {
    return `certificate file ${p} cannot be used: ${isCustosError(err) ? err.message : (err as Error).message}`;
  }
}

interface LineCount {
  count: number;
  torn?: { line: number; bytes: number };
}

/**
 * The ledger's complete lines, read in 4 MiB blocks so that memory does not grow with the
 * ledger. An incomplete last line is not yielded but reported in `out.torn`; a line longer than
 * an entry may be is yielded cut short, and the checker rejects it by its length.
 */
function* ledgerLines(file: string, out: LineCount): Generator<string> {
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
        out.count++;
        yield data.toString('utf8', start, nl);
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
      if (carry.length > MAX_ENTRY_BYTES + 1) {
        out.count++;
        yield carry.subarray(0, MAX_ENTRY_BYTES + 1).toString('latin1');
        return;
      }
    }
    if (carry.length > 0) out.torn = { line: out.count + 1, bytes: carry.length };
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
  const file = ledgerPath(dir);
  openLedgerForRead(file);
  const read: LineCount = { count: 0 };
  const entries: LedgerEntry[] = [];
  let invalid: { line: number; reason: string } | undefined;
  for (const raw of ledgerLines(file, read)) {
    const line = read.count;
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
  return { entries, ...(read.torn && !invalid ? { torn: read.torn } : {}), ...(invalid ? { invalid } : {}) };
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

/** Signs a verified report's head (RS256 over its RFC 8785 bytes); undefined when there is no trustworthy head. */
export function signHead(r: LedgerReport, signer: Signer, at: Date): SignedHead | undefined {
  if (!r.head || r.verdict === 'invalid') return undefined;
  const body = { case: r.case!, seq: r.head.seq, hash: r.head.hash, at: at.toISOString(), signer: { name: signer.identity.name, cert: signer.identity.fingerprint } };
  return { ...body, sig: signer.sign(canonicalBytes(body)) };
}

/**
 * Cuts a torn last line off the ledger (keeping its bytes in a side file for the record) and
 * appends a signed `repair` entry that says what was removed. Never touches complete entries.
 */
export async function repairLedger(dir: string, signer: Signer, env: Environment = systemEnvironment): Promise<LedgerEntry> {
  const file = ledgerPath(dir);
  return withLock(dir, () => {
    const tail = readTail(file);
    if (tail.torn === 0) throw new CustosError('INVALID_INPUT', `${file}: nothing to repair, the last line is complete`, { path: file, hint: 'custos ledger verify checks the whole chain.' });
    if (!tail.last) throw new CustosError('LEDGER_INVALID', `${file}: no complete entry before the torn line`, { path: file, hint: 'Restore the ledger from a copy.' });
    const keep = tail.size - tail.torn;
    const { fd } = openLedgerForRead(file);
    const removed = Buffer.alloc(tail.torn);
    try {
      readSync(fd, removed, 0, tail.torn, keep);
    } finally {
      closeSync(fd);
    }
    const tornLine = countLines(file) + 1;
    const side = `${file}.torn-${env.now().toISOString().replace(/[:.]/g, '')}`;
    writeNewFile(side, removed);
    const wfd = openExistingForWrite(file, constants.O_RDWR, { ownRecord: true });
    try {
      ftruncateSync(wfd, keep);
      fsyncSync(wfd);
    } finally {
      closeSync(wfd);
    }
    const last = tail.last;
    keepCert(dir, signer);
    const entry = buildEntry(
      { seq: last.seq + 1, caseId: last.case, prev: entryHash(last) },
      { action: 'repair', details: { removedLine: tornLine, removedBytes: tail.torn, removedSha256: sha256Hex(removed), keptIn: side } },
      signer,
      env,
      last.time.utc,
    );
    appendLine(file, entry);
    return entry;
  });
}

/** Complete lines in the ledger (streamed). */
function countLines(file: string): number {
  const c: LineCount = { count: 0 };
  for (const _ of ledgerLines(file, c)) {
    // counting only
  }
  return c.count;
}

/**
 * Marks a case's records and the evidence its ledger names as never-write targets for this
 * process: the ledger and its certificates, and every existing file an entry names as a source,
 * target, output or manifest. So `--out`/`--force` of any command run in the case cannot replace
 * them (a report written over custody.jsonl, a signed head written over an image).
 */
export function protectCaseRecords(dir: string): void {
  const file = ledgerPath(dir);
  const mark = (p: unknown) => {
    if (typeof p !== 'string' || p.length === 0 || p.length > 4096) return;
    try {
      const st = lstatSync(p);
      if (st.isFile()) protectFile(p, st);
    } catch {
      // not there (any more): nothing to protect
    }
  };
  mark(file);
  for (const c of listDir(join(dir, CERTS_DIR))) mark(join(dir, CERTS_DIR, c));
  if (!existsSync(file)) return;
  let entries: LedgerEntry[];
  try {
    entries = readEntries(dir).entries;
  } catch {
    return; // verification reports what is wrong with the ledger; protection takes what it can
  }
  for (const e of entries) {
    const d = e.details as Record<string, unknown>;
    mark(d.source);
    mark(d.target);
    const m = d.manifest as { path?: unknown } | undefined;
    mark(m?.path);
    const outs = d.outputs as { path?: unknown }[] | { first?: { path?: unknown }[] } | undefined;
    for (const f of Array.isArray(outs) ? outs : (outs?.first ?? [])) mark(f?.path);
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
