import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../src/custody/canonical';
import type { Signer } from '../src/custody/identity';
import { CERTS_DIR, entryHash, LEDGER_FILE, type LedgerEntry, readEntries, type SignedHead, signHead, verifyLedger } from '../src/custody/ledger';
import { toolInfo } from '../src/tool';
import { banner, embedRecords, COLORS, finishPages, heading, keyValues, newDocument, paragraph, render, type ReportMeta, summaryBox, table } from './layout';
import type { ReportOptions } from './acquisition';

/**
 * The case's chain of custody: a timeline of every entry, open transfers, the verdict of a full
 * verification (a failure shown in red on page 1, never a clean-looking report), and the signed
 * head, so that a later truncation of the ledger is detectable from the printed page. The ledger
 * and the certificates are embedded.
 */
export async function custodyReport(caseDir: string, o: ReportOptions & { signer?: Signer } = {}): Promise<Buffer> {
  const report = await verifyLedger(caseDir);
  const { entries } = readEntries(caseDir);
  const last = entries[entries.length - 1];
  const at = o.now ?? (last ? new Date(last.time.utc) : new Date(0));
  const evidence = [...new Set(entries.flatMap((e) => e.evidence))];
  const meta: ReportMeta = {
    title: 'Chain of custody',
    caseNumber: report.case,
    evidenceNumber: evidence.length === 1 ? evidence[0] : evidence.length > 1 ? `${evidence.length} items` : undefined,
    generatedAt: at,
    tool: toolInfo(),
    author: o.signer?.identity.name,
    subject: `Chain of custody of case ${report.case ?? '?'}`,
  };
  const head: SignedHead | undefined = o.signer ? signHead(report, o.signer, at) : undefined;

  const doc = newDocument(meta);
  doc.font('bold').fontSize(20).fillColor(COLORS.accent).text('Chain of custody');
  paragraph(doc, `Case ${report.case ?? '(unknown)'} — ledger ${report.path}`, { color: COLORS.muted });
  doc.moveDown(0.6);
  const invalid = report.verdict === 'invalid';
  if (invalid) {
    banner(
      doc,
      'LEDGER VERIFICATION FAILED',
      COLORS.bad,
      `First bad entry: line ${report.firstBad!.line}${report.firstBad!.seq === undefined ? '' : ` (seq ${report.firstBad!.seq})`}: ${report.firstBad!.reason}. Entries from this one on cannot be relied on.`,
    );
  }
  if (report.torn) banner(doc, 'TORN LAST LINE', COLORS.bad, `Line ${report.torn.line} (${report.torn.bytes} bytes) is incomplete (an interrupted write) and is not part of this report.`);
  summaryBox(doc, 'Summary', [
    ['Verdict', invalid ? 'INVALID: the ledger fails verification' : report.openTransfers.length > 0 ? `INTACT, ${report.openTransfers.length} open transfer(s)` : 'INTACT: every entry, signature and link verifies', invalid ? COLORS.bad : report.openTransfers.length > 0 ? '#a15c00' : COLORS.ok],
    ['Entries', `${entries.length} recorded, ${report.entries} verified`],
    ['Evidence', evidence.join(', ') || '—'],
    ['Signers', report.signers.map((s) => `${s.name} (${s.role})`).join('; ') || '—'],
    ['Ledger head', report.head ? `seq ${report.head.seq}` : '—'],
    ['Head SHA-256', report.head?.hash ?? '—'],
    ['Head signed by', head ? `${head.signer.name} at ${head.at}` : 'not signed (no identity given to the report)'],
  ]);

  heading(doc, 'Timeline');
  const badSeq = report.firstBad?.seq;
  const status = (_e: LedgerEntry, i: number) => (i < report.entries ? 'verified' : i === report.entries && report.firstBad ? 'FAILED' : 'not checked');
  table(
    doc,
    [
      { header: 'Seq', width: 24, align: 'right' },
      { header: 'Time (UTC / local)', width: 84 },
      { header: 'Actor and role', width: 76 },
      { header: 'Action', width: 66 },
      { header: 'Evidence', width: 50 },
      { header: 'Details / purpose', width: 88 },
      { header: 'Entry hash', width: 58, mono: true },
      { header: 'Signature', width: 49 },
    ],
    entries.map((e, i) => [
      String(e.seq),
      `${e.time.utc.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}\n${e.time.offset} ${e.time.zone}`,
      `${e.actor.name}\n${e.actor.role}`,
      e.action,
      e.evidence.join(', '),
      [describe(e), e.purpose ? `purpose: ${e.purpose}` : ''].filter(Boolean).join('\n'),
      safeHash(e).slice(0, 12),
      status(e, i),
    ]),
    { size: 6.8, colorFor: (row, col) => (col === 7 ? (row[7] === 'verified' ? COLORS.ok : COLORS.bad) : badSeq !== undefined && Number(row[0]) === badSeq ? COLORS.bad : undefined) },
  );

  heading(doc, 'Transfers of custody');
  const transfers = entries.filter((e) => e.action === 'transfer');
  if (transfers.length === 0) paragraph(doc, 'No transfers of custody are recorded.', { color: COLORS.muted });
  else {
    const accepted = new Map(entries.filter((e) => e.action === 'accept').map((e) => [Number(e.details.transferSeq), e]));
    table(
      doc,
      [{ header: 'Transfer', width: 50, align: 'right' }, { header: 'From', width: 100 }, { header: 'To', width: 100 }, { header: 'Reason', width: 130 }, { header: 'Accepted', width: 115 }],
      transfers.map((t) => {
        const a = accepted.get(t.seq);
        return [`#${t.seq}`, t.actor.name, (t.details.to as { name?: string })?.name ?? '?', String(t.details.reason ?? ''), a ? `#${a.seq} at ${a.time.utc}` : 'OPEN — not yet accepted'];
      }),
      { colorFor: (row, col) => (col === 4 && row[4]!.startsWith('OPEN') ? COLORS.bad : undefined) },
    );
  }

  heading(doc, 'Verification of the whole ledger');
  keyValues(doc, [
    ['Verdict', invalid ? 'INVALID' : report.verdict === 'open-transfers' ? 'intact, with open transfers' : 'intact'],
    ['Checked', 'schema of every entry, sequence numbers, the SHA-256 chain (prev), every RSA signature against the certificate kept in the case folder, that each signer is the named actor, certificate validity at the entry time, timestamps never going backwards, transfers accepted by their recipient'],
    ['First bad entry', report.firstBad ? `line ${report.firstBad.line}${report.firstBad.seq === undefined ? '' : ` (seq ${report.firstBad.seq})`}: ${report.firstBad.reason}` : 'none'],
  ]);

  heading(doc, 'Signed ledger head');
  paragraph(doc, 'Keep this page: if entries are later cut off the end of the ledger, custos ledger verify --expect-head with this hash reports it, as does verify.sh from custos ledger export.', { size: 9 });
  keyValues(doc, [
    ['Case', report.case],
    ['Sequence number', report.head ? String(report.head.seq) : '—'],
    ['Head SHA-256', report.head?.hash],
    ['Signed by', head ? `${head.signer.name}, certificate ${head.signer.cert}` : undefined],
    ['Signed at', head?.at],
  ]);
  if (head) keyValues(doc, [['Signature (RS256)', head.sig]], { mono: true });

  heading(doc, 'Certificates and embedded records');
  const certDir = join(caseDir, CERTS_DIR);
  const certs = existsSync(certDir) ? readdirSync(certDir).filter((f) => f.endsWith('.pem')).sort() : [];
  const ledgerBytes = readFileSync(join(caseDir, LEDGER_FILE));
  const files: [string, Uint8Array, string][] = [
    [LEDGER_FILE, ledgerBytes, 'application/x-ndjson'],
    ...certs.map((c): [string, Uint8Array, string] => [`certs/${c}`, readFileSync(join(certDir, c)), 'application/x-pem-file']),
    ...(head ? ([['ledger-head.json', Buffer.from(`${JSON.stringify(head, null, 2)}\n`), 'application/json']] as [string, Uint8Array, string][]) : []),
  ];
  embedRecords(doc, files.map(([name, data, type]) => ({ name, data, type })), at, sha256Hex);
  finishPages(doc, meta);
  return render(doc);
}

function safeHash(e: LedgerEntry): string {
  try {
    return entryHash(e);
  } catch {
    return '?';
  }
}

function describe(e: LedgerEntry): string {
  const d = e.details as Record<string, unknown> & { hashes?: Record<string, string>; verdict?: string; error?: { message?: string }; to?: { name?: string } };
  switch (e.action) {
    case 'note':
      return String(d.text ?? '');
    case 'transfer':
      return `to ${d.to?.name ?? '?'}: ${String(d.reason ?? '')}`;
    case 'accept':
      return `accepts transfer #${String(d.transferSeq)}${d.note ? `: ${String(d.note)}` : ''}`;
    case 'acquire-complete':
      return `MD5 ${d.hashes?.md5 ?? '—'}${Array.isArray(d.readErrors) && d.readErrors.length > 0 ? `; ${d.readErrors.length} read error range(s)` : ''}`;
    case 'acquire-failed':
      return `failed: ${d.error?.message ?? ''}`;
    case 'verify':
      return `verdict ${d.verdict ?? '?'}`;
    case 'report-export':
      return `${String(d.kind ?? '')} report, SHA-256 ${String(d.sha256 ?? '').slice(0, 16)}…`;
    case 'case-open':
      return String(d.description ?? '');
    case 'repair':
      return `removed torn line ${String(d.removedLine)}`;
    default:
      return '';
  }
}
