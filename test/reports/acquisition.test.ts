/**
 * Acquisition report: generation time against record times, hashes in one monospace style, host
 * OS, resumed acquisitions, charts that say when there is nothing to chart and axes that cover
 * the run with labels that never collide, and bounded output for absurd but schema-valid manifests.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquisitionReport } from '../../reports';
import { sha256Hex } from '../../src/custody/canonical';
import type { AcquisitionManifest } from '../../src/manifest/manifest';
import { makeTempDir, runCli, tool } from '../helpers';
import { creationDate, makeCase, manifestVariant, pageCount, pageTexts, PDF_TOOLS, qdf, runCliBounded, SKIP_MESSAGE, type TestCase, text, type TextRun, textRuns } from './support';

const d = PDF_TOOLS ? describe : describe.skip;
if (!PDF_TOOLS) test.skip(SKIP_MESSAGE, () => undefined);

const EPOCH = '1893553445'; // 2030-01-02T03:04:05Z: far from every time in the records
const GENERATED = '2030-01-02T03:04:05Z';
const NOW = new Date(`${GENERATED}`);
let tmp: ReturnType<typeof makeTempDir>;
let c: TestCase;
let m: AcquisitionManifest;

beforeAll(async () => {
  tmp = makeTempDir();
  c = await makeCase(tmp.dir);
  m = JSON.parse(readFileSync(c.manifest, 'utf8'));
});
afterAll(() => tmp?.cleanup());

/** Renders a variant of the test manifest in-process and returns the PDF path. */
async function render(name: string, mutate: (m: AcquisitionManifest) => void): Promise<string> {
  const manifest = manifestVariant(c.manifest, join(tmp.dir, `${name}.manifest.json`), mutate);
  const out = join(tmp.dir, `${name}.pdf`);
  writeFileSync(out, await acquisitionReport(manifest, { now: NOW }));
  return out;
}

/** Text runs that overlap each other on the same line of the same page. */
function collisions(runs: TextRun[]): [string, string][] {
  const found: [string, string][] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i]!;
      const b = runs[j]!;
      if (a.page !== b.page) continue;
      const vertical = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
      const horizontal = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
      if (vertical > 1 && horizontal > 0.5) found.push([a.text, b.text]);
    }
  }
  return found;
}

d('generation time', () => {
  test('the footer states when the PDF was made (SOURCE_DATE_EPOCH, else the clock); the body keeps the record times', () => {
    const pdf = join(tmp.dir, 'epoch.pdf');
    const r = runCli(['report', 'acquisition', c.manifest, '--out', pdf], { env: { ...c.env, SOURCE_DATE_EPOCH: EPOCH } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pages = pageTexts(pdf);
    for (const [i, p] of pages.entries()) {
      expect(p).toContain(`PDF generated ${GENERATED} by custos 0.1.0`);
      expect(p).toContain(`Page ${i + 1} of ${pages.length}`);
    }
    // Only the footers carry the generation time; the body states the acquisition's own times.
    expect(text(pdf).split(GENERATED).length - 1).toBe(pages.length);
    expect(text(pdf)).toContain(`${m.time.start} UTC`);
    expect(text(pdf)).toContain(`${m.time.end} UTC`);
    expect(creationDate(pdf)).toBe(GENERATED);
    // Reproducible: the same manifest and SOURCE_DATE_EPOCH give the same bytes, in-process too.
    const again = join(tmp.dir, 'epoch2.pdf');
    expect(runCli(['report', 'acquisition', c.manifest, '--out', again], { env: { ...c.env, SOURCE_DATE_EPOCH: EPOCH } }).status).toBe(0);
    expect(readFileSync(again).equals(readFileSync(pdf))).toBe(true);

    const clock = join(tmp.dir, 'clock.pdf');
    const before = Math.floor(Date.now() / 1000) * 1000;
    expect(runCli(['report', 'acquisition', c.manifest, '--out', clock], { env: c.env }).status).toBe(0);
    const after = Date.now();
    const stamp = /PDF generated (\S+Z) by/.exec(text(clock, 1))![1]!;
    expect(Date.parse(stamp)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(stamp)).toBeLessThanOrEqual(after);
  });

  test('a SOURCE_DATE_EPOCH that is not a number of seconds is a usage error, and no PDF is written', () => {
    const pdf = join(tmp.dir, 'bad-epoch.pdf');
    const r = runCli(['report', 'acquisition', c.manifest, '--out', pdf], { env: { ...c.env, SOURCE_DATE_EPOCH: 'yesterday' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SOURCE_DATE_EPOCH');
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(() => readFileSync(pdf)).toThrow();
  });
});

d('hashes, host and resumed acquisitions', () => {
  test('every hash, wherever it stands (summary, rows, tables), is set in one monospace font and size', async () => {
    const pdf = await render('hashes', () => undefined);
    const runs = textRuns(pdf);
    const hashes = [m.hashes.md5!, m.hashes.sha1!, m.hashes.sha256!, m.hashes.sha512!.slice(0, 64), m.hashes.sha512!.slice(64)];
    const styles = new Set<string>();
    for (const h of hashes) {
      const carrying = runs.filter((r) => r.text.includes(h));
      // Summary box, "Hashes of the acquired data", the output-file table and the verification table.
      expect(carrying.length).toBeGreaterThanOrEqual(h.length === 32 || h.length === 40 || h === m.hashes.sha256 ? 4 : 3);
      for (const r of carrying) styles.add(`${r.family} ${r.size}`);
    }
    // Anything else that looks like a digest (the attached files' SHA-256) follows the same rule.
    for (const r of runs.filter((x) => /[0-9a-f]{32,}/.test(x.text))) styles.add(`${r.family} ${r.size}`);
    expect([...styles]).toEqual(['DejaVuSansMono 8']);
  });

  test('the host OS by name and version; the kernel release apart; the kernel build never as the OS', async () => {
    let t = text(await render('host', () => undefined));
    expect(t).toMatch(/Operating system\s+Debian GNU\/Linux 12 \(bookworm\)\n/);
    expect(t).toMatch(/Kernel\s+linux 6\.1\.0-test \(x64\)\n/);
    expect(t).toMatch(/Kernel build\s+#1 SMP test\n/);
    t = text(
      await render('host-old', (x) => {
        delete x.host.os;
      }),
    );
    expect(t).toMatch(/Operating system\s+not recorded/);
    expect(t).not.toMatch(/Operating system\s+#1 SMP test/);
  });

  test('a resumed acquisition says so; a session whose partial image no longer matched the source gets a red banner', async () => {
    const pdf = await render('resumed', (x) => {
      x.acquisition.resumed = true;
      x.time.sessions = [
        { start: '2026-03-14T09:10:01Z', end: '2026-03-14T09:10:02Z', fromOffset: 0, toOffset: 6291456, outcome: 'interrupted' },
        { start: '2026-03-14T09:12:00Z', end: '2026-03-14T09:12:01Z', fromOffset: 2097152, toOffset: 8388608, outcome: 'complete', resumeCheck: { partialBytes: 6291456, matchedBytes: 2097152, matched: false, mismatchAt: 2097152 } },
      ];
    });
    const p1 = text(pdf, 1);
    expect(p1).toMatch(/Resumed\s+acquired in 2 sessions/);
    expect(p1).toContain('PARTIAL IMAGE NO LONGER MATCHED THE SOURCE');
    expect(p1.replace(/\s+/g, ' ')).toContain('no longer matched the source at byte 2,097,152; the rest was acquired again');
    const all = text(pdf);
    expect(all).toMatch(/Sessions/);
    expect(all).toMatch(/2026-03-14T09:10:01Z\s+2026-03-14T09:10:02Z\s+0\s+6291456\s+interrupted/);
    expect(all).toMatch(/2026-03-14T09:12:00Z\s+2026-03-14T09:12:01Z\s+2097152\s+8388608\s+complete/);
    // The banner is red: its text is white on a red box, so look for it among the runs on page 1.
    expect(textRuns(pdf).some((r) => r.page === 1 && r.text.includes('PARTIAL IMAGE NO LONGER MATCHED') && r.color === '#ffffff')).toBe(true);

    const matched = text(
      await render('resumed-ok', (x) => {
        x.acquisition.resumed = true;
        x.time.sessions = [
          { start: '2026-03-14T09:10:01Z', end: '2026-03-14T09:10:02Z', fromOffset: 0, toOffset: 4194304, outcome: 'interrupted' },
          { start: '2026-03-14T09:12:00Z', end: '2026-03-14T09:12:01Z', fromOffset: 4194304, toOffset: 8388608, outcome: 'complete', resumeCheck: { partialBytes: 4194304, matchedBytes: 4194304, matched: true } },
        ];
      }),
    );
    expect(matched).toMatch(/Resumed\s+acquired in 2 sessions/);
    expect(matched).not.toContain('NO LONGER MATCHED');
    expect(matched.replace(/\s+/g, ' ')).toContain('4,194,304 bytes of partial image matched the source');
  });
});

d('embedded records', () => {
  test('the hash-windows file is embedded only when the manifest names a plain file beside it with the recorded SHA-256', async () => {
    const dir = join(tmp.dir, 'windows');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const secret = 'not evidence: a file the manifest must not be able to pull into the PDF\n';
    writeFileSync(join(dir, 'secret.txt'), secret);
    writeFileSync(join(dir, 'sub', 'EV-0001.windows.json'), '{"windows":[]}\n');
    const cases: [string, string, boolean, RegExp][] = [
      ['../secret.txt', sha256Hex(Buffer.from(secret)), false, /not a plain file name beside the manifest/],
      ['EV-0001.windows.json', '0'.repeat(64), false, /its SHA-256 is not the one the manifest records/],
      ['EV-0001.windows.json', sha256Hex(Buffer.from('{"windows":[]}\n')), true, /Piecewise hashes/],
    ];
    for (const [i, [file, sha256, embedded, says]] of cases.entries()) {
      const manifest = manifestVariant(c.manifest, join(dir, 'sub', `w${i}.manifest.json`), (x) => {
        x.hashWindows = { windowSize: 1_048_576, count: 8, file, sha256 };
      });
      const out = join(dir, `w${i}.pdf`);
      writeFileSync(out, await acquisitionReport(manifest, { now: NOW }));
      const names = tool('qpdf', ['--list-attachments', out]);
      expect(names).not.toContain('secret.txt');
      expect(names.includes('EV-0001.windows.json')).toBe(embedded);
      expect(text(out).replace(/\s+/g, ' ')).toMatch(says);
    }
  });
});

d('charts', () => {
  /** The numeric tick labels in the row just above an axis caption. */
  const ticksAbove = (runs: TextRun[], caption: RegExp) => {
    const cap = runs.find((r) => caption.test(r.text))!;
    expect(cap).toBeDefined();
    return runs.filter((r) => r.page === cap.page && r.top < cap.top && r.top > cap.top - 16 && !caption.test(r.text));
  };

  test('too few samples: a plain note, no empty frame with axes', async () => {
    for (const samples of [[], [{ seconds: 0.5, bytes: 8388608 }], [{ seconds: 0.2, bytes: 4194304 }, { seconds: 0.4, bytes: 8388608 }]]) {
      const pdf = await render('few', (x) => {
        x.rateSamples = samples;
      });
      const t = text(pdf);
      expect(t).toMatch(new RegExp(`Read rate over time: not charted, only ${samples.length} progress sample`));
      expect(t).not.toContain('elapsed time');
      expect(t).not.toContain('read rate (MB/s)');
    }
  });

  test('the time axis covers the whole run (all sessions), not only up to the last sample', async () => {
    const pdf = await render('axis', (x) => {
      x.time.durationSeconds = 100;
      x.rateSamples = [0, 10, 20, 30].map((s) => ({ seconds: s, bytes: s * 100_000 }));
    });
    const ticks = ticksAbove(textRuns(pdf), /^elapsed time \(s\)$/).map((r) => Number(r.text));
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(100);
  });

  test('tick labels never collide, large values are written compactly, on the rate chart and the bad-sector map', async () => {
    // A 50 MiB source: the last sector (102,400) stands close to the 100,000 tick.
    const small = textRuns(
      await render('small', (x) => {
        x.source.sizeBytes = 52_428_800;
        x.source.sectors = 102_400;
        x.readErrors = [{ offset: 512 * 120_000, length: 512, firstSector: 120_000, sectorCount: 1 }];
      }),
    );
    expect(collisions(small.filter((r) => r.page === small.find((x) => x.text === 'Unreadable sectors across the source')!.page))).toEqual([]);
    const pdf = await render('big', (x) => {
      x.source.sizeBytes = 4_000_787_030_016;
      x.source.sectors = 7_814_037_168;
      x.time.durationSeconds = 37_000;
      x.rateSamples = Array.from({ length: 400 }, (_, i) => ({ seconds: i * 90 + 1, bytes: Math.round(i * 90 * 108.2e6 * (1 + 0.2 * Math.sin(i))) }));
      x.readErrors = [
        { offset: 512 * 1_000_000, length: 512, firstSector: 1_000_000, sectorCount: 1 },
        { offset: 512 * 7_800_000_000, length: 4096, firstSector: 7_800_000_000, sectorCount: 8 },
      ];
    });
    const runs = textRuns(pdf);
    const charts = runs.filter((r) => r.page === runs.find((x) => x.text === 'Read rate over time')!.page);
    expect(collisions(charts)).toEqual([]);
    const sectorTicks = ticksAbove(charts, /^sector/).map((r) => r.text);
    expect(sectorTicks.length).toBeGreaterThanOrEqual(3);
    for (const t of sectorTicks) expect(t.length).toBeLessThanOrEqual(6);
    expect(sectorTicks).toContain('7.81G');
  });
});

d('bounded output for absurd but schema-valid manifests', () => {
  const run = (name: string, mutate: (m: AcquisitionManifest) => void) => {
    const manifest = manifestVariant(c.manifest, join(tmp.dir, `${name}.manifest.json`), mutate);
    const out = join(tmp.dir, `${name}.pdf`);
    const r = runCliBounded(['report', 'acquisition', manifest, '--out', out], { env: { ...c.env, SOURCE_DATE_EPOCH: EPOCH }, heapMiB: 384, timeoutMs: 240_000 });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(r.maxRssMiB).toBeLessThan(900);
    // The whole manifest is still attached, byte for byte.
    expect(tool('qpdf', ['--list-attachments', out])).toContain(`${name}.manifest.json`);
    return { out, manifest };
  };

  test('a 71,000-character string is cut short with a note, and breaks across lines', () => {
    const { out } = run('long-string', (x) => {
      x.case.notes = 'N'.repeat(71_000);
      x.source.path = `/dev/disk/by-id/${'x'.repeat(70_000)}`;
      x.commandLine = ['custos', 'acquire', 'y'.repeat(71_000)];
    });
    const t = text(out);
    expect(t.replace(/\s+/g, ' ')).toContain('(71,000 characters; full text in the embedded record)');
    expect(pageCount(out)).toBeLessThan(20);
    // No line runs off the page: pdftotext -layout never gives a line wider than the text column allows.
    for (const line of t.split('\n')) expect(line.length).toBeLessThan(200);
  });

  test('100,000 rate samples: the chart is downsampled to a bounded path', () => {
    const { out } = run('many-samples', (x) => {
      x.time.durationSeconds = 100_000;
      x.rateSamples = Array.from({ length: 100_000 }, (_, i) => ({ seconds: i + 1, bytes: (i + 1) * 40_000_000 + (i % 7) * 1_000_000 }));
    });
    const lineTos = (qdf(out).match(/^-?[\d.]+ -?[\d.]+ l$/gm) ?? []).length;
    expect(lineTos).toBeGreaterThan(100);
    expect(lineTos).toBeLessThan(4_500);
  });

  test('every list long at once and numbers near the largest double: bounded, every table capped, nothing drawn off the page', () => {
    const { out } = run('absurd', (x) => {
      x.commandLine = Array.from({ length: 100_000 }, (_, i) => `--arg${i}`);
      x.acquisition.resumed = true;
      x.time.sessions = Array.from({ length: 20_000 }, (_, i) => ({ start: x.time.start, end: x.time.end, fromOffset: i, toOffset: i + 1, outcome: 'interrupted' as const, resumeCheck: { partialBytes: i, matchedBytes: 0, matched: false, mismatchAt: 0 } }));
      x.outputs = Array.from({ length: 20_000 }, (_, i) => ({ name: `EV-0001.${i}`, size: 1e300, hashes: x.hashes }));
      x.writeBlock.mountsAtStart = Array.from({ length: 50_000 }, (_, i) => ({ device: `/dev/sd${i}`, mountPoint: `/mnt/${i}`, fsType: 'ext4', readWrite: true }));
      x.writeBlock.partitions = Array.from({ length: 50_000 }, (_, i) => `sda${i}`);
      x.source.sizeBytes = 1.7e308;
      x.source.sectors = 1e306;
      x.time.durationSeconds = 1.7e308;
      x.rateSamples = [{ seconds: 0, bytes: 0 }, { seconds: 1e-300, bytes: 1e300 }, { seconds: 1e300, bytes: 1.7e308 }, { seconds: 1.6e308, bytes: 1.7e308 }, { seconds: 1.7e308, bytes: 0 }];
      x.readErrors = [{ offset: 1e308, length: 1e308, firstSector: 1e306, sectorCount: 1e306 }, { offset: 0, length: 512, firstSector: 0, sectorCount: 1 }];
    });
    const t = text(out).replace(/\s+/g, ' ');
    expect(t).toContain('… (99,800 more arguments; all in the embedded record)');
    expect(t).toContain('… and 19,000 more sessions, all listed in the embedded manifest');
    expect(t).toContain('… and 19,000 more output files, all listed in the embedded manifest');
    expect(t).toContain('… and 19,997 more sessions whose partial image no longer matched the source');
    expect(t).toContain('… and 49,980 more');
    expect(pageCount(out)).toBeLessThan(300);
    // Nothing runs off the right edge: every run ends inside the page.
    for (const r of textRuns(out)) expect({ text: r.text.slice(0, 40), right: r.left + r.width <= 595 }).toEqual({ text: r.text.slice(0, 40), right: true });
  });

  test('100,000 read-error ranges: the first 1,000 listed, the rest counted; the map is drawn in columns', () => {
    const { out } = run('many-errors', (x) => {
      x.readErrors = Array.from({ length: 100_000 }, (_, i) => ({ offset: i * 1024 * 40, length: 512, firstSector: i * 80, sectorCount: 1 }));
      x.source.sizeBytes = 100_000 * 1024 * 40;
      x.source.sectors = 100_000 * 80;
    });
    const t = text(out);
    expect(t).toMatch(/YES: 100,000 sector\(s\) in 100,000 range\(s\), zero-filled/);
    expect(t).toMatch(/79920\s+1\s+40919040\s+512/); // range 1,000 (the last listed)
    expect(t).not.toMatch(/\b80000\s+1\s+40960000\s+512/); // range 1,001 is not
    expect(t.replace(/\s+/g, ' ')).toContain('… and 99,000 more ranges, all listed in the embedded manifest');
    expect(pageCount(out)).toBeLessThan(40);
    const rects = (qdf(out).match(/ re$/gm) ?? []).length;
    expect(rects).toBeLessThan(5_000);
  });
});
