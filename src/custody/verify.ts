/**
 * Verification of the whole ledger: every entry's schema, sequence, `prev` chain, signature,
 * certificate (fingerprint, subject, validity), one certificate per actor, time order and
 * transfers. Signatures of long ledgers are checked on a worker thread (verify-worker.ts).
 */
import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { isCustosError, printable } from '../errors';
import { readBoundedFile } from '../fsutil';
import { schemaProblems } from '../schema';
import { workerScript } from '../workers';
import { sha256Hex } from './canonical';
import { entryBytes, genesisHash, type LedgerEntry, MAX_ENTRY_BYTES } from './entry';
import { certPublicKey, describeCert } from './identity';
import { type AnchorsUsed, SignerAnchoring } from './anchoring';
import type { TrustRecord } from './trust';
import { type TimestampCheck, withCheckpoints } from './anchors';
import type { CheckpointCheck } from './checkpoint-store';
import { CERTS_DIR, certPath, ledgerLines, ledgerPath, ledgerSize, type LineWalk } from './storage';
import type { SigReply, SigRequest } from './verify-worker';

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
  /** Each checkpoint checked (those given and those kept in the case), and any problem found. */
  checkpoints?: CheckpointCheck[];
  /** Each RFC 3161 timestamp token kept beside a checkpoint: when the TSA says the checkpoint existed, or why the token fails. */
  timestamps?: TimestampCheck[];
  /** 'ok': intact and complete; 'open-transfers': intact, with unaccepted transfers; 'invalid'. */
  verdict: 'ok' | 'open-transfers' | 'invalid';
  signers: { name: string; role: string; cert: string }[];
  /** The trust anchors every signer was checked against; undefined: integrity only, signers not anchored. */
  anchors?: AnchorsUsed;
}

/** What a verification checks besides the chain itself. */
export interface VerifyOptions {
  /** Head hash the ledger must still contain. */
  expectHead?: string;
  /** Signatures on a worker thread (default: for ledgers of 2 MiB and more). */
  parallel?: boolean;
  /** Checkpoint files kept elsewhere that the ledger must extend (those in CASE/checkpoints/ are always checked). */
  checkpoints?: string[];
  /** TSA certificates (PEM) tokens must chain to, instead of the case's. */
  tsaCerts?: string[];
  /** Trust anchors (PEM files, sha256: pins) instead of those the case was opened with. */
  trust?: string[];
  /** CRL files besides those in CASE/trust/. */
  crls?: string[];
}

/**
 * Verifies the whole ledger: schema of every entry, sequence continuity, the `prev` chain,
 * each signature against its certificate (kept in the case folder), the certificate's
 * fingerprint, subject and validity at the entry's time, one certificate per actor, timestamps
 * that never go backwards, and transfers accepted by their recipient. With `expectHead`, a
 * ledger that no longer contains that head (tail cut off, history rewritten) fails.
 */
export async function verifyLedger(dir: string, o: VerifyOptions = {}): Promise<LedgerReport> {
  return withCheckpoints(dir, await verifyEntries(dir, o), o.checkpoints ?? [], o.tsaCerts);
}

async function verifyEntries(dir: string, o: VerifyOptions): Promise<LedgerReport> {
  const file = ledgerPath(dir);
  const size = ledgerSize(file);
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
  pem: string;
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
  o: VerifyOptions,
  checkSignature: SignatureCheck,
  pause?: () => Promise<void>,
): Promise<LedgerReport> {
  const read: LineWalk = { count: 0 };
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
  let anchoring: SignerAnchoring | undefined;
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
      try {
        anchoring = SignerAnchoring.forCase(dir, (e.details as { trust?: TrustRecord }).trust, o.trust, o.crls);
        if (anchoring) report.anchors = anchoring.used;
      } catch (err) {
        if (!isCustosError(err) || (err.code !== 'LEDGER_INVALID' && err.code !== 'CERT_INVALID' && err.code !== 'INVALID_INPUT')) throw err;
        bad(`the trust anchors cannot be used: ${err.message}`, e.seq);
      }
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
    if (anchoring) {
      let v: ReturnType<SignerAnchoring['check']>;
      try {
        v = anchoring.check(e.sig.cert, cert.pem, new Date(e.time.utc));
      } catch (err) {
        if (!isCustosError(err)) throw err;
        v = { ok: false, reason: err.message };
      }
      if (!v.ok) {
        bad(`${e.actor.name} is not vouched for by the case's trust anchors at ${e.time.utc}: ${v.reason}`, e.seq);
        break;
      }
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
    return { key, pem, spki: key.export({ type: 'spki', format: 'pem' }) as string, name: d.name, notBefore: d.notBefore, notAfter: d.notAfter };
  } catch (err) {
    return `certificate file ${p} cannot be used: ${isCustosError(err) ? err.message : (err as Error).message}`;
  }
}
