import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tokenPathOf } from '../src/custody/anchors';
import { CHECKPOINTS_DIR, ledgerTree } from '../src/custody/checkpoint-store';
import { sha256Hex } from '../src/custody/canonical';
import type { Signer } from '../src/custody/identity';
import { CERTS_DIR, entryHash, LEDGER_FILE, type LedgerEntry, type LedgerReport, readEntries, type SignedHead, signHead, verifyLedger } from '../src/custody';
import { isCustosError } from '../src/errors';
import { readBoundedFile } from '../src/fsutil';
import { toolInfo } from '../src/tool';
import { MAX_ROWS, type ReportOptions } from './acquisition';
import {
  banner,
  capped,
  type Cell,
  COLORS,
  embedRecords,
  finishPages,
  grouped,
  hash,
  heading,
  keyValues,
  moreNote,
  newDocument,
  paragraph,
  render,
  type ReportMeta,
  space,
  summaryBox,
  table,
  title,
  type Value,
} from './layout';

/** Timeline rows shown; every entry is in the embedded ledger and covered by the verification. */
export const MAX_TIMELINE = 10_000;
/** Largest ledger embedded whole. */
const MAX_EMBEDDED_LEDGER = 256 * 1024 * 1024;

/**
 * What the ledger's `evidence` lists name: evidence items (exhibit numbers such as EV-0001) and,
 * apart from them, the files examined (values with a '/': older verify, hash and info entries put
 * paths there). Each with the entries that name it.
 */
export function evidenceAndFiles(entries: readonly LedgerEntry[]): { items: Map<string, number[]>; files: Map<string, number[]> } {
  const items = new Map<string, number[]>();
  const files = new Map<string, number[]>();
  for (const e of entries) {
    for (const v of new Set(e.evidence)) {
      const into = v.includes('/') ? files : items;
      const seqs = into.get(v);
      if (seqs) seqs.push(e.seq);
      else into.set(v, [e.seq]);
    }
  }
  return { items, files };
}

/** Sequence numbers as a short text: "#3, #5, #7", or "12 entries: #3, #5, … #40". */
function seqList(seqs: number[]): string {
  if (seqs.length <= 4) return seqs.map((s) => `#${s}`).join(', ');
  return `${grouped(seqs.length)} entries: #${seqs[0]}, #${seqs[1]}, … #${seqs[seqs.length - 1]}`;
}

/**
 * The case's chain of custody: a timeline of every entry, open transfers, the verdict of a full
 * verification (a failure shown in red on page 1, never a clean-looking report), and the signed
 * head, so that a later truncation of the ledger is detectable from the printed page. The ledger
 * and the certificates are embedded. A line that is not a valid entry stops the timeline there,
 * with a red banner naming it.
 */
export async function custodyReport(caseDir: string, o: ReportOptions & { signer?: Signer } = {}): Promise<Buffer> {
  return (await custodyReportWithVerdict(caseDir, o)).pdf;
}

/** The custody report, and whether the ledger failed (verification, or a line that is not an entry): the command's exit code. */
export async function custodyReportWithVerdict(caseDir: string, o: ReportOptions & { signer?: Signer } = {}): Promise<{ pdf: Buffer; failed: boolean; problem?: string }> {
  const report = await verifyLedger(caseDir);
  const { entries, invalid, torn } = readEntries(caseDir);
  const at = o.now ?? new Date();
  const { items, files } = evidenceAndFiles(entries);
  const itemNames = [...items.keys()];
  const meta: ReportMeta = {
    title: 'Chain of custody',
    caseNumber: report.case ?? entries[0]?.case,
    evidenceNumber: itemNames.length === 1 ? itemNames[0] : itemNames.length > 1 ? `${grouped(itemNames.length)} items` : undefined,
    generatedAt: at,
    tool: toolInfo(),
    author: o.signer?.identity.name,
    subject: `Chain of custody of case ${report.case ?? '?'}`,
  };
  const head: SignedHead | undefined = o.signer ? signHead(report, o.signer, at) : undefined;
  const failed = report.verdict === 'invalid' || invalid !== undefined;
  const firstBadText = report.firstBad ? `line ${report.firstBad.line}${report.firstBad.seq === undefined ? '' : ` (seq ${report.firstBad.seq})`}: ${report.firstBad.reason}` : undefined;

  const doc = newDocument(meta);
  title(doc, 'Chain of custody', `Case ${report.case ?? '(unknown)'} — ledger ${report.path}`);
  if (invalid) {
    banner(
      doc,
      `LEDGER LINE ${invalid.line} IS NOT A VALID ENTRY`,
      COLORS.bad,
      `Line ${invalid.line}: ${invalid.reason}. The ${entries.length === 1 ? '1 entry' : `${grouped(entries.length)} entries`} before it are shown; nothing from line ${invalid.line} on is (the whole ledger is embedded in this PDF).`,
    );
  }
  if (report.firstBad && report.firstBad.line !== invalid?.line) {
    banner(doc, 'LEDGER VERIFICATION FAILED', COLORS.bad, `First bad entry: ${firstBadText}. Entries from this one on cannot be relied on.`);
  }
  const tornLine = report.torn ?? torn;
  if (tornLine) banner(doc, 'TORN LAST LINE', COLORS.bad, `Line ${tornLine.line} (${grouped(tornLine.bytes)} bytes) is incomplete (an interrupted write) and is not part of this report.`);
  const shownItems = capped(itemNames, 20);
  summaryBox(doc, 'Summary', [
    [
      'Verdict',
      failed ? 'INVALID: the ledger fails verification' : report.openTransfers.length > 0 ? `INTACT, ${report.openTransfers.length} open transfer(s)` : 'INTACT: every entry, signature and link verifies',
      failed ? COLORS.bad : report.openTransfers.length > 0 ? COLORS.warn : COLORS.ok,
    ],
    ['Entries', `${grouped(entries.length)} shown, ${grouped(report.entries)} verified`],
    ['Evidence items', itemNames.length === 0 ? '—' : `${grouped(itemNames.length)}: ${shownItems.shown.join(', ')}${shownItems.more > 0 ? `, … and ${grouped(shownItems.more)} more` : ''}`],
    ...(files.size > 0 ? [['Files examined', `${grouped(files.size)} (listed under "Evidence items and files examined")`] as [string, string]] : []),
    ['Signers', capped(report.signers, 10).shown.map((s) => `${s.name} (${s.role})`).join('; ') + (report.signers.length > 10 ? `; … (${grouped(report.signers.length)} in all)` : '') || '—'],
    ['Ledger head', report.head ? `seq ${report.head.seq}` : '—'],
    ['Head SHA-256', report.head ? hash(report.head.hash) : '—'],
    ['Head signed by', head ? `${head.signer.name} at ${head.at}` : failed ? 'not signed: the ledger does not verify' : 'not signed: no identity was given to the report'],
    ['Signers vouched for by', report.anchors ? report.anchors.anchors.map((a) => a.subject ?? `pinned certificate ${a.fingerprint.slice(0, 16)}…`).join('; ') : 'nobody: integrity only, signers not anchored', report.anchors ? undefined : COLORS.warn],
    ['Checkpoints', report.checkpoints?.length ? `${report.checkpoints.length} checked; ${(report.timestamps ?? []).filter((t) => !t.problem).length} timestamped` : 'none'],
  ]);

  heading(doc, 'Timeline');
  const badSeq = report.firstBad?.seq;
  const status = (i: number) => (i < report.entries ? 'verified' : i === report.entries && report.firstBad ? 'FAILED' : 'not checked');
  const timeline = capped(entries, MAX_TIMELINE);
  table(
    doc,
    [
      { header: 'Seq', width: 24, align: 'right' },
      { header: 'Time (UTC), offset and zone', width: 100 },
      { header: 'Actor and role', width: 62 },
      { header: 'Action', width: 66 },
      { header: 'Details, evidence, purpose', width: 124 },
      { header: 'Entry hash (first 12)', width: 70, mono: true },
      { header: 'Signature', width: 49 },
    ],
    timeline.shown.map((e, i): Cell[] => [
      String(e.seq),
      `${e.time.utc}\n${e.time.offset} ${e.time.zone}`,
      `${e.actor.name}\n${e.actor.role}`,
      e.action,
      [
        ...describe(e),
        ...(e.evidence.length > 0 ? [`evidence: ${capped(e.evidence, 20).shown.join(', ')}${e.evidence.length > 20 ? ` … (${e.evidence.length})` : ''}`] : []),
        ...(e.purpose ? [`purpose: ${e.purpose}`] : []),
      ].filter((v) => v !== ''),
      `${safeHash(e).slice(0, 12)}…`,
      status(i),
    ]),
    { size: 6.8, colorFor: (row, col) => (col === 6 ? (row[6] === 'verified' ? COLORS.ok : COLORS.bad) : badSeq !== undefined && Number(row[0]) === badSeq ? COLORS.bad : undefined) },
  );
  moreNote(doc, timeline.more, 'entries', `ledger (${LEDGER_FILE}); the verification above covers them all`);

  heading(doc, 'Evidence items and files examined');
  if (items.size === 0 && files.size === 0) paragraph(doc, 'No entry names an evidence item or a file.', { color: COLORS.muted });
  if (items.size > 0) {
    const { shown, more } = capped([...items], MAX_ROWS);
    table(doc, [{ header: 'Evidence item', width: 200 }, { header: 'Named by entries', width: 295 }], shown.map(([name, seqs]) => [name, seqList(seqs)]));
    moreNote(doc, more, 'evidence items', 'ledger');
  }
  if (files.size > 0) {
    paragraph(doc, 'Files examined (paths named in the ledger\'s evidence lists, by verify, hash and info entries):', { size: 9 });
    space(doc, 0.3);
    const { shown, more } = capped([...files], MAX_ROWS);
    table(doc, [{ header: 'File', width: 300 }, { header: 'Named by entries', width: 195 }], shown.map(([name, seqs]) => [name, seqList(seqs)]));
    moreNote(doc, more, 'files', 'ledger');
  }

  heading(doc, 'Hosts');
  hostsTable(doc, entries);

  heading(doc, 'Transfers of custody');
  const transfers = entries.filter((e) => e.action === 'transfer');
  if (transfers.length === 0) paragraph(doc, 'No transfers of custody are recorded.', { color: COLORS.muted });
  else {
    const accepted = new Map(entries.filter((e) => e.action === 'accept').map((e) => [Number(e.details.transferSeq), e]));
    const { shown, more } = capped(transfers, MAX_ROWS);
    table(
      doc,
      [{ header: 'Transfer', width: 50, align: 'right' }, { header: 'From', width: 88 }, { header: 'To', width: 88 }, { header: 'Reason', width: 134 }, { header: 'Accepted', width: 135 }],
      shown.map((t) => {
        const a = accepted.get(t.seq);
        return [`#${t.seq}`, t.actor.name, String((t.details.to as { name?: unknown } | null)?.name ?? '?'), String(t.details.reason ?? ''), a ? `#${a.seq} at ${a.time.utc}` : 'OPEN — not yet accepted'];
      }),
      { colorFor: (row, col) => (col === 4 && String(row[4]).startsWith('OPEN') ? COLORS.bad : undefined) },
    );
    moreNote(doc, more, 'transfers', 'ledger');
  }

  heading(doc, 'Verification of the whole ledger');
  keyValues(doc, [
    ['Verdict', failed ? 'INVALID' : report.verdict === 'open-transfers' ? 'intact, with open transfers' : 'intact'],
    ['Checked', 'schema of every entry, sequence numbers, the SHA-256 chain (prev), every RSA signature against the certificate kept in the case folder, that each signer is the named actor, certificate validity at the entry time, timestamps never going backwards, transfers accepted by their recipient; where the case names them, each signer\'s certificate chain to its trust anchors and revocation at the entry\'s time, and every checkpoint and timestamp token against the ledger'],
    ['First bad entry', firstBadText ?? (invalid ? `line ${invalid.line}: ${invalid.reason}` : 'none')],
  ]);

  anchorsSection(doc, report);

  heading(doc, 'Signed ledger head');
  paragraph(doc, 'Keep this page: if entries are later cut off the end of the ledger, custos ledger verify --expect-head with this hash reports it, as does verify.sh from custos ledger export.', { size: 9 });
  keyValues(doc, [
    ['Case', report.case],
    ['Sequence number', report.head ? String(report.head.seq) : '—'],
    ['Head SHA-256', report.head ? hash(report.head.hash) : undefined],
    ['Signed by', head?.signer.name],
    ['Certificate SHA-256', head ? hash(head.signer.cert) : undefined],
    ['Signed at', head?.at],
    ['Signature (RS256)', head ? hash(head.sig) : undefined],
  ]);
  if (!head) paragraph(doc, failed ? 'The head is not signed: the ledger does not verify.' : 'The head is not signed: no identity was given to the report.', { size: 9, color: COLORS.muted });

  heading(doc, 'Certificates and embedded records');
  const embedded: { name: string; data: Uint8Array; type: string }[] = [];
  const notes: string[] = [];
  try {
    embedded.push({ name: LEDGER_FILE, data: readBoundedFile(join(caseDir, LEDGER_FILE), 'custody ledger', MAX_EMBEDDED_LEDGER), type: 'application/x-ndjson' });
  } catch (err) {
    if (!isCustosError(err)) throw err;
    notes.push(`The ledger is not embedded: ${err.message}.`);
  }
  const certs = new Set([...report.signers.map((s) => s.cert), ...timeline.shown.map((e) => e.actor.cert)]);
  for (const fp of capped([...certs].sort(), MAX_ROWS).shown) {
    if (!/^[0-9a-f]{64}$/.test(fp)) continue;
    try {
      embedded.push({ name: `${CERTS_DIR}/${fp}.pem`, data: readBoundedFile(join(caseDir, CERTS_DIR, `${fp}.pem`), 'certificate', 1024 * 1024), type: 'application/x-pem-file' });
    } catch (err) {
      if (!isCustosError(err)) throw err;
      notes.push(`Certificate ${fp} is not in the case folder.`);
    }
  }
  if (head) embedded.push({ name: 'ledger-head.json', data: Buffer.from(`${JSON.stringify(head, null, 2)}\n`), type: 'application/json' });
  embedded.push(...latestCheckpoint(caseDir, report));
  embedRecords(doc, embedded, at, sha256Hex);
  for (const n of notes.slice(0, 20)) paragraph(doc, n, { size: 9, color: COLORS.bad });
  finishPages(doc, meta);
  const problem = invalid ? `line ${invalid.line}: ${invalid.reason}` : firstBadText;
  return { pdf: await render(doc), failed, ...(failed ? { problem } : {}) };
}

/** The hosts the entries were recorded on: name, operating system, kernel; with the entries of each. */
function hostsTable(doc: PDFKit.PDFDocument, entries: readonly LedgerEntry[]): void {
  const hosts = new Map<string, { h: LedgerEntry['host']; seqs: number[] }>();
  for (const e of entries) {
    const key = JSON.stringify([e.host.hostname, e.host.os, e.host.platform, e.host.release, e.host.arch, e.host.osVersion]);
    const seen = hosts.get(key);
    if (seen) seen.seqs.push(e.seq);
    else hosts.set(key, { h: e.host, seqs: [e.seq] });
  }
  if (hosts.size === 0) {
    paragraph(doc, 'No entries.', { color: COLORS.muted });
    return;
  }
  const { shown, more } = capped([...hosts.values()], 100);
  table(
    doc,
    [
      { header: 'Host', width: 62 },
      { header: 'Operating system', width: 136 },
      { header: 'Kernel', width: 112 },
      { header: 'Kernel build', width: 105 },
      { header: 'Entries', width: 80 },
    ],
    shown.map(({ h, seqs }) => [h.hostname, h.os ?? 'not recorded', `${h.platform} ${h.release} (${h.arch})`, h.osVersion, seqList(seqs)]),
    { size: 7.5 },
  );
  moreNote(doc, more, 'hosts', 'ledger');
}

function safeHash(e: LedgerEntry): string {
  try {
    return entryHash(e);
  } catch {
    return '?';
  }
}

/** What an entry did, from its details (attacker-controlled: every field may be missing or of any type). */
function describe(e: LedgerEntry): Value[] {
  const d = e.details as Record<string, unknown> & { hashes?: Record<string, unknown>; verdict?: unknown; error?: { message?: unknown }; to?: { name?: unknown } };
  const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v).slice(0, 600));
  switch (e.action) {
    case 'note':
      return [str(d.text)];
    case 'transfer':
      return [`to ${str(d.to?.name) || '?'}: ${str(d.reason)}`];
    case 'accept':
      return [`accepts transfer #${str(d.transferSeq)}${d.note ? `: ${str(d.note)}` : ''}`];
    case 'acquire-complete': {
      const md5 = typeof d.hashes?.md5 === 'string' ? d.hashes.md5 : undefined;
      const errors = Array.isArray(d.readErrors) && d.readErrors.length > 0 ? `; ${grouped(d.readErrors.length)} read error range(s)` : '';
      return md5 ? [`MD5${errors}`, hash(md5)] : [`no MD5 recorded${errors}`];
    }
    case 'acquire-failed':
      return [`failed: ${str(d.error?.message)}`];
    case 'verify':
      return [`verdict ${str(d.verdict) || '?'}`];
    case 'report-export':
      return [`${str(d.kind)} report, SHA-256 (first 12)`, hash(`${str(d.sha256).slice(0, 12)}…`)];
    case 'case-open':
      return [str(d.description)];
    case 'repair':
      return [`removed torn line ${str(d.removedLine)}`];
    default:
      return [''];
  }
}

/**
 * Who vouches for the signers (the case's trust anchors) and the checkpoints and timestamps the
 * ledger was checked against, each with its verdict.
 */
function anchorsSection(doc: PDFKit.PDFDocument, report: LedgerReport): void {
  heading(doc, 'Trust anchors, checkpoints and timestamps');
  keyValues(doc, [
    [
      'Signers',
      report.anchors
        ? `every signer's certificate chains to ${report.anchors.anchors.map((a) => `${a.subject ?? 'a pinned certificate'} (SHA-256 ${a.fingerprint})`).join('; ')}, valid and not revoked at each entry's time (anchors ${report.anchors.source === 'given' ? 'given by the verifier' : 'recorded when the case was opened'})`
        : 'integrity only: the case names no trust anchor, so nothing shows who holds the signing keys',
    ],
  ]);
  const checks = report.checkpoints ?? [];
  if (checks.length === 0) {
    paragraph(doc, 'No checkpoint of this ledger was taken (custos ledger checkpoint, ledger timestamp).', { size: 9, color: COLORS.muted });
    return;
  }
  const stamps = new Map((report.timestamps ?? []).map((t) => [t.checkpoint, t]));
  const shown = capped(checks, MAX_ROWS);
  table(
    doc,
    [
      { header: 'Checkpoint', width: 3.2 },
      { header: 'Entries', width: 1.3, align: 'right' },
      { header: 'Merkle root (SHA-256)', width: 4.2, mono: true },
      { header: 'Timestamp (RFC 3161)', width: 3.3 },
      { header: 'Verdict', width: 2.6 },
    ],
    shown.shown.map((c) => {
      const t = stamps.get(c.path);
      return [
        basename(c.path),
        c.size === undefined ? '—' : grouped(c.size),
        c.root ?? '—',
        t ? (t.problem ? `FAILS: ${t.problem}` : `${t.genTime} by ${t.tsa}`) : 'not timestamped',
        c.problem ? `FAILS: ${c.problem}` : 'the ledger extends it',
      ];
    }),
    { colorFor: (row, col) => (String(row[col]).startsWith('FAILS') ? COLORS.bad : undefined) },
  );
  moreNote(doc, shown.more, 'checkpoints', 'case folder');
}

/** The latest checkpoint kept in the case, its timestamp token, and the RFC 9162 proof that this ledger extends it, for embedding. */
function latestCheckpoint(caseDir: string, report: LedgerReport): { name: string; data: Uint8Array; type: string }[] {
  const last = [...(report.checkpoints ?? [])].filter((c) => !c.problem && c.size !== undefined && c.path.startsWith(join(caseDir, CHECKPOINTS_DIR))).pop();
  if (!last || !report.head) return [];
  const out = [{ name: `${CHECKPOINTS_DIR}/${basename(last.path)}`, data: readBoundedFile(last.path, 'checkpoint', 1024 * 1024), type: 'text/plain' }];
  const token = tokenPathOf(last.path);
  if (existsSync(token)) out.push({ name: `${CHECKPOINTS_DIR}/${basename(token)}`, data: readBoundedFile(token, 'timestamp token', 1024 * 1024), type: 'application/timestamp-reply' });
  const { tree } = ledgerTree(caseDir);
  const size = Math.min(tree.size, report.entries);
  const proof = {
    about: 'RFC 9162 consistency proof: the ledger of treeSize entries this report covers extends the checkpoint of checkpointSize entries',
    checkpointSize: last.size,
    checkpointRoot: tree.root(last.size!).toString('hex'),
    treeSize: size,
    root: tree.root(size).toString('hex'),
    proof: tree.consistencyProof(last.size!, size).map((h) => h.toString('hex')),
  };
  out.push({ name: 'checkpoint-proof.json', data: Buffer.from(`${JSON.stringify(proof, null, 2)}\n`), type: 'application/json' });
  return out;
}
