import { deflateSync } from 'node:zlib';

/** What the header sections say about the acquisition (EWF spec: "Header2 values", "Header values"). */
export interface E01HeaderInfo {
  description?: string;
  caseNumber?: string;
  evidenceNumber?: string;
  examiner?: string;
  notes?: string;
  model?: string;
  serial?: string;
  /** Acquiring software version (EnCase allows 11 characters). */
  version: string;
  /** Acquiring platform, e.g. "Linux". */
  os: string;
  acquired: Date;
  system: Date;
  /** Minutes east of UTC, for the local date in the ASCII header. */
  utcOffsetMinutes: number;
}

/** Values are tab-separated lines: tabs and line breaks inside a value would corrupt the table. */
const clean = (s: string | undefined) => (s ?? '').replace(/[\t\r\n]+/g, ' ');
const epoch = (d: Date) => String(Math.floor(d.getTime() / 1000));

/** EnCase 6 header2: three categories (main, srce, sub), UTF-16LE with BOM, zlib-compressed. */
export function header2Section(h: E01HeaderInfo): Buffer {
  const main = [h.description, h.caseNumber, h.evidenceNumber, h.examiner, h.notes, h.model, h.serial, h.version, h.os].map(clean);
  const text =
    '3\nmain\na\tc\tn\te\tt\tmd\tsn\tav\tov\tm\tu\tp\tdc\n' +
    `${main.join('\t')}\t${epoch(h.acquired)}\t${epoch(h.system)}\t0\t\n\n` +
    'srce\n0\t1\np\tn\tid\tev\ttb\tlo\tpo\tah\tgu\taq\n0\t0\n\t\t\t\t\t-1\t-1\t\t\t\n\n' +
    'sub\n0\t1\np\tn\tid\tnu\tco\tgu\n0\t0\n\t\t\t\t1\t\n\n';
  return deflateSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
}

/** "2026 3 14 10 26 53": EnCase's local date form in the ASCII header. */
function encaseDate(d: Date, offsetMinutes: number): string {
  const l = new Date(d.getTime() + offsetMinutes * 60_000);
  return [l.getUTCFullYear(), l.getUTCMonth() + 1, l.getUTCDate(), l.getUTCHours(), l.getUTCMinutes(), l.getUTCSeconds()].join(' ');
}

/** EnCase 4-7 header: one category, ASCII (other characters become '?'), CR LF lines, zlib-compressed. */
export function headerSection(h: E01HeaderInfo): Buffer {
  const ascii = (s: string | undefined) => clean(s).replace(/[^\x20-\x7e]/g, '?');
  const values = [h.caseNumber, h.evidenceNumber, h.description, h.examiner, h.notes, h.version, h.os].map(ascii);
  const text = `1\r\nmain\r\nc\tn\ta\te\tt\tav\tov\tm\tu\tp\r\n${values.join('\t')}\t${encaseDate(h.acquired, h.utcOffsetMinutes)}\t${encaseDate(h.system, h.utcOffsetMinutes)}\t0\r\n\r\n`;
  return deflateSync(Buffer.from(text, 'latin1'));
}
