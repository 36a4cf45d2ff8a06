/**
 * Shared page chrome and drawing primitives for custos reports (pdfkit): PDF/A-3b with embedded
 * DejaVu fonts, a header and a footer (generation time, "Page X of Y") on every page, summary
 * boxes, key/value rows, tables that break across pages with their header repeated, and
 * attachments.
 *
 * Every piece of text is laid out here before it is drawn (pdfkit's own line wrapper is never
 * used): record strings are cut short and made visible (control and invisible characters
 * escaped), lines break at spaces, after '/' in paths and after a hyphen only where a letter
 * follows (so ISO timestamps and sector ranges stay whole), and hashes only at whole fixed widths.
 * Blocks are measured first, so a heading always moves to the next page with the first lines of
 * what follows it, and no table ends a page on its header. Nothing here reads the clock or the
 * environment: the same inputs give the same bytes.
 */
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import { CustosError } from '../src/errors';

const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
export const FONTS = {
  sans: join(FONT_DIR, 'DejaVuSans.ttf'),
  bold: join(FONT_DIR, 'DejaVuSans-Bold.ttf'),
  mono: join(FONT_DIR, 'DejaVuSansMono.ttf'),
};
export type FontName = keyof typeof FONTS;

export const COLORS = { text: '#1a1a1a', muted: '#5f6368', rule: '#c8ccd0', band: '#f1f3f4', accent: '#1f4e79', ok: '#1e7b34', bad: '#b00020', warn: '#a15c00' };

const MARGIN = { top: 86, bottom: 72, left: 50, right: 50 };

/** How every hash (and signature) is set, wherever it stands: one font, one size, wrapped only at whole fixed widths. */
export const HASH_STYLE = { font: 'mono', size: 8 } as const satisfies { font: FontName; size: number };

/** How much of one record string a report shows; the rest is in the embedded record. */
export interface TextLimits {
  chars: number;
  lines: number;
}
export const LIMITS: TextLimits = { chars: 2000, lines: 40 };
export const CELL_LIMITS: TextLimits = { chars: 600, lines: 24 };
const SUMMARY_LIMITS: TextLimits = { chars: 240, lines: 4 };
const BANNER_LIMITS: TextLimits = { chars: 1200, lines: 12 };

export interface ReportMeta {
  /** e.g. "Acquisition report". */
  title: string;
  caseNumber?: string;
  evidenceNumber?: string;
  /** When this PDF was made (the footer says so on every page); distinct from the times in the records. */
  generatedAt: Date;
  tool: { name: string; version: string };
  author?: string;
  subject?: string;
}

export type Doc = PDFKit.PDFDocument;

/** A hash or signature: set in HASH_STYLE and wrapped only at whole fixed widths. */
export interface Hash {
  hash: string;
}
export const hash = (hex: string): Hash => ({ hash: hex });
/** A value: text, or a hash. */
export type Value = string | Hash;
/** Labelled values stacked in one table cell (e.g. algorithm and digest). */
export interface Pairs {
  pairs: [string, Value][];
}
/** A table cell: a value, labelled values, or values stacked one under the other (text over a hash). */
export type Cell = Value | Pairs | Value[];

const isHash = (v: unknown): v is Hash => typeof v === 'object' && v !== null && typeof (v as Hash).hash === 'string';
const isPairs = (v: unknown): v is Pairs => typeof v === 'object' && v !== null && Array.isArray((v as Pairs).pairs);

/** A new A4 PDF/A-3b document whose fonts are all embedded. */
export function newDocument(meta: ReportMeta): Doc {
  const info = (s: string) => printable(s, { chars: 200, lines: 1 }).replace(/\n/g, ' ');
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
      Title: info(`${meta.title}${meta.caseNumber ? ` — case ${meta.caseNumber}` : ''}${meta.evidenceNumber ? `, evidence ${meta.evidenceNumber}` : ''}`),
      Author: info(meta.author ?? ''),
      Subject: info(meta.subject ?? meta.title),
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
const atPageTop = (doc: Doc) => doc.y <= doc.page.margins.top + 0.5;

/** Starts a new page when fewer than `height` points remain (never on a page still empty, so a tall block cannot loop). */
export function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > bottomLimit(doc) && !atPageTop(doc)) doc.addPage();
}

// ---------------------------------------------------------------------------------------------
// Text: what is shown of a record string, and how it is broken into lines.

/**
 * Thousands separators, as everywhere in the reports. Beyond 2^53 a record's integer is no longer
 * exact once parsed, so it is written in e-notation and said to be approximate.
 */
export const grouped = (n: number) => (Math.abs(n) > Number.MAX_SAFE_INTEGER ? `${n.toPrecision(6)} (approximate: beyond exact integers)` : n.toLocaleString('en-US'));

/** Characters that would be invisible or reorder the line (controls, format characters such as bidi overrides, lone surrogates). */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/gu;

/** Code points in `s` (counted, not materialised: a record string may be 64 MiB). */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/**
 * A record string as a report shows it: invisible and reordering characters written out as
 * [U+XXXX], tabs as spaces, and at most `limits` characters and lines; a cut is said in the text,
 * with the full length, and the full text stays in the embedded record.
 */
export function printable(s: string, limits: TextLimits = LIMITS): string {
  let cut = false;
  let head = s;
  if (head.length > limits.chars) {
    head = head.slice(0, limits.chars);
    if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
    cut = true;
  }
  let lines = head.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > limits.lines) {
    lines = lines.slice(0, limits.lines);
    cut = true;
  }
  const shown = lines.map((l) => l.replace(/\t/g, ' ').replace(INVISIBLE, (ch) => `[U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)).join('\n');
  return cut ? `${shown} … (${grouped(codePoints(s))} characters; full text in the embedded record)` : shown;
}

/** Hex (or base64) split into lines of `perLine` whole characters, never hyphenated; each line a run of the digest. */
export function wrapHex(hex: string, perLine = 64): string {
  const parts: string[] = [];
  for (let i = 0; i < hex.length; i += perLine) parts.push(hex.slice(i, i + perLine));
  return parts.join('\n');
}

/** The widest whole fixed width (128, 64, 32, 16 or 8 characters) that fits `width` in HASH_STYLE; the whole string when it fits. */
function hashPerLine(doc: Doc, length: number, width: number): number {
  doc.font(HASH_STYLE.font).fontSize(HASH_STYLE.size);
  const charWidth = doc.widthOfString('0');
  if (length * charWidth <= width) return Math.max(length, 1);
  for (const n of [128, 64, 32, 16, 8]) if (n * charWidth <= width) return n;
  return 4;
}

/**
 * Where a line may break after position i (the character at i stays on the line). In a word that
 * holds a '/' (a path) only after each '/'; elsewhere after spaces, and after a hyphen only when a
 * letter follows it, so ISO timestamps (2026-03-14), ranges (10-20) and negative numbers stay whole.
 */
function breakAfter(text: string, i: number, inPath: boolean): boolean {
  const c = text[i]!;
  const next = text[i + 1];
  if (next === undefined) return true;
  if (c === ' ') return next !== ' ';
  if (c === '/' || c === '\\') return next !== '/' && next !== ' ';
  if (c === '-' && !inPath) return /\p{L}/u.test(next) && i > 0 && text[i - 1] !== ' ';
  return false;
}

/**
 * Lines of `text` that fit `width` in the font and size set on `doc`: breaks at spaces, after '/',
 * after a hyphen before a letter; a token wider than the line (a long path component, an absurd
 * record string) is cut at characters. The text should already be printable (bounded).
 */
export function wrapText(doc: Doc, text: string, width: number): string[] {
  const out: string[] = [];
  const room = width - 0.01;
  for (const para of text.split('\n')) {
    const segments: string[] = [];
    let start = 0;
    let inPath = false;
    for (let i = 0; i < para.length; i++) {
      if (i === 0 || para[i - 1] === ' ') {
        const end = para.indexOf(' ', i);
        inPath = para.slice(i, end < 0 ? undefined : end).includes('/');
      }
      if (breakAfter(para, i, inPath)) {
        segments.push(para.slice(start, i + 1));
        start = i + 1;
      }
    }
    if (start < para.length || segments.length === 0) segments.push(para.slice(start));
    let line = '';
    let lineWidth = 0;
    const flush = () => {
      out.push(line.trimEnd());
      line = '';
      lineWidth = 0;
    };
    for (const seg of segments) {
      const w = doc.widthOfString(seg);
      const visible = seg.endsWith(' ') ? doc.widthOfString(seg.trimEnd()) : w;
      if (line !== '' && lineWidth + visible > room) flush();
      if (line === '' && visible > room) {
        // Wider than a whole line: cut at characters (code points), as many as fit on each line.
        let piece = '';
        let pieceWidth = 0;
        for (const ch of seg.trimEnd()) {
          const cw = doc.widthOfString(ch);
          if (piece !== '' && pieceWidth + cw > room) {
            out.push(piece);
            piece = '';
            pieceWidth = 0;
          }
          piece += ch;
          pieceWidth += cw;
        }
        line = piece + (seg.endsWith(' ') ? ' ' : '');
        lineWidth = pieceWidth + (seg.endsWith(' ') ? doc.widthOfString(' ') : 0);
        continue;
      }
      line += seg;
      lineWidth += w;
    }
    flush();
  }
  return out;
}

/** Cuts a one-line label to `width`, ending it with "…" when it had to be cut. */
function fitLine(doc: Doc, s: string, width: number): string {
  if (doc.widthOfString(s) <= width) return s;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (doc.widthOfString(`${s.slice(0, mid)}…`) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${s.slice(0, lo)}…`;
}

// ---------------------------------------------------------------------------------------------
// Blocks: text measured and positioned before it is drawn.

interface Run {
  text: string;
  dx: number;
  dy: number;
  font: FontName;
  size: number;
  color: string;
  /** Line height: a block is split across pages only between lines. */
  height: number;
}
interface Block {
  runs: Run[];
  height: number;
}
interface Style {
  font: FontName;
  size: number;
  color?: string;
  align?: 'left' | 'right';
  limits?: TextLimits;
}

function lineHeight(doc: Doc, font: FontName, size: number): number {
  return doc.font(font).fontSize(size).currentLineHeight(true);
}

function textBlock(doc: Doc, s: string, width: number, st: Style): Block {
  const shown = printable(s, st.limits ?? LIMITS);
  doc.font(st.font).fontSize(st.size);
  const lh = doc.currentLineHeight(true);
  const lines = wrapText(doc, shown, width);
  const runs = lines.map((text, i) => ({
    text,
    dx: st.align === 'right' ? Math.max(0, width - doc.widthOfString(text)) : 0,
    dy: i * lh,
    font: st.font,
    size: st.size,
    color: st.color ?? COLORS.text,
    height: lh,
  }));
  return { runs, height: lines.length * lh };
}

/** A hash in HASH_STYLE, in lines of whole fixed widths; anything that is not a digest or signature is set as text. */
function hashBlock(doc: Doc, h: string, width: number, color: string, align: 'left' | 'right' = 'left'): Block {
  // A digest, a signature (base64), or a digest's first digits ending in "…".
  if (!/^[0-9A-Za-z+/=]+…?$/.test(h) || h.length > 4096) return textBlock(doc, h, width, { font: HASH_STYLE.font, size: HASH_STYLE.size, color, align });
  const per = hashPerLine(doc, h.length, width);
  const lh = lineHeight(doc, HASH_STYLE.font, HASH_STYLE.size);
  const lines = wrapHex(h, per).split('\n');
  const runs = lines.map((text, i) => ({ text, dx: align === 'right' ? Math.max(0, width - doc.widthOfString(text)) : 0, dy: i * lh, font: HASH_STYLE.font as FontName, size: HASH_STYLE.size, color, height: lh }));
  return { runs, height: lines.length * lh };
}

function valueBlock(doc: Doc, v: Value, width: number, st: Style): Block {
  return isHash(v) ? hashBlock(doc, v.hash, width, st.color ?? COLORS.text, st.align) : textBlock(doc, v, width, st);
}

const PAIR_LABEL = 48;

function pairsBlock(doc: Doc, p: Pairs, width: number, st: Style): Block {
  const runs: Run[] = [];
  let y = 0;
  for (const [label, value] of p.pairs.slice(0, 32)) {
    const l = textBlock(doc, label, PAIR_LABEL - 4, { ...st, font: st.font === 'mono' ? 'sans' : st.font, color: COLORS.muted, align: 'left', limits: { chars: 40, lines: 2 } });
    const v = valueBlock(doc, value, width - PAIR_LABEL, { ...st, align: 'left' });
    for (const r of l.runs) runs.push({ ...r, dy: r.dy + y });
    for (const r of v.runs) runs.push({ ...r, dx: r.dx + PAIR_LABEL, dy: r.dy + y });
    y += Math.max(l.height, v.height) + 1;
  }
  return { runs, height: Math.max(0, y - 1) };
}

function cellBlock(doc: Doc, c: Cell, width: number, st: Style, mono: boolean): Block {
  if (Array.isArray(c)) {
    const runs: Run[] = [];
    let y = 0;
    for (const v of c.slice(0, 16)) {
      const b = cellBlock(doc, v, width, st, mono);
      for (const r of b.runs) runs.push({ ...r, dy: r.dy + y });
      y += b.height;
    }
    return { runs, height: y };
  }
  if (isPairs(c)) return pairsBlock(doc, c, width, st);
  if (isHash(c)) return hashBlock(doc, c.hash, width, st.color ?? COLORS.text, st.align);
  if (mono) {
    // A hash column: each line of the cell is a digest (or a dash), wrapped only at whole widths.
    const runs: Run[] = [];
    let y = 0;
    for (const line of String(c).split('\n').slice(0, 16)) {
      const b = hashBlock(doc, line, width, st.color ?? COLORS.text, st.align);
      for (const r of b.runs) runs.push({ ...r, dy: r.dy + y });
      y += b.height;
    }
    return { runs, height: y };
  }
  return textBlock(doc, c, width, st);
}

function drawRuns(doc: Doc, runs: Run[], x: number, y: number): void {
  for (const r of runs) {
    if (r.text === '') continue;
    doc.font(r.font).fontSize(r.size).fillColor(r.color).text(r.text, x + r.dx, y + r.dy, { lineBreak: false });
  }
}

/** Draws a block line by line, continuing on a new page when a line no longer fits. */
function drawFlowing(doc: Doc, b: Block, x: number): void {
  let y = doc.y;
  let shift = 0;
  for (const r of b.runs) {
    if (y + r.dy - shift + r.height > bottomLimit(doc) && y + r.dy - shift > doc.page.margins.top + 0.5) {
      doc.addPage();
      shift = r.dy;
      y = doc.y;
    }
    drawRuns(doc, [{ ...r, dy: 0 }], x, y + r.dy - shift);
  }
  doc.y = y + b.height - shift;
}

// ---------------------------------------------------------------------------------------------
// Headings are kept with what follows them: they wait until the next block is placed.

interface PendingHeading {
  text: string;
  level: 1 | 2;
}
const pendingHeadings = new WeakMap<Doc, PendingHeading[]>();

function headingLayout(doc: Doc, h: PendingHeading, first: boolean): { height: number; draw: () => void } {
  const width = contentWidth(doc);
  const before = first && atPageTop(doc) ? 0 : h.level === 1 ? 7 : 4.7;
  const b = textBlock(doc, h.text, width, { font: 'bold', size: h.level === 1 ? 15 : 11.5, color: COLORS.accent, limits: { chars: 300, lines: 3 } });
  const after = h.level === 1 ? 8 : 2.7;
  return {
    height: before + b.height + after,
    draw: () => {
      const x = doc.page.margins.left;
      const y = doc.y + before;
      drawRuns(doc, b.runs, x, y);
      if (h.level === 1) {
        const ry = y + b.height + 2;
        doc.moveTo(x, ry).lineTo(x + width, ry).lineWidth(0.8).strokeColor(COLORS.accent).stroke();
      }
      doc.y = y + b.height + after;
    },
  };
}

/** A section heading; it is drawn with the first block after it, on the same page. */
export function heading(doc: Doc, text: string, level: 1 | 2 = 1): void {
  const list = pendingHeadings.get(doc) ?? [];
  list.push({ text, level });
  pendingHeadings.set(doc, list);
}

/**
 * Places the next block: makes room for the headings waiting to be drawn plus `height` points of
 * the block (its first lines or rows), on a new page if need be, then draws those headings.
 */
export function begin(doc: Doc, height: number): void {
  const list = pendingHeadings.get(doc) ?? [];
  pendingHeadings.delete(doc);
  if (list.length === 0) {
    if (height > 0) ensureSpace(doc, height);
    return;
  }
  const measure = () => list.map((h, i) => headingLayout(doc, h, i === 0));
  let layouts = measure();
  const total = layouts.reduce((n, l) => n + l.height, 0) + height;
  if (doc.y + total > bottomLimit(doc) && !atPageTop(doc)) {
    doc.addPage();
    layouts = measure();
  }
  for (const l of layouts) l.draw();
  doc.font('sans').fontSize(10).fillColor(COLORS.text);
}

/** Vertical space, as pdfkit's moveDown at 10 pt. */
export function space(doc: Doc, lines = 0.5): void {
  doc.y += lines * 11.64;
}

// ---------------------------------------------------------------------------------------------
// Blocks of the reports.

/** A report's title and the line under it, at the top of page 1. */
export function title(doc: Doc, text: string, subtitle?: string): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc);
  const t = textBlock(doc, text, w, { font: 'bold', size: 20, color: COLORS.accent, limits: { chars: 100, lines: 2 } });
  begin(doc, t.height);
  drawRuns(doc, t.runs, x, doc.y);
  doc.y += t.height;
  if (subtitle) paragraph(doc, subtitle, { color: COLORS.muted, limits: { chars: 300, lines: 3 } });
  space(doc, 0.6);
}

/** A paragraph, broken over pages between lines when it must be. */
export function paragraph(doc: Doc, text: string, o: { color?: string; size?: number; font?: FontName; limits?: TextLimits } = {}): void {
  const b = textBlock(doc, text, contentWidth(doc), { font: o.font ?? 'sans', size: o.size ?? 10, color: o.color ?? COLORS.text, limits: o.limits });
  begin(doc, Math.min(b.height, 3 * (b.runs[0]?.height ?? 12)));
  drawFlowing(doc, b, doc.page.margins.left);
  doc.fillColor(COLORS.text);
}

const LABEL_WIDTH = 150;

/** Label / value rows; a value may wrap, the label stays in its column. Rows without a value are left out. */
export function keyValues(doc: Doc, rows: [string, Value | undefined][], o: { color?: string } = {}): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc) - LABEL_WIDTH;
  for (const [label, value] of rows) {
    if (value === undefined || value === '' || (isHash(value) && value.hash === '')) continue;
    const l = textBlock(doc, label, LABEL_WIDTH - 8, { font: 'bold', size: 9, color: COLORS.muted, limits: { chars: 80, lines: 3 } });
    const v = valueBlock(doc, value, w, { font: 'sans', size: 10, color: o.color ?? COLORS.text });
    const h = Math.max(l.height + 1, v.height, 12) + 3;
    if (h > bottomLimit(doc) - doc.page.margins.top) {
      // Taller than a page: the label, then the value flowing over pages.
      begin(doc, Math.min(h, 60));
      drawRuns(doc, l.runs, x, doc.y + 1);
      drawFlowing(doc, { runs: v.runs.map((r) => ({ ...r, dx: r.dx })), height: v.height }, x + LABEL_WIDTH);
      doc.y += 3;
      continue;
    }
    begin(doc, h);
    const y = doc.y;
    drawRuns(doc, l.runs, x, y + 1);
    drawRuns(doc, v.runs, x + LABEL_WIDTH, y);
    doc.y = y + h;
  }
}

/** Hashes of a set, each in full, in HASH_STYLE. */
export function hashRows(doc: Doc, hashes: Record<string, string | undefined>, labels: Record<string, string>): void {
  keyValues(
    doc,
    Object.entries(hashes).map(([alg, hex]) => [labels[alg] ?? alg.toUpperCase(), hex === undefined ? undefined : hash(hex)]),
  );
}

export interface Column {
  header: string;
  width: number;
  /** A column of hashes: each line of a cell in HASH_STYLE, wrapped only at whole fixed widths. */
  mono?: boolean;
  align?: 'left' | 'right';
}

/**
 * A table that continues across pages, repeating its header, with a light band on every other
 * row. It starts on a page with room for its header and first row, and a row never splits.
 * Callers cap the number of rows (see `capped`).
 */
export function table(
  doc: Doc,
  columns: Column[],
  rows: Cell[][],
  o: { size?: number; colorFor?: (row: Cell[], col: number, index: number) => string | undefined } = {},
): void {
  const size = o.size ?? 8.5;
  const x0 = doc.page.margins.left;
  const full = contentWidth(doc);
  const total = columns.reduce((n, c) => n + c.width, 0);
  const widths = columns.map((c) => (c.width * full) / total);
  const pad = 3;
  const header = columns.map((c, i) => textBlock(doc, c.header, widths[i]! - 2 * pad, { font: 'bold', size, color: '#ffffff', align: c.align, limits: { chars: 80, lines: 3 } }));
  const headerHeight = Math.max(...header.map((b) => b.height)) + 2 * pad;
  const layoutRow = (row: Cell[], r: number) => {
    const cells = columns.map((c, i) => {
      const cell = row[i] ?? '';
      const color = o.colorFor?.(row, i, r) ?? COLORS.text;
      return cellBlock(doc, cell, widths[i]! - 2 * pad, { font: 'sans', size, color, align: c.align, limits: CELL_LIMITS }, Boolean(c.mono));
    });
    return { cells, height: Math.max(...cells.map((b) => b.height), lineHeight(doc, 'sans', size)) + 2 * pad };
  };
  const drawHeader = () => {
    const y = doc.y;
    doc.rect(x0, y, full, headerHeight).fill(COLORS.accent);
    let x = x0;
    header.forEach((b, i) => {
      drawRuns(doc, b.runs, x + pad, y + pad);
      x += widths[i]!;
    });
    doc.y = y + headerHeight;
  };
  let first = rows.length > 0 ? layoutRow(rows[0]!, 0) : undefined;
  begin(doc, headerHeight + (first?.height ?? 0));
  drawHeader();
  rows.forEach((row, r) => {
    const laid = r === 0 && first ? first : layoutRow(row, r);
    first = undefined;
    if (doc.y + laid.height > bottomLimit(doc)) {
      doc.addPage();
      drawHeader();
    }
    const y = doc.y;
    if (r % 2 === 1) doc.rect(x0, y, full, laid.height).fill(COLORS.band);
    let x = x0;
    laid.cells.forEach((b, i) => {
      drawRuns(doc, b.runs, x + pad, y + pad);
      x += widths[i]!;
    });
    doc.y = y + laid.height;
  });
  doc.fillColor(COLORS.text);
  space(doc, 0.5);
}

/** At most `max` items, and how many were left out. */
export function capped<T>(items: readonly T[], max: number): { shown: T[]; more: number } {
  return items.length <= max ? { shown: items.slice(), more: 0 } : { shown: items.slice(0, max), more: items.length - max };
}

/** The line under a capped table: how many more there are, and where they all are. */
export function moreNote(doc: Doc, more: number, what: string, where: string, color: string = COLORS.text): void {
  if (more > 0) paragraph(doc, `… and ${grouped(more)} more ${what}, all listed in the embedded ${where}.`, { size: 9, color });
}

/** The ten-second summary on page 1: a framed box of the facts that matter most. */
export function summaryBox(doc: Doc, heading: string, rows: [string, Value, string?][]): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc);
  const pad = 10;
  const valueWidth = w - 2 * pad - 130;
  const t = textBlock(doc, heading, w - 2 * pad, { font: 'bold', size: 11, color: COLORS.accent });
  const laid = rows.map(([k, v, color]) => {
    const l = textBlock(doc, k, 125, { font: 'bold', size: 9, color: COLORS.muted, limits: { chars: 60, lines: 2 } });
    const b = valueBlock(doc, v, valueWidth, { font: 'bold', size: 9.5, color: color ?? COLORS.text, limits: SUMMARY_LIMITS });
    return { l, b, height: Math.max(l.height + 1, b.height, 12) + 4 };
  });
  const h = pad + t.height + 6 + laid.reduce((n, r) => n + r.height, 0) + pad;
  begin(doc, h);
  const y = doc.y;
  doc.rect(x, y, w, h).lineWidth(1.2).fillAndStroke(COLORS.band, COLORS.accent);
  drawRuns(doc, t.runs, x + pad, y + pad);
  let cy = y + pad + t.height + 6;
  for (const r of laid) {
    drawRuns(doc, r.l.runs, x + pad, cy + 1);
    drawRuns(doc, r.b.runs, x + pad + 130, cy);
    cy += r.height;
  }
  doc.fillColor(COLORS.text);
  doc.y = y + h + 10;
}

/** A full-width coloured banner (a verdict or a warning that must not be missed). */
export function banner(doc: Doc, text: string, color: string, detail?: string): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc);
  const t = textBlock(doc, text, w - 24, { font: 'bold', size: 13, color: '#ffffff', limits: { chars: 200, lines: 3 } });
  const dt = detail ? textBlock(doc, detail, w - 24, { font: 'sans', size: 9.5, color: '#ffffff', limits: BANNER_LIMITS }) : undefined;
  const h = t.height + (dt ? dt.height + 4 : 0) + 20;
  begin(doc, h);
  const y = doc.y;
  doc.rect(x, y, w, h).fill(color);
  drawRuns(doc, t.runs, x + 12, y + 10);
  if (dt) drawRuns(doc, dt.runs, x + 12, y + 10 + t.height + 4);
  doc.fillColor(COLORS.text);
  doc.y = y + h + 10;
}

/**
 * The generation time the report commands state: SOURCE_DATE_EPOCH when set (seconds since
 * 1970, for reproducible output: https://reproducible-builds.org/specs/source-date-epoch/), else
 * the clock. A value that is not a whole number of seconds is refused, as the specification asks.
 */
export function generationTime(env: NodeJS.ProcessEnv, clock: () => Date): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return clock();
  const at = /^\d{1,15}$/.test(epoch) ? new Date(Number(epoch) * 1000) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    throw new CustosError('USAGE', `SOURCE_DATE_EPOCH=${JSON.stringify(epoch.slice(0, 40))} is not a number of seconds since 1970`, {
      hint: 'Set it to the output of date +%s (e.g. SOURCE_DATE_EPOCH=$(date +%s)), or unset it to use the clock.',
    });
  }
  return at;
}

/** An instant as the reports write it: ISO 8601 UTC to the second. */
export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Header (report, case, evidence) and footer (when this PDF was generated, by what, page X of Y) on every page. */
export function finishPages(doc: Doc, meta: ReportMeta): void {
  begin(doc, 0);
  const range = doc.bufferedPageRange();
  const stamp = isoSeconds(meta.generatedAt);
  const ids = [meta.caseNumber ? `Case ${meta.caseNumber}` : undefined, meta.evidenceNumber ? `Evidence ${meta.evidenceNumber}` : undefined]
    .filter(Boolean)
    .map((s) => printable(s!, { chars: 120, lines: 1 }).replace(/\n/g, ' '))
    .join('   ·   ');
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    // The footer stands below the body's bottom margin: with the margin in place pdfkit would start a new page.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const { left, right } = doc.page.margins;
    const w = doc.page.width - left - right;
    doc.font('bold').fontSize(9).fillColor(COLORS.accent);
    const t = fitLine(doc, meta.title.toUpperCase(), w * 0.4);
    doc.text(t, left, 36, { lineBreak: false });
    doc.font('sans').fontSize(9).fillColor(COLORS.text);
    const right2 = fitLine(doc, ids, w * 0.58);
    doc.text(right2, left + w - doc.widthOfString(right2), 36, { lineBreak: false });
    doc.moveTo(left, 52).lineTo(left + w, 52).lineWidth(0.6).strokeColor(COLORS.rule).stroke();
    const fy = doc.page.height - 46;
    doc.moveTo(left, fy - 6).lineTo(left + w, fy - 6).lineWidth(0.6).strokeColor(COLORS.rule).stroke();
    doc.font('sans').fontSize(8).fillColor(COLORS.muted);
    doc.text(`PDF generated ${stamp} by ${meta.tool.name} ${meta.tool.version}`, left, fy, { lineBreak: false });
    const page = `Page ${i + 1} of ${range.count}`;
    doc.text(page, left + w - doc.widthOfString(page), fy, { lineBreak: false });
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
  } as Parameters<Doc['file']>[1]);
}

/** Attaches records and lists them with their SHA-256, so a reader can match each to its file. */
export function embedRecords(doc: Doc, files: { name: string; data: Uint8Array; type: string }[], at: Date, sha256: (d: Uint8Array) => string): void {
  paragraph(doc, 'Attached to this PDF (PDF/A-3 associated files), so that a machine can check every figure in it:', { size: 9 });
  space(doc, 0.3);
  table(
    doc,
    [{ header: 'Attached file, its size and SHA-256', width: 495 }],
    files.map((f) => [{ pairs: [['File', hash(f.name)], ['Size', `${grouped(f.data.length)} bytes`], ['SHA-256', hash(sha256(f.data))]] }]),
  );
  for (const f of files) attach(doc, f.name, f.data, { type: f.type, description: `custos record: ${f.name}`, at });
}

/** Renders the document into a Buffer. */
export function render(doc: Doc): Promise<Buffer> {
  if (pendingHeadings.has(doc)) begin(doc, 0);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Numbers on axes.

/** Axis ticks at round values (1, 2 or 5 × 10^n) from 0 to the first at or above `max`; [0] when there is nothing to scale. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  if (!step || !(step > 0) || !Number.isFinite(step)) return [0, max];
  const ticks: number[] = [];
  // The last tick is at or above max, so that the data fits inside the axis.
  for (let k = 0; k <= 4 * count + 2; k++) {
    ticks.push(Number((k * step).toPrecision(12)));
    if (k * step >= max - step * 1e-9) break;
  }
  return ticks;
}

const SUFFIXES: [number, string, string][] = [
  [1e18, 'E', '10¹⁸'],
  [1e15, 'P', '10¹⁵'],
  [1e12, 'T', '10¹²'],
  [1e9, 'G', 'billion'],
  [1e6, 'M', 'million'],
  [1e3, 'k', 'thousand'],
];

/**
 * Tick labels of one axis, in one unit: as they are up to 9,999; beyond, every label in the unit
 * of the largest (k, M, G, T, P or E, three significant digits), which `unit` then names for the
 * caption; from 10²¹ on, in e-notation.
 */
export function axisLabels(ticks: readonly number[]): { labels: string[]; unit?: string } {
  let end = 0;
  for (const t of ticks) if (Math.abs(t) > end) end = Math.abs(t);
  if (!Number.isFinite(end) || end < 10_000) return { labels: ticks.map((t) => String(Number(t.toPrecision(4)))) };
  if (end >= 1e21) return { labels: ticks.map((t) => (t === 0 ? '0' : t.toExponential(2))) };
  const [unit, suffix, name] = SUFFIXES.find(([u]) => end >= u)!;
  return { labels: ticks.map((t) => (t === 0 ? '0' : `${Number((t / unit).toPrecision(3))}${suffix}`)), unit: `${suffix} = ${name}` };
}

/**
 * Which labels to draw so that none collide: from the left, each label that clears the one
 * before it by `gap` points; the last (the end of the axis) is always kept, at the cost of the
 * one before it. `boxes` are [left, right] in points, in axis order.
 */
export function thinLabels(boxes: [number, number][], gap = 4): boolean[] {
  const keep = boxes.map(() => false);
  if (boxes.length === 0) return keep;
  const last = boxes.length - 1;
  keep[last] = true;
  let right = -Infinity;
  for (let i = 0; i < last; i++) {
    const [l, r] = boxes[i]!;
    if (l >= right + gap && r + gap <= boxes[last]![0]) {
      keep[i] = true;
      right = r;
    }
  }
  return keep;
}
