/**
 * Vector charts for reports, drawn with pdfkit paths: labelled axes, no raster images. Both are
 * bounded whatever the record holds: the rate line has at most two points per drawable column
 * (minimum and maximum of each), the bad-sector map at most one mark per column.
 */
import { axisLabels, begin, COLORS, contentWidth, type Doc, grouped, niceTicks, paragraph, space, thinLabels } from './layout';

const AXIS = { left: 48, bottom: 30, top: 16, right: 12 };
/** Columns of the rate line; each keeps the lowest and the highest rate in it (at most 2 × this many points). */
const RATE_BUCKETS = 1000;
const LABEL_SIZE = 7.5;

interface RatePoint {
  t: number;
  rate: number;
}

/**
 * Rates between consecutive progress samples (MB/s), reduced to the lowest and highest rate in
 * each of `buckets` equal slices of [0, tMax], in time order. Pairs whose byte count went down
 * (a resumed session that started again lower) or whose rate is not finite are left out.
 */
export function ratePoints(samples: readonly { seconds: number; bytes: number }[], tMax: number, buckets = RATE_BUCKETS): RatePoint[] {
  const out: RatePoint[] = [];
  let bucket = -1;
  let lo: RatePoint | undefined;
  let hi: RatePoint | undefined;
  const flush = () => {
    if (lo && hi) {
      if (lo === hi) out.push(lo);
      else if (lo.t <= hi.t) out.push(lo, hi);
      else out.push(hi, lo);
    }
    lo = hi = undefined;
  };
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = b.seconds - a.seconds;
    const db = b.bytes - a.bytes;
    if (!(dt > 0) || !(db >= 0)) continue;
    const rate = db / dt / 1e6;
    if (!Number.isFinite(rate)) continue;
    const p = { t: b.seconds, rate };
    const k = tMax > 0 ? Math.min(buckets - 1, Math.floor((p.t / tMax) * buckets)) : 0;
    if (k !== bucket) {
      flush();
      bucket = k;
    }
    if (!lo || p.rate < lo.rate) lo = p;
    if (!hi || p.rate > hi.rate) hi = p;
  }
  flush();
  return out;
}

/** v clamped to [0, 1]; NaN gives 0, so no coordinate is ever NaN. */
const unit01 = (v: number) => (v > 0 ? (v < 1 ? v : 1) : 0);

/** The time unit that keeps the axis numbers short. */
function timeUnit(seconds: number): { factor: number; name: string } {
  if (seconds <= 600) return { factor: 1, name: 's' };
  if (seconds <= 600 * 60) return { factor: 60, name: 'min' };
  return { factor: 3600, name: 'h' };
}

/**
 * Read rate over the whole run from the manifest's progress samples (cumulative reading time in
 * seconds, bytes done): the time axis runs to the total reading time of all sessions. With
 * fewer than two rates to draw, a plain note says so instead of an empty frame.
 */
export function rateChart(doc: Doc, samples: readonly { seconds: number; bytes: number }[], durationSeconds: number, title: string): void {
  let lastSample = 0;
  for (const s of samples) if (s.seconds > lastSample) lastSample = s.seconds;
  const tMaxRaw = Math.max(Number.isFinite(durationSeconds) ? durationSeconds : 0, lastSample);
  const points = ratePoints(samples, tMaxRaw);
  if (points.length < 2) {
    paragraph(doc, `${title}: not charted, only ${grouped(samples.length)} progress sample${samples.length === 1 ? ' was' : 's were'} recorded (they are taken every few seconds; the reading took ${durationSeconds.toFixed(3)} s).`, { size: 9, color: COLORS.muted });
    space(doc, 0.6);
    return;
  }
  const height = 170;
  const x0 = doc.page.margins.left;
  const w = contentWidth(doc);
  const titleHeight = 11.06; // DejaVu Sans Bold at 9.5 pt
  begin(doc, titleHeight + 4 + height + 6);
  const y0 = doc.y;
  doc.font('bold').fontSize(9.5).fillColor(COLORS.text).text(title, x0, y0, { lineBreak: false });
  const top = y0 + titleHeight + 4;
  const plot = { x: x0 + AXIS.left, y: top + AXIS.top, w: w - AXIS.left - AXIS.right, h: height - AXIS.top - AXIS.bottom };
  const unit = timeUnit(tMaxRaw);
  let rMax = 0;
  for (const p of points) if (p.rate > rMax) rMax = p.rate;
  const xTicks = niceTicks(Math.max(tMaxRaw / unit.factor, 1e-9));
  const yTicks = niceTicks(Math.max(rMax * 1.1, 1e-9));
  // Positions in axis units (never seconds × factor, which may overflow near the largest double).
  const xEnd = xTicks[xTicks.length - 1]! || 1;
  const yEnd = yTicks[yTicks.length - 1]! || 1;
  const xu = (u: number) => plot.x + unit01(u / xEnd) * plot.w;
  const xs = (t: number) => xu(t / unit.factor);
  const ys = (r: number) => plot.y + plot.h - unit01(r / yEnd) * plot.h;
  const xLabels = axisLabels(xTicks);
  const yLabels = axisLabels(yTicks);
  axes(doc, plot, xTicks.map(xu), xLabels.labels, yTicks.map(ys), yLabels.labels, `elapsed time (${unit.name}${xLabels.unit ? `; ${xLabels.unit}` : ''})`, `read rate (MB/s${yLabels.unit ? `; ${yLabels.unit}` : ''})`);
  doc.moveTo(xs(points[0]!.t), ys(points[0]!.rate));
  for (let i = 1; i < points.length; i++) doc.lineTo(xs(points[i]!.t), ys(points[i]!.rate));
  doc.lineWidth(1).strokeColor(COLORS.accent).stroke();
  doc.fillColor(COLORS.text);
  doc.y = top + height + 6;
}

/**
 * Where the unreadable sectors lie across the device: a bar from sector 0 to the last sector,
 * with every error range marked in red. The bar is cut into columns of half a point and a column
 * is marked when any range touches it (a mark is at least 1 pt wide, so a single sector stays
 * visible), so any number of ranges gives a bounded drawing.
 */
export function badSectorMap(doc: Doc, totalBytes: number, sectorSize: number, errors: readonly { offset: number; length: number }[], title: string): void {
  if (errors.length === 0 || !(totalBytes > 0) || !(sectorSize > 0)) {
    paragraph(doc, `${title}: none, ${errors.length === 0 ? 'every sector was read' : 'the source has no size'} (nothing to map).`, { size: 9, color: COLORS.muted });
    space(doc, 0.6);
    return;
  }
  const height = 96;
  const x0 = doc.page.margins.left;
  const w = contentWidth(doc);
  const titleHeight = 11.06; // DejaVu Sans Bold at 9.5 pt
  begin(doc, titleHeight + height);
  doc.font('bold').fontSize(9.5).fillColor(COLORS.text).text(title, x0, doc.y, { lineBreak: false });
  const top = doc.y + titleHeight + 6;
  const bar = { x: x0 + AXIS.left, y: top + 10, w: w - AXIS.left - AXIS.right, h: 26 };
  doc.rect(bar.x, bar.y, bar.w, bar.h).fill('#d9ead3');
  const columns = Math.max(1, Math.floor(bar.w * 2));
  const marks = new Int32Array(columns + 1);
  for (const e of errors) {
    const start = Math.min(Math.max(0, e.offset), totalBytes);
    const end = Math.min(start + Math.max(0, e.length), totalBytes);
    if (!(end > start)) continue;
    const c0 = Math.min(columns - 1, Math.floor(unit01(start / totalBytes) * columns));
    const c1 = Math.min(columns - 1, Math.max(c0, Math.floor(unit01((end - 1) / totalBytes) * columns)));
    marks[c0]! += 1;
    marks[c1 + 1]! -= 1;
  }
  const colWidth = bar.w / columns;
  let depth = 0;
  let runStart = -1;
  for (let c = 0; c <= columns; c++) {
    depth += c < columns ? marks[c]! : 0;
    const marked = c < columns && depth > 0;
    if (marked && runStart < 0) runStart = c;
    if (!marked && runStart >= 0) {
      const x = bar.x + runStart * colWidth;
      const width = Math.max(1, (c - runStart) * colWidth);
      doc.rect(Math.min(x, bar.x + bar.w - width), bar.y, width, bar.h).fill(COLORS.bad);
      runStart = -1;
    }
  }
  doc.rect(bar.x, bar.y, bar.w, bar.h).lineWidth(0.6).strokeColor(COLORS.muted).stroke();
  const sectors = Math.ceil(totalBytes / sectorSize);
  const ticks = niceTicks(sectors, 6).filter((t) => t < sectors);
  ticks.push(sectors);
  const { labels, unit } = axisLabels(ticks);
  const xs = ticks.map((t) => bar.x + unit01(t / sectors) * bar.w);
  doc.font('sans').fontSize(LABEL_SIZE).fillColor(COLORS.muted);
  const keep = thinLabels(labels.map((l, i) => centredBox(doc, l, xs[i]!, bar.x, bar.x + bar.w)));
  labels.forEach((l, i) => {
    doc.moveTo(xs[i]!, bar.y + bar.h).lineTo(xs[i]!, bar.y + bar.h + 3).lineWidth(0.5).strokeColor(COLORS.muted).stroke();
    if (keep[i]) doc.text(l, centredBox(doc, l, xs[i]!, bar.x, bar.x + bar.w)[0], bar.y + bar.h + 5, { lineBreak: false });
  });
  const caption = `sector${unit ? ` (${unit})` : ''}`;
  doc.text(caption, bar.x + bar.w - doc.widthOfString(caption), bar.y + bar.h + 16, { lineBreak: false });
  const legendY = bar.y + bar.h + 30;
  doc.rect(bar.x, legendY, 8, 8).fill('#d9ead3');
  doc.fillColor(COLORS.text).text('read', bar.x + 12, legendY, { lineBreak: false });
  doc.rect(bar.x + 50, legendY, 8, 8).fill(COLORS.bad);
  doc.fillColor(COLORS.text).text(`unreadable, zero-filled (${grouped(errors.length)} range${errors.length === 1 ? '' : 's'})`, bar.x + 62, legendY, { lineBreak: false });
  doc.fillColor(COLORS.text);
  doc.y = legendY + 14;
  const perColumn = sectors / columns;
  if (perColumn > 1) {
    paragraph(doc, `Each half point of the bar stands for about ${grouped(Math.round(perColumn))} sectors and is red when any of them is unreadable: the red share is not the share of unreadable sectors.`, { size: 7.5, color: COLORS.muted });
  }
  space(doc, 0.4);
}

/** [left, right] of a label centred on x, kept inside [min, max]. */
function centredBox(doc: Doc, label: string, x: number, min: number, max: number): [number, number] {
  const w = doc.widthOfString(label);
  const left = Math.min(Math.max(x - w / 2, min - 8), max + 8 - w);
  return [left, left + w];
}

function axes(doc: Doc, plot: { x: number; y: number; w: number; h: number }, xPos: number[], xLabels: string[], yPos: number[], yLabels: string[], xLabel: string, yLabel: string): void {
  doc.lineWidth(0.4).strokeColor(COLORS.rule);
  for (const y of yPos) doc.moveTo(plot.x, y).lineTo(plot.x + plot.w, y).stroke();
  doc.lineWidth(0.8).strokeColor(COLORS.muted);
  doc.moveTo(plot.x, plot.y).lineTo(plot.x, plot.y + plot.h).lineTo(plot.x + plot.w, plot.y + plot.h).stroke();
  doc.font('sans').fontSize(LABEL_SIZE).fillColor(COLORS.muted);
  const lh = doc.currentLineHeight(true);
  // y labels: right-aligned left of the axis, thinned so that none overlap vertically (bottom up).
  const yKeep = thinLabels(yPos.map((y) => [-(y + lh / 2), -(y - lh / 2)] as [number, number]), 1);
  yLabels.forEach((l, i) => {
    if (yKeep[i]) doc.text(l, plot.x - 4 - doc.widthOfString(l), yPos[i]! - lh / 2, { lineBreak: false });
  });
  const xKeep = thinLabels(xLabels.map((l, i) => centredBox(doc, l, xPos[i]!, plot.x, plot.x + plot.w)));
  xLabels.forEach((l, i) => {
    if (xKeep[i]) doc.text(l, centredBox(doc, l, xPos[i]!, plot.x, plot.x + plot.w)[0], plot.y + plot.h + 4, { lineBreak: false });
  });
  doc.text(xLabel, plot.x + (plot.w - doc.widthOfString(xLabel)) / 2, plot.y + plot.h + 16, { lineBreak: false });
  doc.save();
  doc.rotate(-90, { origin: [plot.x - 40, plot.y + plot.h / 2] });
  doc.text(yLabel, plot.x - 40 - doc.widthOfString(yLabel) / 2, plot.y + plot.h / 2 - 6, { lineBreak: false });
  doc.restore();
}
