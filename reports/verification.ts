import { basename } from 'node:path';
import { canonicalBytes, sha256Hex } from '../src/custody/canonical';
import type { DamagedRange } from '../src/formats/types';
import { toolInfo } from '../src/tool';
import type { VerifyResult } from '../src/verify/verify';
import { comparisonTable, loadManifest, MAX_ROWS, type ReportOptions } from './acquisition';
import { ledgerProofFor } from './ledger-proof';
import { banner, capped, COLORS, embedRecords, finishPages, grouped, heading, isoSeconds, keyValues, moreNote, newDocument, paragraph, render, type ReportMeta, space, summaryBox, table, title } from './layout';

/** Who verified, and when: the verification's own record. */
export interface VerificationRecord {
  result: VerifyResult;
  at: Date;
  examiner: string;
  durationSeconds?: number;
}

const plural = (n: number, one: string, many = `${one}s`) => `${grouped(n)} ${n === 1 ? one : many}`;

/**
 * A verification report: what was verified, when, by whom, every expected and computed value,
 * the parts of the image that could not be read as recorded and the hash windows that differ
 * (both in red), and the verdict: MISMATCH whenever any of these is found, whatever else agrees.
 */
export async function verificationReport(r: VerificationRecord, o: ReportOptions = {}): Promise<Buffer> {
  const v = r.result;
  const loaded = v.manifest ? loadManifest(v.manifest) : undefined;
  const m = loaded?.manifest;
  const at = o.now ?? new Date();
  const meta: ReportMeta = {
    title: 'Verification report',
    caseNumber: m?.case.caseNumber,
    evidenceNumber: m?.case.evidenceNumber,
    generatedAt: at,
    tool: toolInfo(),
    author: r.examiner,
    subject: `Verification of ${v.target}`,
  };
  const damaged = v.image.damaged;
  const damagedCount = damaged ? Math.max(damaged.count, damaged.ranges.length) : 0;
  const windows = v.image.windows;
  const differing = windows?.differing ?? [];
  // The result lists the first differing windows and counts them all; a changed windows file is a finding too.
  const differingCount = windows ? Math.max(windows.differingCount ?? 0, differing.length) : 0;
  const windowsRecordChanged = windows?.recordIntact === false;
  const hashesAgree = v.image.comparisons.every((c) => c.match) && (v.source?.comparisons.every((c) => c.match) ?? true);
  const ok = v.verdict === 'match' && hashesAgree && damagedCount === 0 && differingCount === 0 && !windowsRecordChanged;
  const n = v.image.comparisons.length + (v.source?.comparisons.length ?? 0);

  const doc = newDocument(meta);
  title(doc, 'Verification report', v.target);
  summaryBox(doc, 'Summary', [
    ['Verdict', ok ? `MATCH: all ${n} hash comparisons agree` : 'MISMATCH: the evidence does not match its record', ok ? COLORS.ok : COLORS.bad],
    ['Evidence', [m?.case.evidenceNumber, m?.case.caseNumber ? `case ${m.case.caseNumber}` : undefined].filter(Boolean).join(', ') || v.target],
    ['Verified', `${isoSeconds(r.at)} by ${r.examiner}`],
    ['Image', `${plural(v.image.files.length, 'file')}, ${grouped(v.image.size)} bytes`],
    ...(damaged ? [['Damaged', damagedCount === 0 ? 'none: every part of the image reads as recorded' : `${plural(damagedCount, 'range')} of the image could not be read as recorded`, damagedCount === 0 ? COLORS.ok : COLORS.bad] as [string, string, string]] : []),
    ...(windows
      ? [
          [
            'Windows differing',
            `${grouped(differingCount)} of ${plural(windows.checked, 'window')} of ${grouped(windows.windowSize)} bytes${windowsRecordChanged ? '; the hash-windows file itself was changed' : ''}`,
            differingCount === 0 && !windowsRecordChanged ? COLORS.ok : COLORS.bad,
          ] as [string, string, string],
        ]
      : []),
    ['Source re-read', v.source ? `${v.source.path}: ${v.source.comparisons.every((c) => c.match) ? 'MATCH' : 'MISMATCH'}` : 'not requested'],
  ]);
  const why = [
    hashesAgree ? undefined : 'at least one recomputed hash differs from the recorded value',
    damagedCount > 0 ? `${plural(damagedCount, 'range')} of the image could not be read as recorded` : undefined,
    differing.length > 0 ? `${plural(differing.length, 'hash window')} differ` : undefined,
  ].filter(Boolean);
  banner(doc, ok ? 'VERDICT: MATCH' : 'VERDICT: MISMATCH', ok ? COLORS.ok : COLORS.bad, ok ? 'Every recomputed hash equals the recorded value.' : `${why.length > 0 ? why.join('; ') : 'the verification found a difference'}: see below.`.replace(/^./, (c) => c.toUpperCase()));

  heading(doc, 'What was verified');
  keyValues(doc, [
    ['Target', v.target],
    ['Recorded values from', v.manifest ?? 'expected values given on the command line'],
    ['Acquired', m ? `${m.time.start} to ${m.time.end} UTC by ${m.case.examiner ?? m.host.user}` : undefined],
    ['Verified by', r.examiner],
    ['Verified at', `${isoSeconds(r.at)} (UTC)`],
    ['Duration', r.durationSeconds === undefined ? undefined : `${r.durationSeconds.toFixed(3)} s`],
  ]);
  const files = capped(v.image.files, MAX_ROWS);
  space(doc, 0.3);
  table(doc, [{ header: 'Image file', width: 300 }, { header: 'Size (bytes)', width: 100, align: 'right' }, { header: 'Recorded size', width: 95, align: 'right' }], files.shown.map((f) => [f.path, grouped(f.size), f.expectedSize === undefined ? '—' : grouped(f.expectedSize)]), {
    colorFor: (row, col) => (col === 2 && row[2] !== '—' && row[2] !== row[1] ? COLORS.bad : undefined),
  });
  moreNote(doc, files.more, 'image files', 'verification.json');

  heading(doc, 'Image: expected and computed values');
  comparisonTable(doc, Object.fromEntries(v.image.comparisons.map((c) => [c.algorithm, c.expected])), Object.fromEntries(v.image.comparisons.map((c) => [c.algorithm, c.actual])));
  const segments = v.image.segments;
  if (segments) {
    const bad = segments.filter((s) => s.comparisons.some((c) => !c.match));
    const names = capped(bad.map((s) => s.name), 50);
    paragraph(
      doc,
      bad.length === 0 ? `Each of the ${grouped(segments.length)} segments matches its own recorded hashes.` : `Segments that do not match their recorded hashes: ${names.shown.join(', ')}${names.more > 0 ? `, … and ${grouped(names.more)} more` : ''}.`,
      { color: bad.length === 0 ? COLORS.ok : COLORS.bad, size: 9 },
    );
  }

  if (damaged) damagedSection(doc, damaged.ranges, damagedCount);
  if (windows) {
    heading(doc, 'Hash windows');
    paragraph(doc, `${plural(windows.checked, 'window')} of ${grouped(windows.windowSize)} bytes were hashed again and compared with the recorded window hashes: ${differingCount === 0 ? 'all agree.' : `${plural(differingCount, 'window')} differ. Each differing window is a byte range of the image that no longer holds what was acquired.`}`, {
      size: 9,
      color: differingCount === 0 ? COLORS.ok : COLORS.bad,
    });
    if (windowsRecordChanged) paragraph(doc, 'The hash-windows file is not the one the manifest records (its SHA-256 differs): it was changed after the acquisition.', { size: 9, color: COLORS.bad });
    if (differing.length > 0) {
      space(doc, 0.3);
      const { shown, more: cut } = capped(differing, MAX_ROWS);
      const more = cut + (differingCount - differing.length);
      table(
        doc,
        [{ header: 'Window', width: 80, align: 'right' }, { header: 'First byte', width: 140, align: 'right' }, { header: 'Last byte', width: 140, align: 'right' }, { header: 'Length (bytes)', width: 135, align: 'right' }],
        shown.map((w) => [String(w.index), String(w.offset), String(w.offset + w.length - 1), String(w.length)]),
        { colorFor: () => COLORS.bad },
      );
      moreNote(doc, more, 'differing windows', 'verification.json', COLORS.bad);
    }
  }

  if (v.source) {
    heading(doc, `Source re-read: ${v.source.path}`);
    comparisonTable(doc, Object.fromEntries(v.source.comparisons.map((c) => [c.algorithm, c.expected])), Object.fromEntries(v.source.comparisons.map((c) => [c.algorithm, c.actual])));
    const errs = capped(v.source.readErrors, 100);
    paragraph(doc, `Unreadable ranges on this re-read: ${v.source.readErrors.length === 0 ? 'none' : errs.shown.map((e) => `${e.offset}+${e.length}`).join(', ') + (errs.more > 0 ? `, … and ${grouped(errs.more)} more, all listed in the embedded verification.json` : '')}.`, { size: 9 });
  }

  // The acquisition this verification checks against, as the case's ledger recorded it and a checkpoint covers it.
  const manifestSha256 = loaded ? sha256Hex(loaded.bytes) : undefined;
  const proof = o.caseDir && manifestSha256 ? ledgerProofFor(o.caseDir, (d, action) => action === 'acquire-complete' && (d.manifest as { sha256?: unknown } | undefined)?.sha256 === manifestSha256) : undefined;
  if (proof) {
    heading(doc, 'The acquisition in the chain of custody');
    keyValues(doc, proof.facts);
  }

  heading(doc, 'Embedded records');
  const result = canonicalBytes({ ...v, verifiedAt: r.at.toISOString(), verifiedBy: r.examiner });
  const embedded = [
    { name: 'verification.json', data: result, type: 'application/json' },
    ...(loaded ? [{ name: basename(v.manifest!), data: loaded.bytes, type: 'application/json' }] : []),
    ...(proof?.embedded ?? []),
  ];
  embedRecords(doc, embedded, at, sha256Hex);
  finishPages(doc, meta);
  return render(doc);
}

/** The parts of the image that could not be read as recorded, in red: where on the media, where in which file, and what the hashes were computed over there. */
function damagedSection(doc: PDFKit.PDFDocument, ranges: DamagedRange[], count: number): void {
  heading(doc, 'Damaged parts of the image');
  if (count === 0) {
    paragraph(doc, 'None: every part of the image reads as recorded.', { color: COLORS.ok, size: 9 });
    return;
  }
  paragraph(
    doc,
    `${plural(count, 'range')} of the image could not be read as recorded (for E01: chunks whose checksum fails or that cannot be decompressed). In each, the hashes above were computed over what the column "Hashed as" says: the stored bytes as they are, or zeros where the data could not be decoded.`,
    { color: COLORS.bad, size: 9 },
  );
  space(doc, 0.3);
  const { shown, more } = capped(ranges, MAX_ROWS);
  table(
    doc,
    [
      { header: 'Media offset', width: 62, align: 'right' },
      { header: 'Length', width: 46, align: 'right' },
      { header: 'First sector', width: 50, align: 'right' },
      { header: 'Sectors', width: 38, align: 'right' },
      { header: 'File', width: 72 },
      { header: 'File offset', width: 56, align: 'right' },
      { header: 'Chunk', width: 38, align: 'right' },
      { header: 'Hashed as', width: 50 },
      { header: 'Reason', width: 83 },
    ],
    shown.map((d) => [String(d.offset), String(d.length), String(d.firstSector), String(d.sectorCount), basename(d.file), String(d.fileOffset), d.chunk === undefined ? '—' : String(d.chunk), d.filledWith === 'zeros' ? 'zeros' : 'stored bytes', d.reason]),
    { size: 7, colorFor: () => COLORS.bad },
  );
  moreNote(doc, more, 'damaged ranges', 'verification.json', COLORS.bad);
  if (count > ranges.length) paragraph(doc, `The verification counted ${grouped(count)} damaged ranges; its result lists ${grouped(ranges.length)}.`, { color: COLORS.bad, size: 9 });
}
