import type { PipelineProgress } from '../stream/pipeline';

/** Sizes in binary units (GiB), as file managers show them; rates below are decimal MB/s, as dc3dd prints them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Progress over time, kept for the manifest's rate chart: one sample per `interval` seconds,
 * thinned to every other sample whenever there are more than `max`, so a day-long run stays small.
 */
export class RateSampler {
  readonly samples: { seconds: number; bytes: number }[] = [];
  private interval = 1;

  constructor(private readonly max = 1000) {}

  add(seconds: number, bytes: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && seconds - last.seconds < this.interval) return;
    this.samples.push({ seconds: Math.round(seconds * 1000) / 1000, bytes });
    if (this.samples.length > this.max) {
      const kept = this.samples.filter((_, i) => i % 2 === 0);
      this.samples.splice(0, this.samples.length, ...kept);
      this.interval *= 2;
    }
  }
}

/** How progress is shown: `auto` is a bar on a terminal and a line every few seconds otherwise. */
export const PROGRESS_MODES = ['auto', 'bar', 'line', 'json', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** What one progress report says, whatever its form. */
export interface ProgressFigures {
  /** The phase: acquire, verify image, resume check, hash… */
  label: string;
  bytesDone: number;
  total: number;
  /** Recent rate; 0 while unknown. */
  bytesPerSecond: number;
  /** Seconds left at the recent rate; NaN while unknown. */
  etaSeconds: number;
  elapsedSeconds: number;
  /** Unreadable ranges so far, and the bytes in them. */
  errorRanges: number;
  errorBytes: number;
}

/** The narrowest and widest progress bar drawn; narrower than this it is left out. */
const BAR_MIN = 8;
const BAR_MAX = 30;

/**
 * One progress line that fits in `width` characters: the richest layout that fits, dropping the
 * least useful parts first (elapsed time, "read errors: 0", the byte counts, the bar, the rate,
 * the ETA) and keeping the phase, the percentage and any read errors longest. Without a width
 * (a log file) everything is shown. Code points are counted: every character used is one column.
 */
export function formatProgressLine(f: ProgressFigures, o: { bar: boolean; width?: number }): string {
  // Figures padded to steady widths, so that the bar does not jump as the numbers change.
  const pct = `${(f.total > 0 ? Math.min(100, (100 * f.bytesDone) / f.total) : 100).toFixed(1)}%`.padStart(6);
  const total = formatBytes(f.total);
  const full = `${f.label} ${formatBytes(f.bytesDone).padStart(Math.max(11, total.length))} / ${total} ${`(${pct.trimStart()})`.padStart(8)}`;
  const short = `${f.label} ${pct}`;
  const rate = formatRate(f.bytesPerSecond).padStart(10);
  const eta = `ETA ${formatDuration(f.etaSeconds)}`;
  const elapsed = `elapsed ${formatDuration(f.elapsedSeconds)}`;
  const bad = f.errorRanges > 0;
  const errFull = bad ? `READ ERRORS: ${f.errorRanges} range(s), ${f.errorBytes} bytes` : 'read errors: 0';
  const errShort = bad ? `READ ERRORS: ${f.errorRanges}` : undefined;
  const errKept = bad ? errFull : undefined;
  const layouts: { bar: boolean; parts: (string | undefined)[] }[] = [
    { bar: o.bar, parts: [full, rate, eta, elapsed, errFull] },
    { bar: o.bar, parts: [full, rate, eta, elapsed, errKept] },
    { bar: o.bar, parts: [full, rate, eta, errKept] },
    { bar: o.bar, parts: [short, rate, eta, errKept] },
    { bar: false, parts: [short, rate, eta, errKept] },
    { bar: false, parts: [short, eta, errKept] },
    { bar: false, parts: [short, eta, errShort] },
    { bar: false, parts: [short, errShort] },
    { bar: false, parts: [short] },
  ];
  const width = o.width;
  for (const layout of layouts) {
    const text = layout.parts.filter((x): x is string => x !== undefined).join('  ');
    if (!layout.bar) {
      if (width === undefined || length(text) <= width) return text;
      continue;
    }
    const room = width === undefined ? BAR_MAX : Math.min(BAR_MAX, width - length(text) - 3);
    if (room >= BAR_MIN) return `${drawBar(f, room)} ${text}`;
  }
  // Narrower than "phase NN.N%": cut, so that the line never wraps.
  return [...short].slice(0, Math.max(0, width ?? 0)).join('').trimEnd();
}

function drawBar(f: ProgressFigures, width: number): string {
  const filled = f.total > 0 ? Math.min(width, Math.floor((width * f.bytesDone) / f.total)) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function length(text: string): number {
  return [...text].length;
}

/** One line of `--progress json`: a JSON object per line on stderr, for GUIs and orchestrators. */
export interface ProgressJson {
  /** Always "progress": other lines on stderr (messages) have other types. */
  type: 'progress';
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  /** Recent rate (the last few seconds); for the final object, the average over the phase. */
  bytesPerSecond: number;
  /** Seconds left at the recent rate; null while unknown; 0 in the final object of a complete phase. */
  etaSeconds: number | null;
  readErrorRanges: number;
  readErrorBytes: number;
  elapsedSeconds: number;
  /** True for the last object of a phase. */
  final: boolean;
}

export interface ProgressOptions {
  /** Where progress goes: stderr, never stdout. */
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  label: string;
  total: number;
  /** auto (the default): a bar when the stream is a terminal, else a line every few seconds. */
  mode?: Exclude<ProgressMode, 'none'>;
  /** Milliseconds between lines in line mode. */
  lineInterval?: number;
  /** Milliseconds between objects in json mode. */
  jsonInterval?: number;
  /** A monotonic clock in milliseconds (elapsed time must not jump when the wall clock is set). */
  now?: () => number;
}

/**
 * Shows bytes done/total, rate, ETA and read errors on stderr, so that nothing but results
 * reaches stdout: a bar redrawn in place that always fits the terminal's width (a line that
 * wraps would leave a new line on the screen at every redraw), a plain line every few seconds
 * (logs, CI), or JSON lines for programs.
 */
export class ProgressDisplay {
  readonly mode: 'bar' | 'line' | 'json';
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private readonly recent: { t: number; bytes: number }[] = [];
  private drawn = 0;
  private finished = false;
  /** The first report of the phase (a resumed phase does not start at 0 bytes). */
  private first: { t: number; bytes: number } | undefined;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? (() => performance.now());
    this.started = this.now();
    const mode = o.mode ?? 'auto';
    this.mode = mode === 'auto' ? (o.stream.isTTY ? 'bar' : 'line') : mode;
    // A log gets its first line after one interval, not a line of zeros at the start.
    if (this.mode === 'line') this.lastDraw = this.started;
  }

  update(p: PipelineProgress, force = false): void {
    if (this.finished) return;
    const t = this.now();
    this.first ??= { t, bytes: p.bytesDone };
    this.recent.push({ t, bytes: p.bytesDone });
    while (this.recent.length > 2 && t - this.recent[0]!.t > 5000) this.recent.shift();
    const every = this.mode === 'bar' ? 200 : this.mode === 'json' ? (this.o.jsonInterval ?? 1000) : (this.o.lineInterval ?? 5000);
    if (!force && t - this.lastDraw < every) return;
    this.lastDraw = t;
    this.draw(p, t, false);
  }

  /**
   * The final state, as of the last report: the bar's last drawing, left on its own line; in
   * json mode an object with `final: true`; in line mode a last line, unless the phase was too
   * short to print any line before (a quick `custos hash` stays silent in a log) and line mode
   * was not asked for.
   */
  finish(p: PipelineProgress): void {
    if (this.finished) return;
    // The phase ended at its last report when nothing moved since (the next phase may begin later,
    // after flushing and writing the manifest): its time and average rate are those of the work.
    const latest = this.recent[this.recent.length - 1];
    const t = latest && latest.bytes === p.bytesDone ? latest.t : this.now();
    this.first ??= { t, bytes: p.bytesDone };
    if (this.mode === 'line' && this.drawn === 0 && (this.o.mode ?? 'auto') === 'auto') {
      this.finished = true;
      return;
    }
    this.draw(p, t, true);
    this.finished = true;
    if (this.mode === 'bar') this.o.stream.write('\n');
  }

  /** Erases the bar so that a message can be written on a clean line; the next update redraws it. */
  clear(): void {
    if (this.mode !== 'bar' || this.drawn === 0 || this.finished) return;
    this.o.stream.write('\r\x1b[K');
    this.lastDraw = Number.NEGATIVE_INFINITY;
  }

  /** The figures at time `t` (monotonic ms); `final` gives the average rate over the phase. */
  figures(p: PipelineProgress, t: number, final = false): ProgressFigures {
    const first = this.recent[0] ?? { t, bytes: p.bytesDone };
    const span = (t - first.t) / 1000;
    const rate = span > 0 ? Math.max(0, p.bytesDone - first.bytes) / span : 0;
    const left = Math.max(0, this.o.total - p.bytesDone);
    return {
      label: this.o.label,
      bytesDone: p.bytesDone,
      total: this.o.total,
      bytesPerSecond: final ? this.averageRate(p, t) : rate,
      etaSeconds: left === 0 ? 0 : rate > 0 ? left / rate : Number.NaN,
      elapsedSeconds: Math.max(0, (t - this.started) / 1000),
      errorRanges: p.readErrors.length,
      errorBytes: p.readErrors.reduce((n, r) => n + r.length, 0),
    };
  }

  private averageRate(p: PipelineProgress, t: number): number {
    const first = this.first ?? { t, bytes: p.bytesDone };
    const seconds = (t - first.t) / 1000;
    return seconds > 0 ? Math.max(0, p.bytesDone - first.bytes) / seconds : 0;
  }

  private draw(p: PipelineProgress, t: number, final: boolean): void {
    this.drawn++;
    const f = this.figures(p, t, final);
    const s = this.o.stream;
    if (this.mode === 'json') {
      s.write(`${JSON.stringify(toJson(f, final))}\n`);
      return;
    }
    const width = s.isTTY || this.mode === 'bar' ? terminalWidth(s) : undefined;
    const line = formatProgressLine(f, { bar: this.mode === 'bar', width });
    s.write(this.mode === 'bar' ? `\r${line}\x1b[K` : `${line}\n`);
  }
}

/**
 * Columns a line may use without wrapping: three less than the terminal's width, because some
 * terminals wrap at the last column and the terminal echoes Ctrl-C as "^C" after the line; a
 * line that wrapped there would be left behind when the bar is redrawn.
 */
function terminalWidth(s: { columns?: number }): number {
  const columns = s.columns && s.columns > 0 ? s.columns : Number(process.env.COLUMNS) || 80;
  return Math.max(1, columns - 3);
}

function toJson(f: ProgressFigures, final: boolean): ProgressJson {
  return {
    type: 'progress',
    phase: f.label,
    bytesDone: f.bytesDone,
    bytesTotal: f.total,
    bytesPerSecond: Math.round(f.bytesPerSecond),
    etaSeconds: Number.isFinite(f.etaSeconds) ? Math.round(f.etaSeconds * 10) / 10 : null,
    readErrorRanges: f.errorRanges,
    readErrorBytes: f.errorBytes,
    elapsedSeconds: Math.round(f.elapsedSeconds * 1000) / 1000,
    final,
  };
}
