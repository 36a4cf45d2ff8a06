/**
 * Page layout rules every report relies on, checked on the rendered PDF with poppler: headings
 * kept with what follows, tables never ending a page on their header, table cells that break
 * paths after '/', never inside a timestamp, and hashes only at whole fixed widths.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { axisLabels, heading, keyValues, newDocument, niceTicks, paragraph, printable, render, table, thinLabels } from '../../reports/layout';
import { makeTempDir } from '../helpers';
import { pageTexts, PDF_TOOLS, SKIP_MESSAGE, textRuns } from './support';

const d = PDF_TOOLS ? describe : describe.skip;
if (!PDF_TOOLS) test.skip(SKIP_MESSAGE, () => undefined);

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp?.cleanup());

const meta = { title: 'Layout test', generatedAt: new Date('2030-01-02T03:04:05Z'), tool: { name: 'custos', version: '0.1.0' } };
const BOTTOM = 842 - 72; // A4 height less the bottom margin: where the body ends

async function write(name: string, draw: (doc: PDFKit.PDFDocument) => void): Promise<string> {
  const doc = newDocument(meta);
  draw(doc);
  const out = join(tmp.dir, `${name}.pdf`);
  writeFileSync(out, await render(doc));
  return out;
}

/** Non-empty lines of each page. */
const pageLines = (pdf: string) => pageTexts(pdf).map((p) => p.split('\n').map((l) => l.trim()).filter(Boolean));

d('keep with next', () => {
  test('a heading is never the last thing on a page: it moves with the first row, line or table row of its content', async () => {
    const offsets = Array.from({ length: 56 }, (_, i) => 2 + i * 4); // points left above the bottom of the body
    const pdf = await write('keep', (doc) => {
      offsets.forEach((room, k) => {
        if (k > 0) doc.addPage();
        doc.y = BOTTOM - room;
        const kind = k % 4;
        if (kind === 0) {
          heading(doc, `Heading T${k}`);
          table(doc, [{ header: `Head T${k}`, width: 200 }, { header: 'Value', width: 295 }], [[`first T${k}`, 'x'], ['second', 'y'], ['third', 'z']]);
        } else if (kind === 1) {
          heading(doc, `Heading K${k}`);
          keyValues(doc, [[`first K${k}`, 'value'], ['second', 'value']]);
        } else if (kind === 2) {
          heading(doc, `Heading P${k}`, 2);
          paragraph(doc, `first P${k} ` + 'words '.repeat(60));
        } else {
          heading(doc, `Heading H${k}`);
          heading(doc, `Sub H${k}`, 2);
          table(doc, [{ header: `Head H${k}`, width: 495 }], [[`first H${k}`], ['second']]);
        }
      });
    });
    const pages = pageLines(pdf);
    const checked = new Set<string>();
    for (const lines of pages) {
      for (const [i, line] of lines.entries()) {
        const h = /^(?:Heading|Sub) ([TKPH]\d+)/.exec(line);
        if (h) {
          // What follows a heading on its page includes the first line or row of its content.
          expect({ line, next: lines.slice(i + 1).some((l) => l.includes(`first ${h[1]}`)) }).toEqual({ line, next: true });
          checked.add(h[1]!);
        }
        // A table header (first or repeated) has a row under it on the same page.
        if (/^Head [TH]\d+/.test(line)) expect({ line, row: /^(first|second|third)/.test(lines[i + 1] ?? '') }).toEqual({ line, row: true });
      }
    }
    expect(checked.size).toBe(offsets.length);
  });

  test('a table that runs over pages repeats its header, and no page ends on a header without a row', async () => {
    const pdf = await write('long-table', (doc) => {
      for (let start = 0; start < 12; start++) {
        doc.addPage();
        doc.y = BOTTOM - 8 - start * 6;
        table(
          doc,
          [{ header: `Range ${start}`, width: 100 }, { header: 'Note', width: 395 }],
          Array.from({ length: 70 }, (_, i) => [`row ${start}.${i}`, i % 9 === 0 ? 'a longer note that wraps onto a second line '.repeat(3) : 'short']),
        );
      }
    });
    for (const lines of pageLines(pdf)) {
      for (const [i, line] of lines.entries()) {
        if (/^Range \d+/.test(line)) expect({ line, rowAfter: /^row \d+\.\d+/.test(lines[i + 1] ?? '') }).toEqual({ line, rowAfter: true });
      }
    }
  });
});

d('table cells', () => {
  test('paths break after "/", timestamps never break, hashes wrap only at whole fixed widths', async () => {
    const path = '/cases/2026-0314-HRB/exhibits/EV-0001/images/EV-0001.raw';
    const stamp = '2026-03-14T09:10:00Z';
    const hash = '400b6c49c68b943f87c19b1fabc8c0b3deadbb7c48e3ed04109afd2621248236';
    const pdf = await write('cells', (doc) => {
      table(
        doc,
        [
          { header: 'Path', width: 100 },
          { header: 'When', width: 110 },
          { header: 'SHA-256', width: 170, mono: true },
          { header: 'Other', width: 115 },
        ],
        [[path, `recorded at ${stamp} by the examiner`, hash, 'x']],
      );
    });
    const runs = textRuns(pdf).filter((r) => r.top > 100);
    const column = (from: number, to: number) =>
      runs
        .filter((r) => r.left >= from && r.left < to)
        .sort((a, b) => a.top - b.top)
        .map((r) => r.text.trim());
    const x0 = 50;
    const pathLines = column(x0, x0 + 100);
    expect(pathLines.join('')).toBe(path);
    expect(pathLines.length).toBeGreaterThan(1);
    for (const l of pathLines.slice(0, -1)) expect(l.endsWith('/')).toBe(true);
    const whenLines = column(x0 + 100, x0 + 210);
    expect(whenLines.some((l) => l.includes(stamp))).toBe(true);
    const hashLines = column(x0 + 210, x0 + 380);
    expect(hashLines.join('')).toBe(hash);
    expect(new Set(hashLines.map((l) => l.length))).toEqual(new Set([hash.length / hashLines.length]));
    expect([16, 32]).toContain(hashLines[0]!.length);
  });
});

describe('what is shown of a record string', () => {
  test('invisible and reordering characters are written out; a cut says the full length in characters', () => {
    expect(printable('a\u202Eexe.txt\u202C b\u0007\u200B\tc')).toBe('a[U+202E]exe.txt[U+202C] b[U+0007][U+200B] c');
    expect(printable('plain text, 2026-03-14T09:10:00Z')).toBe('plain text, 2026-03-14T09:10:00Z');
    const long = '\u{1F600}'.repeat(3000); // 6,000 UTF-16 units, 3,000 characters
    const shown = printable(long, { chars: 101, lines: 5 });
    expect(shown.endsWith(' … (3,000 characters; full text in the embedded record)')).toBe(true);
    // Never half a surrogate pair.
    expect(shown.startsWith('\u{1F600}'.repeat(50) + ' …')).toBe(true);
    expect(printable('1\n2\n3\n4', { chars: 100, lines: 2 })).toBe('1\n2 … (7 characters; full text in the embedded record)');
  });
});

describe('axes', () => {
  test('ticks cover the maximum in round steps, whatever the maximum; labels in one unit per axis', () => {
    expect(niceTicks(4.2)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(niceTicks(0)).toEqual([0]);
    expect(niceTicks(Number.NaN)).toEqual([0]);
    expect(niceTicks(5e-324).length).toBeLessThan(30);
    expect(niceTicks(1.7e308).length).toBeLessThan(30);
    expect(axisLabels([0, 50_000, 100_000, 131_072])).toEqual({ labels: ['0', '50k', '100k', '131k'], unit: 'k = thousand' });
    expect(axisLabels([0, 2000, 4000, 8192])).toEqual({ labels: ['0', '2000', '4000', '8192'] });
    expect(axisLabels([0, 2e9, 7_814_037_168]).labels).toEqual(['0', '2G', '7.81G']);
    expect(axisLabels([0, 1e300]).labels).toEqual(['0', '1.00e+300']);
  });

  test('colliding labels are dropped, the end of the axis is always kept', () => {
    expect(thinLabels([[0, 10], [8, 20], [30, 40], [38, 50]])).toEqual([true, false, false, true]);
    expect(thinLabels([[0, 10], [20, 30], [40, 50]])).toEqual([true, true, true]);
  });
});
