import type { PipelineProgress } from './pipeline';

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

export interface ProgressOptions {
  /** Where progress goes: stderr, never stdout. */
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  label: string;
  total: number;
  /** Milliseconds between lines when the stream is not a terminal. */
  lineInterval?: number;
  now?: () => number;
}

/**
 * Shows bytes done/total, rate, ETA and read errors: a bar redrawn in place on a terminal, a
 * plain line every few seconds otherwise (logs, CI), so nothing but results reaches stdout.
 */
export class ProgressDisplay {
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = 0;
  private readonly recent: { t: number; bytes: number }[] = [];
  private readonly tty: boolean;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? (() => Date.now());
    this.started = this.now();
    this.tty = Boolean(o.stream.isTTY);
    // A log gets its first line after one interval, not a line of zeros at the start.
    this.lastDraw = this.tty ? 0 : this.started;
  }

  update(p: PipelineProgress, force = false): void {
    const t = this.now();
    this.recent.push({ t, bytes: p.bytesDone });
    while (this.recent.length > 2 && t - this.recent[0]!.t > 5000) this.recent.shift();
    const every = this.tty ? 200 : (this.o.lineInterval ?? 5000);
    if (!force && t - this.lastDraw < every) return;
    this.lastDraw = t;
    const line = this.render(p, t);
    this.o.stream.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  /** Final state on its own line. */
  finish(p: PipelineProgress): void {
    this.update(p, true);
    if (this.tty) this.o.stream.write('\n');
  }

  private render(p: PipelineProgress, t: number): string {
    const total = this.o.total;
    const pct = total > 0 ? (100 * p.bytesDone) / total : 100;
    const first = this.recent[0]!;
    const span = (t - first.t) / 1000;
    const rate = span > 0 ? (p.bytesDone - first.bytes) / span : 0;
    const eta = rate > 0 ? (total - p.bytesDone) / rate : Number.NaN;
    const errors = p.readErrors.reduce((n, r) => n + r.length, 0);
    const parts = [
      `${this.o.label} ${formatBytes(p.bytesDone)} / ${formatBytes(total)} (${pct.toFixed(1)}%)`,
      formatRate(rate),
      `ETA ${formatDuration(eta)}`,
      `elapsed ${formatDuration((t - this.started) / 1000)}`,
      errors > 0 ? `READ ERRORS: ${p.readErrors.length} range(s), ${errors} bytes` : 'read errors: 0',
    ];
    if (!this.tty) return parts.join('  ');
    const width = Math.max(10, Math.min(30, (this.o.stream.columns ?? 100) - 110));
    const filled = Math.round((width * pct) / 100);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${parts.join('  ')}`;
  }
}
