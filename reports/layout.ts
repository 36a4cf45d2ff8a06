/**
 * Shared page chrome and drawing primitives for custos reports (pdfkit): PDF/A-3b with embedded
 * DejaVu fonts, a header and a "Page X of Y" footer on every page, summary boxes, key/value
 * rows, hashes in full (monospaced, wrapped at whole characters), tables that break across
 * pages with their header repeated, and attachments. Everything drawn comes from the caller's
 * records: no clock, no randomness, so the same inputs give the same bytes.
 */
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';

const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
export const FONTS = {
  sans: join(FONT_DIR, 'DejaVuSans.ttf'),
  bold: join(FONT_DIR, 'DejaVuSans-Bold.ttf'),
  mono: join(FONT_DIR, 'DejaVuSansMono.ttf'),
};

export const COLORS = { text: '#1a1a1a', muted: '#5f6368', rule: '#c8ccd0', band: '#f1f3f4', accent: '#1f4e79', ok: '#1e7b34', bad: '#b00020' };

const MARGIN = { top: 86, bottom: 72, left: 50, right: 50 };

export interface ReportMeta {
  /** e.g. "Acquisition report". */
  title: string;
  caseNumber?: string;
  evidenceNumber?: string;
  /** The instant the report states as its generation time (from the records). */
  generatedAt: Date;
  tool: { name: string; version: string };
  author?: string;
  subject?: string;
}

export type Doc = PDFKit.PDFDocument;

/** A new A4 PDF/A-3b document whose fonts are all embedded. */
export function newDocument(meta: ReportMeta): Doc {
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    subset: 'PDF/A-3b',
    pdfVersion: '1.7',
    lang: 'en',
    displayTitle: true,
    autoFirstPage: true,
    info: {
      Title: `${meta.title}${meta.caseNumber ? ` — case ${meta.caseNumber}` : ''}${meta.evidenceNumber ? `, evidence ${meta.evidenceNumber}` : ''}`,
      Author: meta.author ?? '',
      Subject: meta.subject ?? meta.title,
      Creator: `${meta.tool.name} ${meta.tool.version}`,
      Producer: `${meta.tool.name} ${meta.tool.version} (pdfkit)`,
      CreationDate: meta.generatedAt,
      ModDate: meta.generatedAt,
    },
  } as PDFKit.PDFDocumentOptions);
  // Registered names are cached by pdfkit; passing the same file as the constructor's font
  // would defeat that cache and re-parse the TTF on every font switch (300x slower on long tables).
  // The constructor's Helvetica is never drawn with, so it is never written (PDF/A stays clean).
  doc.registerFont('sans', FONTS.sans);
  doc.registerFont('bold', FONTS.bold);
  doc.registerFont('mono', FONTS.mono);
  doc.font('sans').fontSize(10).fillColor(COLORS.text);
  return doc;
}

export const contentWidth = (doc: Doc) => doc.page.width - doc.page.margins.left - doc.page.margins.right;
const bottomLimit = (doc: Doc) => doc.page.height - doc.page.margins.bottom;

/** Starts a new page when fewer than `height` points remain. */
export function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > bottomLimit(doc)) doc.addPage();
}

export function heading(doc: Doc, text: string, level: 1 | 2 = 1): void {
  ensureSpace(doc, level === 1 ? 60 : 40);
  doc.moveDown(level === 1 ? 0.6 : 0.4);
  doc.font('bold').fontSize(level === 1 ? 15 : 11.5).fillColor(COLORS.accent).text(text, doc.page.margins.left, doc.y, { width: contentWidth(doc) });
  if (level === 1) {
    const y = doc.y + 2;
    doc.moveTo(doc.page.margins.left, y).lineTo(doc.page.margins.left + contentWidth(doc), y).lineWidth(0.8).strokeColor(COLORS.accent).stroke();
    doc.y = y + 6;
  } else doc.moveDown(0.2);
  doc.font('sans').fontSize(10).fillColor(COLORS.text);
}

export function paragraph(doc: Doc, text: string, o: { color?: string; size?: number } = {}): void {
  doc.font('sans').fontSize(o.size ?? 10).fillColor(o.color ?? COLORS.text).text(text, doc.page.margins.left, doc.y, { width: contentWidth(doc) });
  doc.fillColor(COLORS.text);
}

const LABEL_WIDTH = 150;

/** Label / value rows; a value may wrap, the label stays in its column. */
export function keyValues(doc: Doc, rows: [string, string | undefined][], o: { mono?: boolean } = {}): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc) - LABEL_WIDTH;
  for (const [label, value] of rows) {
    if (value === undefined || value === '') continue;
    doc.font(o.mono ? 'mono' : 'sans').fontSize(o.mono ? 8.5 : 10);
    const h = Math.max(doc.heightOfString(value, { width: w }), 12) + 3;
    ensureSpace(doc, h);
    const y = doc.y;
    doc.font('bold').fontSize(9).fillColor(COLORS.muted).text(label, x, y + 1, { width: LABEL_WIDTH - 8 });
    doc.font(o.mono ? 'mono' : 'sans').fontSize(o.mono ? 8.5 : 10).fillColor(COLORS.text).text(value, x + LABEL_WIDTH, y, { width: w });
    doc.y = Math.max(doc.y, y + h);
  }
}

/** Hex split into lines of whole characters, never hyphenated; each line a run of the digest. */
export function wrapHex(hex: string, perLine = 64): string {
  const parts: string[] = [];
  for (let i = 0; i < hex.length; i += perLine) parts.push(hex.slice(i, i + perLine));
  return parts.join('\n');
}

/** Every hash in full, monospaced. */
export function hashRows(doc: Doc, hashes: Record<string, string | undefined>, labels: Record<string, string>): void {
  keyValues(
    doc,
    Object.entries(hashes).map(([alg, hex]) => [labels[alg] ?? alg.toUpperCase(), hex === undefined ? undefined : wrapHex(hex)]),
    { mono: true },
  );
}

export interface Column {
  header: string;
  width: number;
  mono?: boolean;
  align?: 'left' | 'right';
}

/** A table that continues across pages, repeating its header, with a light band on every other row. */
export function table(doc: Doc, columns: Column[], rows: string[][], o: { size?: number; colorFor?: (row: string[], col: number) => string | undefined } = {}): void {
  const size = o.size ?? 8.5;
  const x0 = doc.page.margins.left;
  const total = columns.reduce((n, c) => n + c.width, 0);
  const scale = contentWidth(doc) / total;
  const widths = columns.map((c) => c.width * scale);
  const pad = 3;
  const drawHeader = () => {
    doc.font('bold').fontSize(size);
    const h = Math.max(...columns.map((c, i) => doc.heightOfString(c.header, { width: widths[i]! - 2 * pad }))) + 2 * pad;
    ensureSpace(doc, h + 14);
    const y = doc.y;
    doc.rect(x0, y, contentWidth(doc), h).fill(COLORS.accent);
    let x = x0;
    columns.forEach((c, i) => {
      doc.fillColor('#ffffff').text(c.header, x + pad, y + pad, { width: widths[i]! - 2 * pad, align: c.align ?? 'left' });
      x += widths[i]!;
    });
    doc.y = y + h;
    doc.fillColor(COLORS.text);
  };
  drawHeader();
  rows.forEach((row, r) => {
    const h =
      Math.max(
        ...row.map((cell, i) => {
          doc.font(columns[i]!.mono ? 'mono' : 'sans').fontSize(size);
          return doc.heightOfString(cell || ' ', { width: widths[i]! - 2 * pad });
        }),
      ) +
      2 * pad;
    if (doc.y + h > bottomLimit(doc)) {
      doc.addPage();
      drawHeader();
    }
    const y = doc.y;
    if (r % 2 === 1) doc.rect(x0, y, contentWidth(doc), h).fill(COLORS.band);
    let x = x0;
    row.forEach((cell, i) => {
      doc.font(columns[i]!.mono ? 'mono' : 'sans').fontSize(size).fillColor(o.colorFor?.(row, i) ?? COLORS.text);
      doc.text(cell, x + pad, y + pad, { width: widths[i]! - 2 * pad, align: columns[i]!.align ?? 'left' });
      x += widths[i]!;
    });
    doc.y = y + h;
  });
  doc.fillColor(COLORS.text);
  doc.moveDown(0.5);
}

/** The ten-second summary on page 1: a framed box of the facts that matter most. */
export function summaryBox(doc: Doc, title: string, rows: [string, string, string?][]): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc);
  const y0 = doc.y;
  const pad = 10;
  doc.font('bold').fontSize(11);
  let h = pad + doc.heightOfString(title, { width: w - 2 * pad }) + 6;
  for (const [, v] of rows) {
    doc.font(v.length > 40 && /^[0-9a-f\n]+$/.test(v) ? 'mono' : 'sans').fontSize(9.5);
    h += Math.max(doc.heightOfString(v, { width: w - 2 * pad - 130 }), 12) + 4;
  }
  h += pad;
  ensureSpace(doc, h);
  const y = doc.y;
  doc.rect(x, y, w, h).lineWidth(1.2).fillAndStroke(COLORS.band, COLORS.accent);
  doc.fillColor(COLORS.accent).font('bold').fontSize(11).text(title, x + pad, y + pad, { width: w - 2 * pad });
  let cy = doc.y + 6;
  for (const [k, v, color] of rows) {
    doc.font('bold').fontSize(9).fillColor(COLORS.muted).text(k, x + pad, cy + 1, { width: 125 });
    const mono = v.length > 40 && /^[0-9a-f\n]+$/.test(v);
    doc.font(mono ? 'mono' : 'bold').fontSize(mono ? 8.5 : 9.5).fillColor(color ?? COLORS.text).text(v, x + pad + 130, cy, { width: w - 2 * pad - 130 });
    cy = Math.max(doc.y, cy + 12) + 4;
  }
  doc.fillColor(COLORS.text);
  doc.y = Math.max(y0, y + h) + 10;
}

/** A full-width coloured banner (a verdict that must not be missed). */
export function banner(doc: Doc, text: string, color: string, detail?: string): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc);
  doc.font('bold').fontSize(13);
  const h1 = doc.heightOfString(text, { width: w - 24 });
  doc.font('sans').fontSize(9.5);
  const h2 = detail ? doc.heightOfString(detail, { width: w - 24 }) + 4 : 0;
  const h = h1 + h2 + 20;
  ensureSpace(doc, h);
  const y = doc.y;
  doc.rect(x, y, w, h).fill(color);
  doc.fillColor('#ffffff').font('bold').fontSize(13).text(text, x + 12, y + 10, { width: w - 24 });
  if (detail) doc.font('sans').fontSize(9.5).text(detail, x + 12, doc.y + 4, { width: w - 24 });
  doc.fillColor(COLORS.text);
  doc.y = y + h + 10;
}

/** Header (report, case, evidence) and footer (page X of Y, generation time, tool) on every page. */
export function finishPages(doc: Doc, meta: ReportMeta): void {
  const range = doc.bufferedPageRange();
  const stamp = meta.generatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    const { left, right } = doc.page.margins;
    const w = doc.page.width - left - right;
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font('bold').fontSize(9).fillColor(COLORS.accent).text(meta.title.toUpperCase(), left, 36, { width: w / 2, lineBreak: false });
    const ids = [meta.caseNumber ? `Case ${meta.caseNumber}` : undefined, meta.evidenceNumber ? `Evidence ${meta.evidenceNumber}` : undefined].filter(Boolean).join('   ·   ');
    doc.font('sans').fontSize(9).fillColor(COLORS.text).text(ids || ' ', left + w / 2, 36, { width: w / 2, align: 'right', lineBreak: false });
    doc.moveTo(left, 52).lineTo(left + w, 52).lineWidth(0.6).strokeColor(COLORS.rule).stroke();
    const fy = doc.page.height - 46;
    doc.moveTo(left, fy - 6).lineTo(left + w, fy - 6).lineWidth(0.6).strokeColor(COLORS.rule).stroke();
    doc.font('sans').fontSize(8).fillColor(COLORS.muted).text(`Generated ${stamp} by ${meta.tool.name} ${meta.tool.version}`, left, fy, { width: w * 0.7, lineBreak: false });
    doc.text(`Page ${i + 1} of ${range.count}`, left + w * 0.7, fy, { width: w * 0.3, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.fillColor(COLORS.text);
}

/** An embedded file (PDF/A-3 associated file) with fixed dates, so the output stays reproducible. */
export function attach(doc: Doc, name: string, data: Uint8Array, o: { type: string; description: string; at: Date; relationship?: string }): void {
  doc.file(Buffer.from(data), {
    name,
    type: o.type,
    description: o.description,
    relationship: o.relationship ?? 'Source',
    creationDate: o.at,
    modifiedDate: o.at,
  } as Parameters<Doc["file"]>[1]);
}

/** Attaches records and lists them with their SHA-256, so a reader can match each to its file. */
export function embedRecords(doc: Doc, files: { name: string; data: Uint8Array; type: string }[], at: Date, sha256: (d: Uint8Array) => string): void {
  paragraph(doc, 'Attached to this PDF (PDF/A-3 associated files), so that a machine can check every figure in it:', { size: 9 });
  doc.moveDown(0.3);
  table(doc, [{ header: 'Attached file and its SHA-256', width: 495, mono: true }], files.map((f) => [`${f.name}\nSHA-256 ${sha256(f.data)}`]), { size: 7.5 });
  for (const f of files) attach(doc, f.name, f.data, { type: f.type, description: `custos record: ${f.name}`, at });
}

/** Renders the document into a Buffer. */
export function render(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.end();
  });
}

/** Axis ticks at round values: 1, 2 or 5 × 10^n. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  // The last tick is at or above max, so that the data fits inside the axis.
  const ticks: number[] = [];
  for (let t = 0; ticks.length === 0 || ticks[ticks.length - 1]! < max - step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}
