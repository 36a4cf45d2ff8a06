import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { canonicalBytes, sha256Hex } from '../src/custody/canonical';
import { readManifest } from '../src/manifest/manifest';
import { toolInfo } from '../src/tool';
import type { VerifyResult } from '../src/verify/verify';
import { comparisonTable } from './acquisition';
import { banner, embedRecords, COLORS, finishPages, heading, keyValues, newDocument, paragraph, render, type ReportMeta, summaryBox, table } from './layout';

/** Who verified, and when: the verification's own record. */
export interface VerificationRecord {
  result: VerifyResult;
  at: Date;
  examiner: string;
  durationSeconds?: number;
}

/** A verification report: what was verified, when, by whom, every expected and computed value, the verdict. */
export async function verificationReport(r: VerificationRecord): Promise<Buffer> {
  const v = r.result;
  const m = v.manifest ? readManifest(v.manifest) : undefined;
  const meta: ReportMeta = {
    title: 'Verification report',
    caseNumber: m?.case.caseNumber,
    evidenceNumber: m?.case.evidenceNumber,
    generatedAt: r.at,
    tool: toolInfo(),
    author: r.examiner,
    subject: `Verification of ${v.target}`,
  };
  const doc = newDocument(meta);
  const ok = v.verdict === 'match';
  doc.font('bold').fontSize(20).fillColor(COLORS.accent).text('Verification report');
  paragraph(doc, v.target, { color: COLORS.muted });
  doc.moveDown(0.6);
  const n = v.image.comparisons.length + (v.source?.comparisons.length ?? 0);
  summaryBox(doc, 'Summary', [
    ['Verdict', ok ? `MATCH: all ${n} hash comparisons agree` : 'MISMATCH: the evidence does not match its record', ok ? COLORS.ok : COLORS.bad],
    ['Evidence', [m?.case.evidenceNumber, m?.case.caseNumber ? `case ${m.case.caseNumber}` : undefined].filter(Boolean).join(', ') || v.target],
    ['Verified', `${r.at.toISOString().replace(/\.\d{3}Z$/, 'Z')} by ${r.examiner}`],
    ['Image', `${v.image.files.length} file(s), ${v.image.size.toLocaleString('en-US')} bytes`],
    ['Source re-read', v.source ? `${v.source.path}: ${v.source.comparisons.every((c) => c.match) ? 'MATCH' : 'MISMATCH'}` : 'not requested'],
  ]);
  banner(doc, ok ? 'VERDICT: MATCH' : 'VERDICT: MISMATCH', ok ? COLORS.ok : COLORS.bad, ok ? 'Every recomputed hash equals the recorded value.' : 'At least one recomputed hash differs from the recorded value: see below.');

  heading(doc, 'What was verified');
  keyValues(doc, [
    ['Target', v.target],
    ['Recorded values from', v.manifest ?? 'expected values given on the command line'],
    ['Acquired', m ? `${m.time.start} to ${m.time.end} UTC by ${m.case.examiner ?? m.host.user}` : undefined],
    ['Verified by', r.examiner],
    ['Verified at', `${r.at.toISOString()} (UTC)`],
    ['Duration', r.durationSeconds === undefined ? undefined : `${r.durationSeconds.toFixed(3)} s`],
  ]);
  table(doc, [{ header: 'Image file', width: 300 }, { header: 'Size (bytes)', width: 100, align: 'right' }, { header: 'Recorded size', width: 95, align: 'right' }], v.image.files.map((f) => [f.path, f.size.toLocaleString('en-US'), f.expectedSize === undefined ? '—' : f.expectedSize.toLocaleString('en-US')]));

  heading(doc, 'Image: expected and computed values');
  comparisonTable(doc, Object.fromEntries(v.image.comparisons.map((c) => [c.algorithm, c.expected])), Object.fromEntries(v.image.comparisons.map((c) => [c.algorithm, c.actual])));
  const badSegments = (v.image.segments ?? []).filter((s) => s.comparisons.some((c) => !c.match));
  if (v.image.segments) paragraph(doc, badSegments.length === 0 ? `Each of the ${v.image.segments.length} segments matches its own recorded hashes.` : `Segments that do not match their recorded hashes: ${badSegments.map((s) => s.name).join(', ')}.`, { color: badSegments.length === 0 ? COLORS.ok : COLORS.bad, size: 9 });
  if (v.source) {
    heading(doc, `Source re-read: ${v.source.path}`);
    comparisonTable(doc, Object.fromEntries(v.source.comparisons.map((c) => [c.algorithm, c.expected])), Object.fromEntries(v.source.comparisons.map((c) => [c.algorithm, c.actual])));
    paragraph(doc, `Unreadable ranges on this re-read: ${v.source.readErrors.length === 0 ? 'none' : v.source.readErrors.map((e) => `${e.offset}+${e.length}`).join(', ')}.`, { size: 9 });
  }

  heading(doc, 'Embedded records');
  const result = canonicalBytes({ ...v, verifiedAt: r.at.toISOString(), verifiedBy: r.examiner });
  const files: [string, Uint8Array][] = [['verification.json', result], ...(v.manifest ? ([[basename(v.manifest), readFileSync(v.manifest)]] as [string, Uint8Array][]) : [])];
  embedRecords(doc, files.map(([name, data]) => ({ name, data, type: 'application/json' })), r.at, sha256Hex);
  finishPages(doc, meta);
  return render(doc);
}
