import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sha256Hex } from '../src/custody/canonical';
import { ALGORITHM_INFO } from '../src/hash/algorithms';
import type { HashSet } from '../src/hash/hashset';
import { type AcquisitionManifest, readManifest, type VerificationCheck } from '../src/manifest/manifest';
import { toolInfo } from '../src/tool';
import { badSectorMap, rateChart } from './charts';
import { banner, embedRecords, COLORS, ensureSpace, finishPages, hashRows, heading, keyValues, newDocument, paragraph, render, type ReportMeta, summaryBox, table, wrapHex } from './layout';

export const LABELS: Record<string, string> = Object.fromEntries(Object.entries(ALGORITHM_INFO).map(([k, v]) => [k, v.label]));
const bytesText = (n: number) => `${n.toLocaleString('en-US')} bytes`;
const yesNo = (b: boolean | null | undefined) => (b === null || b === undefined ? 'n/a' : b ? 'yes' : 'no');

/** Options every report takes. */
export interface ReportOptions {
  /** State this instant as the generation time instead of the one in the records. */
  now?: Date;
}

/** An acquisition report from a manifest: everything it records, its charts, and the manifest itself embedded. */
export async function acquisitionReport(manifestPath: string, o: ReportOptions = {}): Promise<Buffer> {
  const m = readManifest(manifestPath);
  const manifestBytes = readFileSync(manifestPath);
  const at = o.now ?? latestRecordTime(m);
  const meta: ReportMeta = {
    title: 'Acquisition report',
    caseNumber: m.case.caseNumber,
    evidenceNumber: m.case.evidenceNumber,
    generatedAt: at,
    tool: toolInfo(),
    author: m.case.examiner,
    subject: `Acquisition of ${m.source.path}`,
  };
  const doc = newDocument(meta);
  const badSectors = m.readErrors.reduce((n, e) => n + e.sectorCount, 0);
  const checks = Object.entries(m.verification) as [string, VerificationCheck][];
  const mismatch = checks.some(([, c]) => c.result === 'mismatch');

  doc.font('bold').fontSize(20).fillColor(COLORS.accent).text('Acquisition report');
  paragraph(doc, `${m.case.description ?? m.source.path}`, { color: COLORS.muted });
  doc.moveDown(0.6);
  summaryBox(doc, 'Summary', [
    ['Evidence', [m.case.evidenceNumber, m.case.caseNumber ? `case ${m.case.caseNumber}` : undefined].filter(Boolean).join(', ') || '(no case metadata)'],
    ['Source', `${m.source.path}${m.source.device?.model ? ` — ${m.source.device.model}` : ''}${m.source.device?.serial ? `, serial ${m.source.device.serial}` : ''}`],
    ['Size', `${bytesText(m.source.sizeBytes)} (${m.source.sectors.toLocaleString('en-US')} sectors of ${m.source.logicalSectorSize} B)`],
    ...(['md5', 'sha1', 'sha256'] as const).filter((a) => m.hashes[a]).map((a): [string, string] => [LABELS[a]!, m.hashes[a]!]),
    ['Read errors', badSectors === 0 ? 'none' : `YES: ${badSectors} sector(s) in ${m.readErrors.length} range(s), zero-filled`, badSectors === 0 ? COLORS.ok : COLORS.bad],
    ['Verification', checks.length === 0 ? 'not performed' : checks.map(([k, c]) => `${k === 'image' ? 'image re-hash' : 'source re-read'}: ${c.result.toUpperCase()}`).join('; '), checks.length === 0 ? COLORS.muted : mismatch ? COLORS.bad : COLORS.ok],
    ['Write-block', writeBlockSummary(m)],
  ]);
  if (mismatch) banner(doc, 'VERIFICATION MISMATCH', COLORS.bad, 'A re-hash did not reproduce the acquisition hashes: see "Verification".');
  if (badSectors > 0) banner(doc, `${badSectors} UNREADABLE SECTOR(S), ZERO-FILLED`, COLORS.bad, 'The image hashes are those of the source with these sectors zeroed; see "Read errors".');

  heading(doc, 'Case');
  keyValues(doc, [
    ['Case number', m.case.caseNumber],
    ['Evidence number', m.case.evidenceNumber],
    ['Examiner', m.case.examiner],
    ['Description', m.case.description],
    ['Notes', m.case.notes],
  ]);
  if (!m.case.caseNumber && !m.case.evidenceNumber) paragraph(doc, 'No case metadata was given to this acquisition.', { color: COLORS.muted });

  heading(doc, 'Tool and host');
  keyValues(doc, [
    ['Tool', `${m.tool.name} ${m.tool.version}`],
    ['Command line', m.commandLine.join(' ')],
    ['Host', `${m.host.hostname} (${m.host.platform} ${m.host.release}, ${m.host.arch})`],
    ['Operating system', m.host.osVersion],
    ['User', m.host.user],
  ]);

  heading(doc, 'Source');
  const d = m.source.device;
  keyValues(doc, [
    ['Type', m.source.kind === 'block-device' ? 'block device' : 'regular file (image of an image, or test source)'],
    ['Path', m.source.path + (m.source.realPath !== m.source.path ? ` (${m.source.realPath})` : '')],
    ['Model', d?.model],
    ['Vendor', d?.vendor],
    ['Serial number', d?.serial],
    ['WWID', d?.wwid],
    ['Size', `${bytesText(m.source.sizeBytes)}, ${m.source.sectors.toLocaleString('en-US')} sectors`],
    ['Sector size', `${m.source.logicalSectorSize} B logical, ${m.source.physicalSectorSize} B physical`],
    ['Removable', d ? yesNo(d.removable) : undefined],
    ['Rotational', d ? yesNo(d.rotational) : undefined],
    ['Loop backing file', d?.loopBackingFile],
  ]);
  if (d && d.partitions.length > 0) {
    heading(doc, 'Partitions', 2);
    table(doc, [{ header: 'Partition', width: 120 }, { header: 'Start sector', width: 100, align: 'right' }, { header: 'Size (bytes)', width: 140, align: 'right' }], d.partitions.map((p) => [p.name, String(p.startSector), p.sizeBytes.toLocaleString('en-US')]));
  }

  heading(doc, 'Write-block');
  const wb = m.writeBlock;
  keyValues(doc, [
    ['Method', wb.method === 'kernel-read-only-flag' ? 'kernel read-only flag (BLKROSET)' : wb.method === 'read-only-open' ? 'read-only open (regular file)' : 'NONE: mounted read-write, acquired live'],
    ['Mechanism', wb.mechanism],
    ['Source opened with', wb.openFlags.join(' | ')],
    ['Flag before', yesNo(wb.readOnlyBefore)],
    ['Flag after setting', yesNo(wb.readOnlyAfterSet)],
    ['Flag at the end', yesNo(wb.readOnlyAtEnd)],
    ['Partitions also set', wb.partitions.join(', ') || undefined],
    ['Mounted at start', wb.mountsAtStart.length === 0 ? 'no' : wb.mountsAtStart.map((x) => `${x.device} on ${x.mountPoint} (${x.fsType}, ${x.readWrite ? 'read-write' : 'read-only'})`).join('; ')],
    ['--allow-mounted', wb.allowMounted ? 'yes' : 'no'],
  ]);

  heading(doc, 'Acquisition');
  const a = m.acquisition;
  const rate = m.time.durationSeconds > 0 ? m.source.sizeBytes / m.time.durationSeconds / 1e6 : 0;
  keyValues(doc, [
    [
      'Format',
      a.format === 'split'
        ? `split raw, segments of ${bytesText(a.splitSize ?? 0)}`
        : a.format === 'e01'
          ? `E01 (EnCase 6 Expert Witness Format), ${a.compression ?? 'fast'} compression, segments of at most ${bytesText(a.segmentSize ?? 0)}`
          : 'raw',
    ],
    ['Read size', `${bytesText(a.chunkSize)}${a.directIo ? ', O_DIRECT' : ''}`],
    ['Retries per bad sector', String(a.retries)],
    ['Bytes read', bytesText(a.bytesRead)],
    ['Bytes written', bytesText(a.bytesWritten)],
    ['Start', `${m.time.start} UTC (${m.time.startLocal}, ${m.time.timeZone})`],
    ['End', `${m.time.end} UTC (${m.time.endLocal})`],
    ['Duration', `${m.time.durationSeconds.toFixed(3)} s reading${m.time.sessions.length > 1 ? `, in ${m.time.sessions.length} sessions (resumed)` : ''}`],
    ['Average rate', `${rate.toFixed(1)} MB/s`],
  ]);
  if (m.time.sessions.length > 1) {
    table(doc, [{ header: 'Session start (UTC)', width: 130 }, { header: 'End (UTC)', width: 130 }, { header: 'From byte', width: 90, align: 'right' }, { header: 'To byte', width: 90, align: 'right' }, { header: 'Outcome', width: 80 }], m.time.sessions.map((s) => [s.start, s.end, String(s.fromOffset), String(s.toOffset), s.outcome]));
  }

  heading(doc, 'Hashes of the acquired data');
  hashRows(doc, m.hashes, LABELS);

  heading(doc, 'Output files');
  table(doc, [{ header: 'File', width: 100 }, { header: 'Size (bytes)', width: 75, align: 'right' }, { header: 'Hashes', width: 320, mono: true }], m.outputs.map((f) => [f.name, f.size.toLocaleString('en-US'), hashLines(f.hashes)]), { size: 7 });
  if (m.hashWindows) paragraph(doc, `Piecewise hashes: ${m.hashWindows.count} windows of ${bytesText(m.hashWindows.windowSize)} in ${m.hashWindows.file} (SHA-256 ${m.hashWindows.sha256}).`, { size: 9 });

  heading(doc, 'Read errors');
  if (m.readErrors.length === 0) paragraph(doc, 'No read errors: every sector of the source was read.', { color: COLORS.ok });
  else {
    paragraph(doc, `${badSectors} sector(s) could not be read after ${a.retries} retries each and were written as zeros; every later byte is at its original offset.`, { color: COLORS.bad });
    doc.moveDown(0.3);
    table(doc, [{ header: 'First sector', width: 100, align: 'right' }, { header: 'Sectors', width: 70, align: 'right' }, { header: 'Byte offset', width: 130, align: 'right' }, { header: 'Length (bytes)', width: 110, align: 'right' }], m.readErrors.map((e) => [String(e.firstSector), String(e.sectorCount), String(e.offset), String(e.length)]));
  }

  heading(doc, 'Verification');
  if (checks.length === 0) paragraph(doc, 'No verification was requested at acquisition time (custos verify can be run at any time).', { color: COLORS.muted });
  for (const [kind, c] of checks) {
    heading(doc, `${kind === 'image' ? 'Image re-hash' : 'Source re-read'}: ${c.result.toUpperCase()} (${c.at}, ${c.durationSeconds.toFixed(3)} s)`, 2);
    comparisonTable(doc, m.hashes, c.hashes);
  }

  ensureSpace(doc, 340);
  heading(doc, 'Charts');
  rateChart(doc, m.rateSamples, 'Read rate over time');
  badSectorMap(doc, m.source.sizeBytes, m.source.logicalSectorSize, m.readErrors, 'Unreadable sectors across the source');

  heading(doc, 'Embedded records');
  const windowsPath = m.hashWindows ? join(dirname(manifestPath), m.hashWindows.file) : undefined;
  const embedded: [string, Buffer][] = [[basename(manifestPath), manifestBytes], ...(windowsPath && existsSync(windowsPath) ? ([[m.hashWindows!.file, readFileSync(windowsPath)]] as [string, Buffer][]) : [])];
  embedRecords(doc, embedded.map(([name, data]) => ({ name, data, type: 'application/json' })), at, sha256Hex);

  finishPages(doc, meta);
  return render(doc);
}

function writeBlockSummary(m: AcquisitionManifest): string {
  const wb = m.writeBlock;
  if (wb.method === 'kernel-read-only-flag') return `kernel read-only flag set (at end: ${wb.readOnlyAtEnd ? 'set' : 'NOT SET'})`;
  if (wb.method === 'read-only-open') return 'regular file, opened read-only';
  return 'NONE: source mounted read-write (live acquisition)';
}

export function hashLines(h: HashSet): string {
  return Object.entries(h)
    .map(([alg, hex]) => `${(LABELS[alg] ?? alg).padEnd(8)} ${wrapHex(hex!, 64).replace(/\n/g, '\n         ')}`)
    .join('\n');
}

/** One row per algorithm: expected, computed, MATCH or MISMATCH. */
export function comparisonTable(doc: PDFKit.PDFDocument, expected: HashSet, computed: HashSet): void {
  const rows = Object.entries(expected).map(([alg, e]) => {
    const c = computed[alg as keyof HashSet];
    return [LABELS[alg] ?? alg, `expected ${wrapHex(e!, 64)}\ncomputed ${c ? wrapHex(c, 64) : '(not computed)'}`, c === e ? 'MATCH' : 'MISMATCH'];
  });
  table(doc, [{ header: 'Algorithm', width: 70 }, { header: 'Values', width: 350, mono: true }, { header: 'Result', width: 75 }], rows, {
    size: 7.5,
    colorFor: (row, col) => (col === 2 ? (row[2] === 'MATCH' ? COLORS.ok : COLORS.bad) : undefined),
  });
}

/** The latest instant the manifest records: its verifications, else the end of acquisition. */
function latestRecordTime(m: AcquisitionManifest): Date {
  const times = [m.time.end, m.verification.image?.at, m.verification.source?.at].filter((t): t is string => Boolean(t)).sort();
  return new Date(times[times.length - 1]!);
}
