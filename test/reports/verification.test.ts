/**
 * Verification report of a damaged image: the damaged ranges and the differing hash windows
 * listed in red, the verdict MISMATCH whatever the rest says, bounded for absurd counts; and the
 * generation time in the footer apart from the verification time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verificationReport } from '../../reports';
import type { DamagedRange } from '../../src/formats/types';
import type { VerifyResult } from '../../src/verify/verify';
import { makeTempDir } from '../helpers';
import { pageCount, PDF_TOOLS, SKIP_MESSAGE, text, textRuns } from './support';

const d = PDF_TOOLS ? describe : describe.skip;
if (!PDF_TOOLS) test.skip(SKIP_MESSAGE, () => undefined);

const RED = '#b00020';
const MD5 = 'e59bf7cee4c9e04c2b81e8580a848d74';
const SHA1 = '10f2553dec3e83ac26335d70df40bdc3ebd52204';
let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp?.cleanup());

const damaged = (i: number): DamagedRange => ({
  offset: 32768 * (10 + 3 * i),
  length: 32768,
  firstSector: 64 * (10 + 3 * i),
  sectorCount: 64,
  file: '/cases/x/EV-0003.E01',
  fileOffset: 13_125 + 20_000 * i,
  chunk: 10 + 3 * i,
  reason: 'chunk checksum (Adler-32) does not match',
  filledWith: i % 2 === 0 ? 'stored-bytes' : 'zeros',
});

function result(o: Partial<VerifyResult['image']> = {}, verdict: VerifyResult['verdict'] = 'mismatch'): VerifyResult {
  return {
    target: '/cases/x/EV-0003.E01',
    image: {
      files: [{ path: '/cases/x/EV-0003.E01', size: 4_123_456 }],
      size: 8_388_608,
      comparisons: [
        { algorithm: 'md5', expected: MD5, actual: MD5, match: true },
        { algorithm: 'sha1', expected: SHA1, actual: SHA1, match: true },
      ],
      ...o,
    },
    verdict,
  };
}

async function write(name: string, v: VerifyResult): Promise<string> {
  const out = join(tmp.dir, `${name}.pdf`);
  writeFileSync(out, await verificationReport({ result: v, at: new Date('2026-03-15T08:00:00Z'), examiner: 'Sam Lee' }, { now: new Date('2030-01-02T03:04:05Z') }));
  return out;
}

d('verification report of a damaged image', () => {
  test('damaged chunks and differing windows are listed in red; the verdict is MISMATCH', async () => {
    const pdf = await write('damaged', result({
      damaged: { count: 2, ranges: [damaged(0), damaged(1)] },
      windows: { windowSize: 1_048_576, checked: 8, differing: [{ index: 0, offset: 0, length: 1_048_576 }, { index: 5, offset: 5_242_880, length: 1_048_576 }], differingCount: 2, recordIntact: true },
    }));
    const p1 = text(pdf, 1);
    expect(p1).toContain('VERDICT: MISMATCH');
    expect(p1).toMatch(/Damaged\s+2 ranges? of the image could not be read as recorded/);
    const t = text(pdf);
    expect(t).toMatch(/327680\s+32768\s+640\s+64\s+EV-0003\.E01\s+13125\s+10\s+stored bytes/);
    expect(t).toMatch(/425984\s+32768\s+832\s+64\s+EV-0003\.E01\s+33125\s+13\s+zeros/);
    expect(t.replace(/\s+/g, ' ')).toContain('chunk checksum (Adler-32) does not match');
    expect(t).toMatch(/Windows differing\s+2 of 8 windows of 1,048,576 bytes/);
    expect(t).toMatch(/\b0\s+0\s+1048575\s+1048576/);
    expect(t).toMatch(/\b5\s+5242880\s+6291455\s+1048576/);
    const runs = textRuns(pdf);
    for (const s of ['327680', '425984', '5242880']) expect(runs.filter((r) => r.text.includes(s)).every((r) => r.color === RED)).toBe(true);
    // Generated (footer) and verified (body) are two different instants, each in its place.
    expect(t).toContain('PDF generated 2030-01-02T03:04:05Z');
    expect(t).toContain('2026-03-15T08:00:00Z by Sam Lee');
  });

  test('damage makes the verdict MISMATCH even when the result claims a match', async () => {
    const p1 = text(await write('claims-match', result({ damaged: { count: 1, ranges: [damaged(0)] } }, 'match')), 1);
    expect(p1).toContain('VERDICT: MISMATCH');
    expect(p1).not.toContain('VERDICT: MATCH');
  });

  test('100,000 damaged ranges and differing windows: the first 1,000 of each listed, the rest counted', async () => {
    const n = 100_000;
    const pdf = await write('many', result({
      damaged: { count: n, ranges: Array.from({ length: n }, (_, i) => damaged(i)) },
      windows: { windowSize: 4096, checked: 2 * n, differing: Array.from({ length: n }, (_, i) => ({ index: 2 * i, offset: 8192 * i, length: 4096 })), differingCount: n, recordIntact: true },
    }));
    const t = text(pdf).replace(/\s+/g, ' ');
    expect(t).toContain('… and 99,000 more damaged ranges, all listed in the embedded verification.json');
    expect(t).toContain('… and 99,000 more differing windows, all listed in the embedded verification.json');
    expect(pageCount(pdf)).toBeLessThan(80);
  });
});
