import { basename, dirname, join } from 'node:path';
import { sha256Hex } from '../src/custody/canonical';
import { CustosError, isCustosError } from '../src/errors';
import { readBoundedFile } from '../src/fsutil';
import { ALGORITHM_INFO } from '../src/hash/algorithms';
import type { HashSet } from '../src/hash/hashset';
import type { AcquisitionManifest, AcquisitionSession, VerificationCheck } from '../src/manifest/manifest';
import { assertSchema } from '../src/schema';
import { toolInfo } from '../src/tool';
import { badSectorMap, rateChart } from './charts';
import { ledgerProofFor } from './ledger-proof';
import {
  banner,
  capped,
  type Cell,
  COLORS,
  embedRecords,
  finishPages,
  grouped,
  hash,
  hashRows,
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

export const LABELS: Record<string, string> = Object.fromEntries(Object.entries(ALGORITHM_INFO).map(([k, v]) => [k, v.label]));
const bytesText = (n: number) => `${grouped(n)} bytes`;
const yesNo = (b: boolean | null | undefined) => (b === null || b === undefined ? 'n/a' : b ? 'yes' : 'no');
const plural = (n: number, one: string, many = `${one}s`) => `${grouped(n)} ${n === 1 ? one : many}`;

/** Rows a table lists before it says how many more the embedded record holds. */
export const MAX_ROWS = 1000;
/** Arguments of a recorded command line that are shown. */
const MAX_ARGS = 200;

/** Options every report takes. */
export interface ReportOptions {
  /**
   * When the PDF is generated: the footer of every page states it (the body states the records'
   * own times). The commands pass SOURCE_DATE_EPOCH when it is set, for reproducible output;
   * default: the clock.
   */
  now?: Date;
  /** The case folder whose ledger recorded the subject: the report then shows and embeds the entry's checkpoint and proof. */
  caseDir?: string;
}

/** A command-line argument as a POSIX shell would need it, so that the printed line is unambiguous. */
export const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** A recorded command line, quoted where needed and bounded. */
export function commandLineText(args: readonly string[]): string {
  const { shown, more } = capped(args, MAX_ARGS);
  return shown.map(shellWord).join(' ') + (more > 0 ? ` … (${plural(more, 'more argument')}; all in the embedded record)` : '');
}

/**
 * Reads the manifest once: the bytes embedded in the PDF are the bytes that were validated
 * (schemas/acquisition-manifest.schema.json) and rendered.
 */
export function loadManifest(path: string): { manifest: AcquisitionManifest; bytes: Buffer } {
  const bytes = readBoundedFile(path, 'acquisition manifest');
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new CustosError('INVALID_INPUT', `${path}: not valid JSON (${(err as Error).message})`, {
      path,
      cause: err,
      hint: 'Name a BASE.manifest.json written by custos acquire, or restore it from your evidence copy.',
    });
  }
  assertSchema('acquisition-manifest', data, path);
  return { manifest: data as AcquisitionManifest, bytes };
}

/** An acquisition report from a manifest: everything it records, its charts, and the manifest itself embedded. */
export async function acquisitionReport(manifestPath: string, o: ReportOptions = {}): Promise<Buffer> {
  const { manifest: m, bytes: manifestBytes } = loadManifest(manifestPath);
  const at = o.now ?? new Date();
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
  let badSectors = 0;
  for (const e of m.readErrors) badSectors += e.sectorCount;
  const checks = Object.entries(m.verification) as [string, VerificationCheck][];
  const mismatch = checks.some(([, c]) => c.result === 'mismatch');
  const sessions = m.time.sessions;
  const resumed = sessions.length > 1 || m.acquisition.resumed;
  const unmatched = sessions.map((s, i) => ({ s, n: i + 1 })).filter(({ s }) => s.resumeCheck && !s.resumeCheck.matched);

  title(doc, 'Acquisition report', m.case.description ?? m.source.path);
  summaryBox(doc, 'Summary', [
    ['Evidence', [m.case.evidenceNumber, m.case.caseNumber ? `case ${m.case.caseNumber}` : undefined].filter(Boolean).join(', ') || '(no case metadata)'],
    ['Source', `${m.source.path}${m.source.device?.model ? ` — ${m.source.device.model}` : ''}${m.source.device?.serial ? `, serial ${m.source.device.serial}` : ''}`],
    ['Size', `${bytesText(m.source.sizeBytes)} (${grouped(m.source.sectors)} sectors of ${m.source.logicalSectorSize} B)`],
    ...(['md5', 'sha1', 'sha256'] as const).filter((a) => m.hashes[a]).map((a): [string, Value] => [LABELS[a]!, hash(m.hashes[a]!)]),
    ...(resumed
      ? [
          [
            'Resumed',
            `acquired in ${plural(sessions.length, 'session')}${unmatched.length > 0 ? `; in ${plural(unmatched.length, 'session')} the partial image no longer matched the source and was acquired again` : ''}`,
            unmatched.length > 0 ? COLORS.bad : COLORS.warn,
          ] as [string, string, string],
        ]
      : []),
    ['Read errors', badSectors === 0 ? 'none' : `YES: ${grouped(badSectors)} sector(s) in ${grouped(m.readErrors.length)} range(s), zero-filled`, badSectors === 0 ? COLORS.ok : COLORS.bad],
    ['Verification', checks.length === 0 ? 'not performed' : checks.map(([k, c]) => `${k === 'image' ? 'image re-hash' : 'source re-read'}: ${c.result.toUpperCase()}`).join('; '), checks.length === 0 ? COLORS.muted : mismatch ? COLORS.bad : COLORS.ok],
    ['Write-block', writeBlockSummary(m)],
  ]);
  if (mismatch) banner(doc, 'VERIFICATION MISMATCH', COLORS.bad, 'A re-hash did not reproduce the acquisition hashes: see "Verification".');
  if (badSectors > 0) banner(doc, `${grouped(badSectors)} UNREADABLE SECTOR(S), ZERO-FILLED`, COLORS.bad, 'The image hashes are those of the source with these sectors zeroed; see "Read errors".');
  for (const { s, n } of unmatched.slice(0, 3)) banner(doc, 'PARTIAL IMAGE NO LONGER MATCHED THE SOURCE', COLORS.bad, resumeMismatchText(s, n));
  if (unmatched.length > 3) paragraph(doc, `… and ${plural(unmatched.length - 3, 'more session')} whose partial image no longer matched the source: see "Sessions".`, { color: COLORS.bad, size: 9 });

  const parent = m.derivedFrom;
  if (parent) {
    banner(doc, 'DERIVED COPY — NOT AN ACQUISITION', COLORS.accent, `Converted by custos from the ${parent.format} image ${parent.path}; every media hash was checked against its record (${parent.recordedBy ?? 'record'}) before the files were named.`);
    heading(doc, 'Derived from');
    keyValues(doc, [
      ['Parent image', parent.path],
      ['Parent format', parent.format],
      ['Parent record', parent.manifest ? `${parent.manifest.path} (SHA-256 ${parent.manifest.sha256})` : parent.recordedBy],
      ['Parent files', parent.files.map((f) => `${f.path} (${grouped(f.size)} bytes)`).slice(0, 20).join('\n') + (parent.files.length > 20 ? `\n… and ${parent.files.length - 20} more` : '')],
    ]);
    hashRows(doc, parent.hashes, LABELS);
  }

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
    ['Command line', commandLineText(m.commandLine)],
    ...hostRows(m.host),
  ]);

  heading(doc, 'Source');
  const d = m.source.device;
  keyValues(doc, [
    ['Type', m.source.kind === 'block-device' ? 'block device' : 'regular file (image of an image, or test source)'],
    ['Path', m.source.path + (m.source.realPath !== m.source.path ? ` (${m.source.realPath})` : '')],
    ['Model', d?.model],
    ['Vendor', d?.vendor],
    ['Serial number', d?.serial],
    ['Firmware', d?.firmwareRevision],
    ['Transport', d?.transport],
    ['WWID', d?.wwid],
    ['EUI / NGUID', [d?.eui, d?.nguid].filter(Boolean).join(' / ') || undefined],
    ['USB device', d?.usb ? `${d.usb.vendorId}:${d.usb.productId}${d.usb.manufacturer || d.usb.product ? ` ${[d.usb.manufacturer, d.usb.product].filter(Boolean).join(' ')}` : ''}${d.usb.serial ? `, serial ${d.usb.serial}` : ''}` : undefined],
    ['Hidden areas', (m.source.hiddenAreas ?? d?.hiddenAreas)?.summary ?? 'not recorded'],
    ['Size', `${bytesText(m.source.sizeBytes)}, ${grouped(m.source.sectors)} sectors`],
    ['Sector size', `${m.source.logicalSectorSize} B logical, ${m.source.physicalSectorSize} B physical`],
    ['Removable', d ? yesNo(d.removable) : undefined],
    ['Rotational', d ? yesNo(d.rotational) : undefined],
    ['Loop backing file', d?.loopBackingFile],
  ]);
  if (d && d.partitions.length > 0) {
    heading(doc, 'Partitions', 2);
    const { shown, more } = capped(d.partitions, MAX_ROWS);
    table(doc, [{ header: 'Partition', width: 120 }, { header: 'Start sector', width: 100, align: 'right' }, { header: 'Size (bytes)', width: 140, align: 'right' }], shown.map((p) => [p.name, String(p.startSector), grouped(p.sizeBytes)]));
    moreNote(doc, more, 'partitions', 'manifest');
  }

  heading(doc, 'Write-block');
  const wb = m.writeBlock;
  const mounts = capped(wb.mountsAtStart, 20);
  keyValues(doc, [
    ['Method', wb.method === 'kernel-read-only-flag' ? 'kernel read-only flag (BLKROSET)' : wb.method === 'read-only-open' ? 'read-only open (regular file)' : 'NONE: mounted read-write, acquired live'],
    ['Mechanism', wb.mechanism],
    ['Source opened with', wb.openFlags.slice(0, 10).join(' | ')],
    ['Flag before', yesNo(wb.readOnlyBefore)],
    ['Flag after setting', yesNo(wb.readOnlyAfterSet)],
    ['Flag at the end', yesNo(wb.readOnlyAtEnd)],
    ['Partitions also set', capped(wb.partitions, 50).shown.join(', ') + (wb.partitions.length > 50 ? `, … (${grouped(wb.partitions.length)} in all)` : '') || undefined],
    [
      'Mounted at start',
      wb.mountsAtStart.length === 0
        ? 'no'
        : mounts.shown.map((x) => `${x.device} on ${x.mountPoint} (${x.fsType}, ${x.readWrite ? 'read-write' : 'read-only'})`).join('; ') + (mounts.more > 0 ? `; … and ${grouped(mounts.more)} more` : ''),
    ],
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
    ['Duration', `${m.time.durationSeconds.toFixed(3)} s reading${resumed ? `, in ${plural(sessions.length, 'session')} (resumed)` : ''}`],
    ['Average rate', `${rate.toFixed(1)} MB/s`],
  ]);
  if (resumed) sessionsSection(doc, sessions);

  heading(doc, 'Hashes of the acquired data');
  hashRows(doc, m.hashes, LABELS);

  heading(doc, 'Output files');
  const outputs = capped(m.outputs, MAX_ROWS);
  table(doc, [{ header: 'File and size', width: 120 }, { header: 'Hashes of its data', width: 375 }], outputs.shown.map((f) => [[f.name, bytesText(f.size)], hashPairs(f.hashes)]));
  moreNote(doc, outputs.more, 'output files', 'manifest');
  if (m.hashWindows) {
    heading(doc, 'Piecewise hashes', 2);
    keyValues(doc, [
      ['Windows', `${grouped(m.hashWindows.count)} windows of ${bytesText(m.hashWindows.windowSize)}`],
      ['File', m.hashWindows.file],
      ['SHA-256 of the file', hash(m.hashWindows.sha256)],
    ]);
  }

  heading(doc, 'Read errors');
  if (m.readErrors.length === 0) paragraph(doc, 'No read errors: every sector of the source was read.', { color: COLORS.ok });
  else {
    paragraph(doc, `${grouped(badSectors)} sector(s) could not be read after ${a.retries} retries each and were written as zeros; every later byte is at its original offset.`, { color: COLORS.bad });
    space(doc, 0.3);
    errorTable(doc, m.readErrors, 'manifest');
  }

  heading(doc, 'Verification');
  if (checks.length === 0) paragraph(doc, 'No verification was requested at acquisition time (custos verify can be run at any time).', { color: COLORS.muted });
  for (const [kind, c] of checks) {
    heading(doc, `${kind === 'image' ? 'Image re-hash' : 'Source re-read'}: ${c.result.toUpperCase()} (${c.at}, ${c.durationSeconds.toFixed(3)} s)`, 2);
    comparisonTable(doc, m.hashes, c.hashes);
    if (c.readErrors && c.readErrors.length > 0) {
      paragraph(doc, `Unreadable on this re-read: ${plural(c.readErrors.length, 'range')}.`, { color: COLORS.bad, size: 9 });
      const { shown, more } = capped(c.readErrors, MAX_ROWS);
      table(doc, [{ header: 'Byte offset', width: 200, align: 'right' }, { header: 'Length (bytes)', width: 200, align: 'right' }], shown.map((e) => [String(e.offset), String(e.length)]));
      moreNote(doc, more, 'ranges', 'manifest', COLORS.bad);
    }
  }

  heading(doc, 'Charts');
  rateChart(doc, m.rateSamples, m.time.durationSeconds, 'Read rate over time');
  badSectorMap(doc, m.source.sizeBytes, m.source.logicalSectorSize, m.readErrors, 'Unreadable sectors across the source');

  const manifestSha256 = sha256Hex(manifestBytes);
  const proof = o.caseDir ? ledgerProofFor(o.caseDir, (d, action) => action === 'acquire-complete' && (d.manifest as { sha256?: unknown } | undefined)?.sha256 === manifestSha256) : undefined;
  if (proof) {
    heading(doc, 'In the chain of custody');
    keyValues(doc, proof.facts);
  }

  heading(doc, 'Embedded records');
  const embedded: { name: string; data: Uint8Array; type: string }[] = [{ name: basename(manifestPath), data: manifestBytes, type: 'application/json' }, ...(proof?.embedded ?? [])];
  const windows = m.hashWindows ? hashWindowsFile(manifestPath, m.hashWindows) : undefined;
  if (windows?.data) embedded.push({ name: m.hashWindows!.file, data: windows.data, type: 'application/json' });
  embedRecords(doc, embedded, at, sha256Hex);
  if (windows?.problem) paragraph(doc, windows.problem, { color: windows.bad ? COLORS.bad : COLORS.muted, size: 9 });

  finishPages(doc, meta);
  return render(doc);
}

/** Host rows shared by the reports: the operating system by name, the kernel apart, its build string only as such. */
export function hostRows(h: AcquisitionManifest['host']): [string, string | undefined][] {
  return [
    ['Host', h.hostname],
    ['Operating system', h.os ?? 'not recorded (recorded by custos versions that read os-release)'],
    ['Kernel', `${h.platform} ${h.release} (${h.arch})`],
    ['Kernel build', h.osVersion],
    ['User', h.user],
  ];
}

function writeBlockSummary(m: AcquisitionManifest): string {
  const wb = m.writeBlock;
  if (wb.method === 'kernel-read-only-flag') return `kernel read-only flag set (at end: ${wb.readOnlyAtEnd ? 'set' : 'NOT SET'})`;
  if (wb.method === 'read-only-open') return 'regular file, opened read-only';
  return 'NONE: source mounted read-write (live acquisition)';
}

function resumeMismatchText(s: AcquisitionSession, n: number): string {
  const c = s.resumeCheck!;
  return `Session ${n} (resumed ${s.start}): the partial image of the earlier session(s), ${bytesText(c.partialBytes)}, no longer matched the source at byte ${grouped(c.mismatchAt ?? c.matchedBytes)}; the rest was acquired again from byte ${grouped(c.matchedBytes)}. The source changed between the sessions, or is not the same medium.`;
}

function sessionsSection(doc: PDFKit.PDFDocument, sessions: AcquisitionSession[]): void {
  heading(doc, 'Sessions', 2);
  paragraph(doc, `This acquisition was interrupted and resumed: it was acquired in ${plural(sessions.length, 'session')}. Each resumed session first compared the partial image with the source.`, { size: 9 });
  space(doc, 0.3);
  const { shown, more } = capped(sessions, MAX_ROWS);
  table(
    doc,
    [
      { header: '#', width: 18, align: 'right' },
      { header: 'Start (UTC)', width: 93 },
      { header: 'End (UTC)', width: 93 },
      { header: 'From byte', width: 68, align: 'right' },
      { header: 'To byte', width: 68, align: 'right' },
      { header: 'Outcome', width: 55 },
      { header: 'Resume check', width: 100 },
    ],
    shown.map((s, i) => [
      String(i + 1),
      s.start,
      s.end,
      String(s.fromOffset),
      String(s.toOffset),
      s.outcome,
      !s.resumeCheck ? (i === 0 ? 'first session' : 'not recorded') : s.resumeCheck.matched ? `matched ${grouped(s.resumeCheck.matchedBytes)} bytes` : `NO MATCH at byte ${grouped(s.resumeCheck.mismatchAt ?? s.resumeCheck.matchedBytes)}`,
    ]),
    { size: 7.5, colorFor: (row, col) => (col === 6 && String(row[6]).startsWith('NO MATCH') ? COLORS.bad : undefined) },
  );
  moreNote(doc, more, 'sessions', 'manifest');
  const checked = shown.map((s, i) => ({ s, n: i + 1 })).filter(({ s }) => s.resumeCheck);
  for (const { s, n } of checked.slice(0, 20)) {
    const c = s.resumeCheck!;
    if (c.matched) paragraph(doc, `Session ${n}: ${bytesText(c.matchedBytes)} of partial image matched the source; acquisition went on from byte ${grouped(c.matchedBytes)}.`, { size: 9, color: COLORS.ok });
    else paragraph(doc, resumeMismatchText(s, n), { size: 9, color: COLORS.bad });
  }
}

/** Read-error ranges (first sector, count, byte offset, length), the first MAX_ROWS of them. */
function errorTable(doc: PDFKit.PDFDocument, errors: AcquisitionManifest['readErrors'], where: string): void {
  const { shown, more } = capped(errors, MAX_ROWS);
  table(
    doc,
    [{ header: 'First sector', width: 100, align: 'right' }, { header: 'Sectors', width: 70, align: 'right' }, { header: 'Byte offset', width: 130, align: 'right' }, { header: 'Length (bytes)', width: 110, align: 'right' }],
    shown.map((e) => [String(e.firstSector), String(e.sectorCount), String(e.offset), String(e.length)]),
  );
  moreNote(doc, more, 'ranges', where, COLORS.bad);
}

/** Each algorithm of a set and its digest, for one table cell. */
export function hashPairs(h: HashSet): Cell {
  return { pairs: Object.entries(h).map(([alg, hex]): [string, Value] => [LABELS[alg] ?? alg, hash(hex!)]) };
}

/** One row per algorithm: expected, computed, MATCH or MISMATCH. */
export function comparisonTable(doc: PDFKit.PDFDocument, expected: HashSet, computed: HashSet): void {
  const rows: Cell[][] = Object.entries(expected).map(([alg, e]) => {
    const c = computed[alg as keyof HashSet];
    return [LABELS[alg] ?? alg, { pairs: [['expected', hash(e!)], ['computed', c ? hash(c) : '(not computed)']] }, c === e ? 'MATCH' : 'MISMATCH'];
  });
  table(doc, [{ header: 'Algorithm', width: 55 }, { header: 'Values', width: 380 }, { header: 'Result', width: 60 }], rows, {
    colorFor: (row, col) => (col === 2 ? (row[2] === 'MATCH' ? COLORS.ok : COLORS.bad) : undefined),
  });
}

/**
 * The hash-windows file named by the manifest, to embed: only a plain file name beside the
 * manifest (a record must not make the report embed any other file), a regular file of bounded
 * size whose SHA-256 is the one recorded.
 */
function hashWindowsFile(manifestPath: string, w: NonNullable<AcquisitionManifest['hashWindows']>): { data?: Buffer; problem?: string; bad?: boolean } {
  if (w.file === '' || w.file === '.' || w.file === '..' || /[/\\\0]/.test(w.file)) {
    return { problem: `The hash-windows file is not embedded: the manifest names it "${w.file}", which is not a plain file name beside the manifest.`, bad: true };
  }
  let data: Buffer;
  try {
    data = readBoundedFile(join(dirname(manifestPath), w.file), 'hash-windows file');
  } catch (err) {
    if (!isCustosError(err)) throw err;
    return { problem: `The hash-windows file ${w.file} is not embedded: ${err.message}.` };
  }
  if (sha256Hex(data) !== w.sha256) {
    return { problem: `The hash-windows file ${w.file} beside the manifest is not embedded: its SHA-256 is not the one the manifest records (it was changed or replaced).`, bad: true };
  }
  return { data };
}
