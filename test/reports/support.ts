/** Shared set-up and PDF inspection for the report tests: a real case acquired from the sample image, and poppler/qpdf readers. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireRecorded } from '../../src/services/acquire';
import { createIdentity, loadSigner, type Signer } from '../../src/custody/identity';
import { appendEntry, initCase } from '../../src/custody';
import type { AcquisitionManifest } from '../../src/manifest/manifest';
import { fixedEnvironment, hasTool, ROOT, SAMPLE_IMAGE, tool } from '../helpers';

export const PDF_TOOLS = ['pdftotext', 'qpdf', 'pdffonts', 'pdfinfo', 'pdftohtml'].every(hasTool);
export const SKIP_MESSAGE = 'report tests skipped: poppler-utils and qpdf are not installed (apt-get install poppler-utils qpdf)';
export const PASS = 'correct horse battery';

export interface TestCase {
  home: string;
  caseDir: string;
  manifest: string;
  signer: Signer;
  env: Record<string, string>;
}

/** A case folder with an identity, a ledger, an acquisition of the sample image (verified) and three notes. */
export async function makeCase(dir: string): Promise<TestCase> {
  const home = join(dir, 'home');
  createIdentity({ name: 'Alex Morgan', role: 'forensic examiner', passphrase: PASS, home, now: new Date('2026-01-01T00:00:00Z') });
  const signer = loadSigner(home, undefined, PASS, new Date('2026-03-14T09:00:00Z'));
  const caseDir = join(dir, 'case');
  await initCase(caseDir, { caseId: '2026-0314-HARBOUR', description: 'USB stick', purpose: 'warrant 26-WR-0419' }, signer, fixedEnvironment('2026-03-14T09:00:00Z'));
  const r = await acquireRecorded(
    {
      source: SAMPLE_IMAGE,
      outDir: caseDir,
      format: 'raw',
      algorithms: ['md5', 'sha1', 'sha256', 'sha512'],
      retries: 2,
      verify: true,
      env: fixedEnvironment('2026-03-14T09:10:00Z'),
      case: { caseNumber: '2026-0314-HARBOUR', evidenceNumber: 'EV-0001', examiner: 'Alex Morgan', description: 'USB stick, black', notes: 'Bag A1234567' },
    },
    { caseDir, signer, env: fixedEnvironment('2026-03-14T09:10:00Z') },
  );
  for (let i = 0; i < 3; i++) await appendEntry(caseDir, { action: 'note', evidence: ['EV-0001'], details: { text: `note ${i}` } }, signer, fixedEnvironment(`2026-03-14T10:0${i}:00Z`));
  return { home, caseDir, manifest: r.manifestPath, signer, env: { CUSTOS_HOME: home, CUSTOS_PASSPHRASE: PASS } };
}

/** A copy of the manifest changed by `mutate`, written to `out` (schema validity is the caller's business). */
export function manifestVariant(from: string, out: string, mutate: (m: AcquisitionManifest) => void): string {
  const m = JSON.parse(readFileSync(from, 'utf8')) as AcquisitionManifest;
  mutate(m);
  writeFileSync(out, JSON.stringify(m, null, 1));
  return out;
}

/** pdftotext -layout of the whole document, or of one page. */
export function text(pdf: string, page?: number): string {
  return tool('pdftotext', [...(page ? ['-f', String(page), '-l', String(page)] : []), '-layout', pdf, '-']);
}

/** The text of each page (pdftotext separates pages with a form feed). */
export function pageTexts(pdf: string): string[] {
  const pages = tool('pdftotext', ['-layout', pdf, '-']).split('\f');
  if (pages[pages.length - 1]!.trim() === '') pages.pop();
  return pages;
}

export const pageCount = (pdf: string) => Number(/Pages:\s+(\d+)/.exec(tool('pdfinfo', [pdf]))![1]);

/** One run of text as poppler sees it: page, box in points, font family and size, colour. */
export interface TextRun {
  page: number;
  top: number;
  left: number;
  width: number;
  height: number;
  family: string;
  size: number;
  color: string;
  text: string;
}

const decode = (s: string) =>
  s
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/**
 * Every text run with its font, from pdftohtml -xml at zoom 2 (sizes in half points, so 8 and
 * 8.5 pt differ); positions are returned in points. The subset prefix of font names is removed.
 */
export function textRuns(pdf: string): TextRun[] {
  const xml = tool('pdftohtml', ['-xml', '-i', '-q', '-stdout', '-zoom', '2', pdf]);
  const fonts = new Map<string, { family: string; size: number; color: string }>();
  for (const m of xml.matchAll(/<fontspec id="(\d+)" size="(-?\d+)" family="([^"]+)" color="([^"]+)"\/>/g)) {
    fonts.set(m[1]!, { family: m[3]!.replace(/^[A-Z]{6}\+/, ''), size: Number(m[2]) / 2, color: m[4]! });
  }
  const runs: TextRun[] = [];
  let page = 0;
  for (const line of xml.split('\n')) {
    const p = /^<page number="(\d+)"/.exec(line);
    if (p) page = Number(p[1]);
    const t = /^<text top="(-?\d+)" left="(-?\d+)" width="(\d+)" height="(\d+)" font="(\d+)">(.*)<\/text>$/.exec(line);
    if (t) {
      const f = fonts.get(t[5]!)!;
      runs.push({ page, top: Number(t[1]) / 2, left: Number(t[2]) / 2, width: Number(t[3]) / 2, height: Number(t[4]) / 2, ...f, text: decode(t[6]!) });
    }
  }
  return runs;
}

/** The PDF's creation date from pdfinfo, as an ISO instant. */
export function creationDate(pdf: string): string {
  const raw = spawnSync('pdfinfo', ['-isodates', pdf], { encoding: 'utf8' }).stdout;
  return /CreationDate:\s+(\S+)/.exec(raw)![1]!;
}

/** Uncompressed page content (qpdf --qdf), to count drawing operators. */
export function qdf(pdf: string): string {
  return spawnSync('qpdf', ['--qdf', '--object-streams=disable', pdf, '-'], { maxBuffer: 512 * 1024 * 1024 }).stdout.toString('latin1');
}

export interface BoundedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the child in MiB, as it reported at exit (undefined when it died first). */
  maxRssMiB?: number;
  seconds: number;
}

/**
 * Runs the built CLI in a child with its JavaScript heap capped and a (generous) time limit; the
 * child reports its own peak RSS when it exits, so memory can be asserted loosely.
 */
export function runCliBounded(args: string[], o: { env?: Record<string, string>; heapMiB?: number; timeoutMs?: number } = {}): BoundedRun {
  const wrapper = `process.on('exit',()=>process.stderr.write('\\nMAXRSS_KB '+process.resourceUsage().maxRSS+'\\n'));require(${JSON.stringify(join(ROOT, 'bin', 'run.js'))}).main();`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [`--max-old-space-size=${o.heapMiB ?? 384}`, '-e', wrapper, '--', 'custos', ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...o.env },
    timeout: o.timeoutMs ?? 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const rss = /MAXRSS_KB (\d+)/.exec(r.stderr ?? '');
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '').replace(/\n?MAXRSS_KB \d+\n?/, ''),
    maxRssMiB: rss ? Number(rss[1]) / 1024 : undefined,
    seconds: (Date.now() - t0) / 1000,
  };
}
