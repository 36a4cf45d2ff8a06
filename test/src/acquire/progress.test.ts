import { formatProgressLine, type ProgressFigures, ProgressDisplay, type ProgressJson } from '../../../src/acquire/progress';
import type { PipelineProgress } from '../../../src/stream/pipeline';

const GiB = 1024 ** 3;

const figures = (over: Partial<ProgressFigures> = {}): ProgressFigures => ({
  label: 'acquire',
  bytesDone: 1.21 * GiB,
  total: 2.68 * GiB,
  bytesPerSecond: 123.4e6,
  etaSeconds: 83,
  elapsedSeconds: 12,
  errorRanges: 0,
  errorBytes: 0,
  ...over,
});

const at = (bytesDone: number, readErrors: PipelineProgress['readErrors'] = []): PipelineProgress => ({ bytesRead: bytesDone, bytesDone, readErrors });

/** A stream that records what was written, as a terminal of `columns` or as a pipe. */
function stream(tty: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, isTTY: tty, columns, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WritableStream & {
    writes: string[];
    isTTY: boolean;
    columns?: number;
  };
}

/** A clock the test moves by hand (milliseconds). */
function clock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('formatProgressLine', () => {
  test('with room, everything: bar, bytes, percentage, rate, ETA, elapsed, read errors', () => {
    const line = formatProgressLine(figures(), { bar: true, width: 200 });
    expect(line).toBe(`[${'#'.repeat(13)}${'-'.repeat(17)}] acquire    1.21 GiB / 2.68 GiB  (45.1%)  123.4 MB/s  ETA 0:01:23  elapsed 0:00:12  read errors: 0`);
  });

  test('never wider than the width, from 200 columns down to 1, with and without read errors', () => {
    for (const f of [figures(), figures({ errorRanges: 12, errorBytes: 6144 }), figures({ label: 'verify source', etaSeconds: Number.NaN })]) {
      for (let width = 200; width >= 1; width--) {
        for (const bar of [true, false]) {
          const line = formatProgressLine(f, { bar, width });
          expect({ width, bar, length: [...line].length <= width }).toEqual({ width, bar, length: true });
        }
      }
    }
  });

  test('an 80-column terminal (77 usable) keeps bar, bytes, rate and ETA; drops elapsed and "read errors: 0"', () => {
    const line = formatProgressLine(figures(), { bar: true, width: 77 });
    expect(line.length).toBe(77);
    expect(line).toMatch(/^\[#+-+\] acquire\s+1\.21 GiB \/ 2\.68 GiB\s+\(45\.1%\)\s+123\.4 MB\/s\s+ETA 0:01:23$/);
  });

  test('narrower, the phase and percentage stay longest, and read errors outlast rate and ETA', () => {
    const bad = figures({ errorRanges: 3, errorBytes: 1536 });
    expect(formatProgressLine(bad, { bar: true, width: 50 })).toBe('acquire  45.1%  ETA 0:01:23  READ ERRORS: 3');
    expect(formatProgressLine(bad, { bar: true, width: 40 })).toBe('acquire  45.1%  READ ERRORS: 3');
    expect(formatProgressLine(bad, { bar: true, width: 20 })).toBe('acquire  45.1%');
    expect(formatProgressLine(bad, { bar: true, width: 8 })).toBe('acquire');
    expect(formatProgressLine(figures(), { bar: true, width: 60 })).toBe(`[${'#'.repeat(8)}${'-'.repeat(10)}] acquire  45.1%  123.4 MB/s  ETA 0:01:23`);
    expect(formatProgressLine(figures(), { bar: true, width: 35 })).toBe('acquire  45.1%  ETA 0:01:23');
  });

  test('the bar keeps its width while the figures change (steady columns)', () => {
    const widths = new Set<number>();
    for (let done = 0; done <= 100; done++) {
      const line = formatProgressLine(figures({ bytesDone: (done / 100) * 2.68 * GiB, bytesPerSecond: done * 3e6 }), { bar: true, width: 77 });
      widths.add(line.indexOf(']'));
    }
    expect(widths.size).toBe(1);
  });

  test('without a width (a log file) nothing is dropped', () => {
    expect(formatProgressLine(figures({ errorRanges: 1, errorBytes: 512 }), { bar: false })).toBe(
      'acquire    1.21 GiB / 2.68 GiB  (45.1%)  123.4 MB/s  ETA 0:01:23  elapsed 0:00:12  READ ERRORS: 1 range(s), 512 bytes',
    );
  });
});

describe('ProgressDisplay', () => {
  test('bar on a terminal: redrawn in place, each drawing narrower than the terminal (room for an echoed ^C), at most every 200 ms', () => {
    const s = stream(true, 80);
    const c = clock();
    const d = new ProgressDisplay({ stream: s, label: 'acquire', total: 100 << 20, now: c.now });
    expect(d.mode).toBe('bar');
    for (let i = 1; i <= 100; i++) {
      c.advance(50);
      d.update(at(i << 20));
    }
    d.finish(at(100 << 20));
    const drawings = s.writes.filter((w) => w.startsWith('\r'));
    // 5 s of updates every 50 ms: a drawing every 200 ms (25 or 26) plus the final one.
    expect(drawings.length).toBeGreaterThanOrEqual(25);
    expect(drawings.length).toBeLessThanOrEqual(28);
    for (const w of drawings) {
      expect(w.endsWith('\x1b[K')).toBe(true);
      expect(w).not.toContain('\n');
      expect([...w.slice(1, -3)].length).toBeLessThanOrEqual(77);
    }
    expect(s.writes.join('')).toMatch(/100\.0%.*\x1b\[K\n$/);
    expect(s.writes.filter((w) => w === '\n')).toHaveLength(1);
  });

  test('the width follows the terminal when it is resized', () => {
    const s = stream(true, 120);
    const c = clock();
    const d = new ProgressDisplay({ stream: s, label: 'verify image', total: 1000, now: c.now });
    d.update(at(100));
    (s as { columns?: number }).columns = 30;
    c.advance(300);
    d.update(at(200));
    expect([...s.writes[0]!].length - 4).toBeGreaterThan(29);
    expect([...s.writes[1]!].length - 4).toBeLessThanOrEqual(27);
  });

  test('clear() erases the bar for a message; the next update redraws at once', () => {
    const s = stream(true, 80);
    const c = clock();
    const d = new ProgressDisplay({ stream: s, label: 'acquire', total: 1000, now: c.now });
    d.update(at(10));
    d.clear();
    expect(s.writes.at(-1)).toBe('\r\x1b[K');
    c.advance(1);
    d.update(at(20));
    expect(s.writes.at(-1)).toMatch(/^\r.*acquire/);
  });

  test('auto on a pipe is a line every 5 s, the first after 5 s, and a last line when lines were printed', () => {
    const s = stream(false);
    const c = clock();
    const d = new ProgressDisplay({ stream: s, label: 'acquire', total: 1000, now: c.now });
    expect(d.mode).toBe('line');
    for (let i = 1; i <= 120; i++) {
      c.advance(100);
      d.update(at(i * 8));
    }
    d.finish(at(1000));
    expect(s.writes).toHaveLength(3); // at 5 s, at 10 s, and the last line
    for (const w of s.writes) expect(w).toMatch(/^acquire .*\n$/);
    expect(s.writes[2]).toContain('(100.0%)');
  });

  test('auto on a pipe stays silent for a phase shorter than one interval; explicit line mode does not', () => {
    const quiet = stream(false);
    const d = new ProgressDisplay({ stream: quiet, label: 'hash', total: 10, now: clock().now });
    d.update(at(10));
    d.finish(at(10));
    expect(quiet.writes).toEqual([]);
    const asked = stream(false);
    const e = new ProgressDisplay({ stream: asked, label: 'hash', total: 10, mode: 'line', now: clock().now });
    e.update(at(10));
    e.finish(at(10));
    expect(asked.writes).toHaveLength(1);
    expect(asked.writes[0]).toMatch(/^hash .*\(100\.0%\).*\n$/);
  });

  test('json: one object per line, every second, monotonic, with a final object (final: true, average rate)', () => {
    const s = stream(true, 80); // json even on a terminal when asked for
    const c = clock();
    const total = 64 << 20;
    const d = new ProgressDisplay({ stream: s, label: 'acquire', total, mode: 'json', now: c.now });
    const errors = [{ offset: 4096, length: 1024 }];
    for (let i = 1; i <= 64; i++) {
      c.advance(100);
      d.update(at(i << 20, i > 30 ? errors : []));
    }
    // The next phase begins later (flush, manifest): the final object is as of the last report.
    c.advance(900);
    d.finish(at(total, errors));
    const objects = s.writes.join('').trimEnd().split('\n').map((l) => JSON.parse(l) as ProgressJson);
    expect(s.writes.every((w) => w.endsWith('\n') && w.indexOf('\n') === w.length - 1)).toBe(true);
    // The first report at once, then one a second over 6.4 s, then the final one.
    expect(objects).toHaveLength(8);
    for (const [i, o] of objects.entries()) {
      expect(Object.keys(o).sort()).toEqual(['bytesDone', 'bytesPerSecond', 'bytesTotal', 'elapsedSeconds', 'etaSeconds', 'final', 'phase', 'readErrorBytes', 'readErrorRanges', 'type'].sort());
      expect(o).toMatchObject({ type: 'progress', phase: 'acquire', bytesTotal: total, final: i === objects.length - 1 });
      if (i > 0) {
        expect(o.bytesDone).toBeGreaterThanOrEqual(objects[i - 1]!.bytesDone);
        expect(o.elapsedSeconds).toBeGreaterThanOrEqual(objects[i - 1]!.elapsedSeconds);
      }
    }
    // 1 MiB per 100 ms is 10 MiB/s: the recent rate, the ETA from it, and the average from the first report to the last.
    const mid = objects[3]!;
    expect(mid.bytesPerSecond).toBe(10 * 1048576);
    expect(mid.etaSeconds).toBeCloseTo((total - mid.bytesDone) / (10 * 1048576), 1);
    expect(objects[0]!.etaSeconds).toBeNull();
    const last = objects.at(-1)!;
    expect(last).toMatchObject({ bytesDone: total, etaSeconds: 0, readErrorRanges: 1, readErrorBytes: 1024, elapsedSeconds: 6.4 });
    expect(last.bytesPerSecond).toBe(Math.round((total - (1 << 20)) / 6.3));
    expect(objects[2]).toMatchObject({ readErrorRanges: 0, readErrorBytes: 0 });
  });

  test('finish is drawn once; updates after it are ignored', () => {
    const s = stream(false);
    const d = new ProgressDisplay({ stream: s, label: 'x', total: 1, mode: 'json', now: clock().now });
    d.finish(at(1));
    d.finish(at(1));
    d.update(at(1), true);
    expect(s.writes).toHaveLength(1);
  });
});
