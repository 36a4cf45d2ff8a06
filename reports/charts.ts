/** Vector charts for reports, drawn with pdfkit paths: labelled axes, no raster images. */
import { COLORS, contentWidth, type Doc, ensureSpace, niceTicks } from './layout';

const AXIS = { left: 48, bottom: 30, top: 16, right: 12 };

/**
 * Read rate over time from the manifest's progress samples (seconds, bytes done): the rate
 * between consecutive samples, in MB/s, as a line.
 */
export function rateChart(doc: Doc, samples: { seconds: number; bytes: number }[], title: string): void {
  const height = 170;
  ensureSpace(doc, height + 30);
  const x0 = doc.page.margins.left;
  const w = contentWidth(doc);
  const y0 = doc.y;
  doc.font('bold').fontSize(9.5).fillColor(COLORS.text).text(title, x0, y0, { width: w });
  const top = doc.y + 4;
  const plot = { x: x0 + AXIS.left, y: top + AXIS.top, w: w - AXIS.left - AXIS.right, h: height - AXIS.top - AXIS.bottom };
  const points: { t: number; rate: number }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i]!.seconds - samples[i - 1]!.seconds;
    if (dt > 0) points.push({ t: samples[i]!.seconds, rate: (samples[i]!.bytes - samples[i - 1]!.bytes) / dt / 1e6 });
  }
  const tMax = Math.max(1, ...samples.map((s) => s.seconds));
  const rMax = Math.max(1, ...points.map((p) => p.rate));
  const xTicks = niceTicks(tMax);
  const yTicks = niceTicks(rMax * 1.1);
  const xs = (t: number) => plot.x + (t / xTicks[xTicks.length - 1]!) * plot.w;
  const ys = (r: number) => plot.y + plot.h - (r / yTicks[yTicks.length - 1]!) * plot.h;
  axes(doc, plot, xTicks, yTicks, xs, ys, 'elapsed time (s)', 'read rate (MB/s)');
  if (points.length === 0) {
    doc.font('sans').fontSize(8.5).fillColor(COLORS.muted).text('Too short to chart: fewer than two progress samples were recorded.', plot.x + 10, plot.y + plot.h / 2 - 5, { width: plot.w - 20, align: 'center' });
  } else {
    doc.moveTo(xs(points[0]!.t), ys(points[0]!.rate));
    for (const p of points.slice(1)) doc.lineTo(xs(p.t), ys(p.rate));
    doc.lineWidth(1.2).strokeColor(COLORS.accent).stroke();
  }
  doc.fillColor(COLORS.text);
  doc.y = top + height + 6;
}

/**
 * Where the unreadable sectors lie across the device: a bar from sector 0 to the last sector,
 * with every error range marked in red (at least 1 pt wide, so a single sector stays visible).
 */
export function badSectorMap(doc: Doc, totalBytes: number, sectorSize: number, errors: { offset: number; length: number }[], title: string): void {
  const height = 88;
  ensureSpace(doc, height + 30);
  const x0 = doc.page.margins.left;
  const w = contentWidth(doc);
  doc.font('bold').fontSize(9.5).fillColor(COLORS.text).text(title, x0, doc.y, { width: w });
  const top = doc.y + 6;
  const bar = { x: x0 + AXIS.left, y: top + 10, w: w - AXIS.left - AXIS.right, h: 26 };
  doc.rect(bar.x, bar.y, bar.w, bar.h).fill('#d9ead3');
  const scale = totalBytes > 0 ? bar.w / totalBytes : 0;
  for (const e of errors) doc.rect(bar.x + e.offset * scale, bar.y, Math.max(1, e.length * scale), bar.h).fill(COLORS.bad);
  doc.rect(bar.x, bar.y, bar.w, bar.h).lineWidth(0.6).strokeColor(COLORS.muted).stroke();
  const sectors = Math.ceil(totalBytes / sectorSize);
  const ticks = niceTicks(sectors, 6).filter((t) => t <= sectors);
  if (ticks[ticks.length - 1] !== sectors) ticks.push(sectors);
  doc.font('sans').fontSize(7.5).fillColor(COLORS.muted);
  for (const t of ticks) {
    const x = bar.x + (sectors > 0 ? (t / sectors) * bar.w : 0);
    doc.moveTo(x, bar.y + bar.h).lineTo(x, bar.y + bar.h + 3).lineWidth(0.5).strokeColor(COLORS.muted).stroke();
    doc.text(String(t), x - 30, bar.y + bar.h + 5, { width: 60, align: 'center', lineBreak: false });
  }
  doc.text('sector', bar.x + bar.w - 60, bar.y + bar.h + 16, { width: 60, align: 'right', lineBreak: false });
  const legendY = bar.y + bar.h + 28;
  doc.rect(bar.x, legendY, 8, 8).fill('#d9ead3');
  doc.fillColor(COLORS.text).text('read', bar.x + 12, legendY, { lineBreak: false });
  doc.rect(bar.x + 50, legendY, 8, 8).fill(COLORS.bad);
  doc.fillColor(COLORS.text).text(`unreadable, zero-filled (${errors.length} range${errors.length === 1 ? '' : 's'})`, bar.x + 62, legendY, { lineBreak: false });
  doc.fillColor(COLORS.text);
  doc.y = legendY + 18;
}

function axes(
  doc: Doc,
  plot: { x: number; y: number; w: number; h: number },
  xTicks: number[],
  yTicks: number[],
  xs: (v: number) => number,
  ys: (v: number) => number,
  xLabel: string,
  yLabel: string,
): void {
  doc.lineWidth(0.4).strokeColor(COLORS.rule);
  for (const t of yTicks) doc.moveTo(plot.x, ys(t)).lineTo(plot.x + plot.w, ys(t)).stroke();
  doc.lineWidth(0.8).strokeColor(COLORS.muted);
  doc.moveTo(plot.x, plot.y).lineTo(plot.x, plot.y + plot.h).lineTo(plot.x + plot.w, plot.y + plot.h).stroke();
  doc.font('sans').fontSize(7.5).fillColor(COLORS.muted);
  for (const t of yTicks) doc.text(String(t), plot.x - 42, ys(t) - 4, { width: 38, align: 'right', lineBreak: false });
  for (const t of xTicks) doc.text(String(t), xs(t) - 20, plot.y + plot.h + 4, { width: 40, align: 'center', lineBreak: false });
  doc.text(xLabel, plot.x, plot.y + plot.h + 16, { width: plot.w, align: 'center', lineBreak: false });
  doc.save();
  doc.rotate(-90, { origin: [plot.x - 40, plot.y + plot.h / 2] });
  doc.text(yLabel, plot.x - 40 - 60, plot.y + plot.h / 2 - 6, { width: 120, align: 'center', lineBreak: false });
  doc.restore();
}
