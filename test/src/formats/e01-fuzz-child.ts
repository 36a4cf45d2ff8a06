/**
 * The E01 fuzz loop, run by e01-fuzz.test.ts in a child node process with a small heap
 * (--max-old-space-size=512), so that unbounded memory fails the run instead of the machine.
 *
 * Usage: node -r ts-node/register/transpile-only e01-fuzz-child.ts BASE.E01 WORKDIR SEED COUNT CLIDIR CLIEVERY
 * Writes COUNT seeded mutants of the segment set BASE.E01… into WORKDIR, opens, describes and
 * fully reads each (strict, then with tolerateDamage), keeps every CLIEVERY-th mutant in CLIDIR
 * for the CLI round, and prints one JSON summary line.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { isCustosError } from '../../../src/errors';
import { decodeHeader, E01Source, type E01SourceOptions } from '../../../src/formats/e01/reader';
import { segmentExtension } from '../../../src/formats/e01/sections';
import { adler, editSegment, sectionsOf } from './e01-util';

const [base, work, seedArg, countArg, cliDir, cliEveryArg] = process.argv.slice(2);
const seed = Number(seedArg);
const count = Number(countArg);
const cliEvery = Number(cliEveryArg);

let state = seed >>> 0 || 1;
/** xorshift32: the same mutants on every run. */
function rand(): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 2 ** 32;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const baseSegments: Buffer[] = [];
for (let n = 1; existsSync(base!.replace(/E01$/, segmentExtension(n))); n++) baseSegments.push(readFileSync(base!.replace(/E01$/, segmentExtension(n))));

const baseSet = new Set<Buffer>(baseSegments);

interface Field {
  segment: number;
  at: number;
  width: 1 | 2 | 4 | 8;
  /** Checksums to recompute after the change: [from, to, at] ranges of the same segment. */
  fix: (seg: Buffer) => void;
  what: string;
}

const descriptorFix = (off: number) => (seg: Buffer) => seg.writeUInt32LE(adler(seg.subarray(off, off + 72)), off + 72);

/** Every field of the base image worth setting to an extreme, and every structure worth flipping bits in. */
const fields: Field[] = [];
const structures: { segment: number; from: number; to: number; what: string }[] = [];
const chunksAt: { segment: number; from: number; to: number }[] = [];
baseSegments.forEach((seg, segment) => {
  fields.push({ segment, at: 9, width: 2, fix: () => undefined, what: 'segment number' });
  structures.push({ segment, from: 0, to: 13, what: 'file header' });
  for (const s of sectionsOf(seg)) {
    const off = s.offset;
    const data = off + 76;
    structures.push({ segment, from: off, to: off + 76, what: `${s.type} descriptor` });
    fields.push({ segment, at: off + 16, width: 8, fix: descriptorFix(off), what: `${s.type} next` });
    fields.push({ segment, at: off + 24, width: 8, fix: descriptorFix(off), what: `${s.type} size` });
    if (s.type === 'sectors') {
      chunksAt.push({ segment, from: data, to: off + s.size });
      continue;
    }
    if (s.data.length > 0) structures.push({ segment, from: data, to: off + s.size, what: `${s.type} data` });
    const counted = (countAt: number, headerEnd: number, entriesAt: number, entrySize: number) => (b: Buffer) => {
      b.writeUInt32LE(adler(b.subarray(data, data + headerEnd)), data + headerEnd);
      const n = b.readUInt32LE(data + countAt);
      const footer = data + entriesAt + n * entrySize;
      if (footer + 4 <= off + s.size) b.writeUInt32LE(adler(b.subarray(data + entriesAt, footer)), footer);
    };
    if (s.type === 'table' || s.type === 'table2') {
      const fix = counted(0, 20, 24, 4);
      const n = s.data.readUInt32LE(0);
      fields.push({ segment, at: data, width: 4, fix, what: `${s.type} count` }, { segment, at: data + 8, width: 8, fix, what: `${s.type} base` });
      for (const i of [0, 1, n >> 1, n - 1]) fields.push({ segment, at: data + 24 + 4 * i, width: 4, fix, what: `${s.type} entry ${i}` });
    }
    if (s.type === 'volume' || s.type === 'data') {
      const fix = (b: Buffer) => b.writeUInt32LE(adler(b.subarray(data, data + 1048)), data + 1048);
      for (const [at, width, what] of [[0, 1, 'media type'], [4, 4, 'chunk count'], [8, 4, 'sectors per chunk'], [12, 4, 'bytes per sector'], [16, 8, 'sector count'], [52, 1, 'compression']] as const) {
        fields.push({ segment, at: data + at, width, fix, what: `${s.type} ${what}` });
      }
    }
    if (s.type === 'error2') {
      const fix = counted(0, 516, 520, 8);
      fields.push({ segment, at: data, width: 4, fix, what: 'error2 count' }, { segment, at: data + 520, width: 4, fix, what: 'error2 first sector' }, { segment, at: data + 524, width: 4, fix, what: 'error2 sector count' });
    }
    if (s.type === 'digest') fields.push({ segment, at: data, width: 8, fix: (b) => b.writeUInt32LE(adler(b.subarray(data, data + 76)), data + 76), what: 'digest md5' });
  }
});

function extreme(width: number, old: bigint, fileSize: number): bigint {
  const max = (1n << BigInt(width * 8)) - 1n;
  const candidates = [0n, 1n, 2n, 75n, 76n, max, max - 1n, max >> 1n, (max >> 1n) + 1n, old + 1n, old - 1n, old * 2n, old >> 1n, BigInt(fileSize), BigInt(fileSize) + 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, BigInt(int(2 ** 32))];
  const v = pick(candidates);
  return ((v % (max + 1n)) + (max + 1n)) % (max + 1n);
}

function readField(b: Buffer, f: Field): bigint {
  return f.width === 8 ? b.readBigUInt64LE(f.at) : BigInt(b.readUIntLE(f.at, f.width));
}
function writeField(b: Buffer, f: Field, v: bigint): void {
  if (f.width === 8) b.writeBigUInt64LE(v, f.at);
  else b.writeUIntLE(Number(v), f.at, f.width);
}

const TYPES = ['header2', 'header', 'volume', 'data', 'disk', 'sectors', 'table', 'table2', 'error2', 'digest', 'hash', 'next', 'done', 'session', 'ltree', '\u00ff\u0001weird'];

/** One mutation of `segs` (copies are made as needed); returns what it did. */
function mutateOnce(segs: (Buffer | null)[]): string {
  // Base segments are shared by every mutant: copy before the first change.
  const own = (i: number) => {
    if (baseSet.has(segs[i]!)) segs[i] = Buffer.from(segs[i]!);
    return segs[i]!;
  };
  const live = segs.map((s, i) => (s ? i : -1)).filter((i) => i >= 0);
  const kind = pick(['flip-any', 'flip-structure', 'flip-structure', 'chunk', 'truncate', 'field', 'field', 'field', 'type', 'segments', 'header'] as const);
  switch (kind) {
    case 'flip-any': {
      const i = pick(live);
      const b = own(i);
      const at = int(b.length);
      b[at] ^= 1 << int(8);
      return `flip ${i}@${at}`;
    }
    case 'flip-structure': {
      const s = pick(structures.filter((x) => segs[x.segment] && x.to <= segs[x.segment]!.length));
      if (!s) return 'none';
      const b = own(s.segment);
      const at = s.from + int(s.to - s.from);
      const how = int(3);
      b[at] = how === 0 ? b[at]! ^ (1 << int(8)) : how === 1 ? int(256) : pick([0, 0xff]);
      return `${s.what} byte ${at - s.from}`;
    }
    case 'chunk': {
      const c = pick(chunksAt.filter((x) => segs[x.segment] && x.to <= segs[x.segment]!.length));
      if (!c) return 'none';
      const b = own(c.segment);
      const n = 1 + int(4);
      for (let k = 0; k < n; k++) b[c.from + int(c.to - c.from)] ^= 1 << int(8);
      return `chunk bytes x${n}`;
    }
    case 'truncate': {
      const i = pick(live);
      const b = segs[i]!;
      const secs = sectionsOf(baseSegments[i]!);
      const len = int(2) === 0 ? int(b.length) : Math.max(0, Math.min(b.length - 1, pick(secs).offset + int(160) - 80));
      segs[i] = Buffer.from(b.subarray(0, len));
      return `truncate ${i} to ${len}`;
    }
    case 'field': {
      const f = pick(fields.filter((x) => segs[x.segment] && x.at + x.width <= segs[x.segment]!.length));
      if (!f) return 'none';
      const b = own(f.segment);
      const v = extreme(f.width, readField(b, f), b.length);
      writeField(b, f, v);
      const fixed = rand() < 0.75;
      if (fixed) {
        try {
          f.fix(b);
        } catch {
          // a footer beyond the buffer: left as it is
        }
      }
      return `${f.what} = ${v}${fixed ? ' (checksums fixed)' : ''}`;
    }
    case 'type': {
      const i = pick(live);
      const b = own(i);
      const secs = sectionsOf(baseSegments[i]!).filter((s) => s.offset + 76 <= b.length);
      if (secs.length < 2) return 'none';
      const a = pick(secs);
      const c = pick(secs);
      const typeA = Buffer.from(b.subarray(a.offset, a.offset + 16));
      if (int(2) === 0) b.subarray(c.offset, c.offset + 16).copy(b, a.offset);
      else Buffer.from(pick(TYPES).padEnd(16, '\0'), 'latin1').copy(b, a.offset, 0, 16);
      if (int(2) === 0) typeA.copy(b, c.offset);
      if (rand() < 0.85) {
        descriptorFix(a.offset)(b);
        descriptorFix(c.offset)(b);
      }
      return `type ${a.type}<->${c.type}`;
    }
    case 'segments': {
      const how = int(4);
      if (how === 0 && segs.length > 1) {
        segs[segs.length - 1 - int(segs.length - 1)] = null;
        return 'segment deleted';
      }
      if (how === 1) {
        segs.push(segs[segs.length - 1] ?? baseSegments[0]!);
        return 'last segment duplicated';
      }
      if (how === 2 && segs.length > 2) {
        [segs[1], segs[2]] = [segs[2]!, segs[1]!];
        return 'segments 2 and 3 swapped';
      }
      segs[segs.length - 1] = baseSegments[0]!;
      return 'last segment replaced by the first';
    }
    case 'header': {
      if (!segs[0] || segs[0] !== baseSegments[0]) return 'none';
      const inflated = inflateSync(sectionsOf(baseSegments[0]!).find((s) => s.type === 'header2')!.data);
      const craft = pick([
        () => deflateSync(Buffer.concat([inflated, Buffer.from([0x41])])),
        () => deflateSync(Buffer.concat([Buffer.from([0xfe, 0xff]), inflated.subarray(2)])),
        () => deflateSync(Buffer.concat([Buffer.from([0xfe, 0xff]), inflated.subarray(2), Buffer.from([1])])),
        () => deflateSync(inflated.subarray(2)),
        () => deflateSync(inflated.subarray(0, int(inflated.length))),
        () => deflateSync(Buffer.from(Array.from({ length: 300 }, () => int(256)))),
        () => deflateSync(Buffer.concat([inflated.subarray(0, 40), Buffer.alloc(3 << 20, 0x41)])),
        () => deflateSync(Buffer.alloc(6 << 20)),
        () => deflateSync(inflated).subarray(0, 20),
        () => Buffer.alloc(0),
      ]);
      const body = craft();
      const which = int(3);
      segs[0] = editSegment(baseSegments[0]!, (list) => {
        let k = 0;
        return list.map((s) => (s.type === 'header2' && (which === 2 || k++ === which) ? { ...s, data: body } : s));
      });
      return `header2 crafted (${body.length} bytes)`;
    }
  }
}

// What the intact image says about itself: a mutant that opens must say the same, unless the
// mutation rewrote that structure with valid checksums (which no reader can tell from the truth).
const baseInfo = (() => {
  const s = new E01Source(base!);
  s.close();
  return s.info;
})();
const asciiHeader = decodeHeader(sectionsOf(baseSegments[0]!).find((x) => x.type === 'header')!.data, false).values;
function checkMetadata(info: E01Source['info'], what: string): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const rewrote = (structure: string) => new RegExp(`${structure}[^;]*\\(checksums fixed\\)|type `).test(what);
  if (!same(info.readErrors, baseInfo.readErrors) && !rewrote('error2')) problems.push(`${what}: read errors ${JSON.stringify(info.readErrors)} accepted`);
  if (!same(info.stored, baseInfo.stored) && !rewrote('digest') && !rewrote('hash')) problems.push(`${what}: stored hashes ${JSON.stringify(info.stored)} accepted`);
  const header = info.header;
  if (!/header2 crafted|type /.test(what) && !same(header, baseInfo.header) && !same(header, asciiHeader) && !same(header, {})) problems.push(`${what}: header ${JSON.stringify(header)} accepted`);
}

const problems: string[] = [];
const codes: Record<string, number> = {};
let maxMs = 0;
let maxWhat = '';
let maxRss = 0;
let opened = 0;
let damagedReads = 0;
const started = performance.now();

async function exercise(first: string, options: E01SourceOptions, what: string, dir: string): Promise<void> {
  try {
    const s = new E01Source(first, options);
    opened++;
    try {
      JSON.stringify(s.info);
      checkMetadata(s.info, what);
      const buf = Buffer.alloc(1 << 20);
      let bad = 0;
      for (let at = 0; at < s.size; at += buf.length) {
        const n = Math.min(buf.length, s.size - at);
        for (const r of await s.readFully(buf.subarray(0, n), at)) {
          if (r.offset < at || r.offset + r.length > at + n || r.length <= 0) problems.push(`${what}: range ${JSON.stringify(r)} outside the read at ${at}`);
          bad += r.length;
        }
      }
      if ((bad > 0) !== (s.damage.count > 0)) problems.push(`${what}: ${bad} damaged bytes returned, ${s.damage.count} damaged chunks recorded`);
      if (bad > 0) damagedReads++;
    } finally {
      s.close();
    }
    codes.ok = (codes.ok ?? 0) + 1;
  } catch (e) {
    if (!isCustosError(e)) {
      problems.push(`${what}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? String(e)}`);
      return;
    }
    codes[e.code] = (codes[e.code] ?? 0) + 1;
    if (!e.message.includes(dir)) problems.push(`${what}: the error does not name the file: ${e.message}`);
    if (/undefined|NaN|\[object/.test(e.message)) problems.push(`${what}: ${e.message}`);
  }
}

(async () => {
  for (let i = 0; i < count; i++) {
    const segs: (Buffer | null)[] = [...baseSegments];
    const n = rand() < 0.15 ? 2 + int(3) : 1;
    const what = `mutant ${i} (seed ${seed}): ${Array.from({ length: n }, () => mutateOnce(segs)).join('; ')}`;
    const dir = join(work!, `m${i}`);
    mkdirSync(dir);
    segs.forEach((b, k) => {
      if (!b) return;
      const p = join(dir, `img.${segmentExtension(k + 1)}`);
      // Unchanged segments are hard links to the base: only what changed is written.
      if (b === baseSegments[k]) linkSync(base!.replace(/E01$/, segmentExtension(k + 1)), p);
      else writeFileSync(p, b);
    });
    const t0 = performance.now();
    await exercise(join(dir, 'img.E01'), {}, `${what} [strict]`, dir);
    await exercise(join(dir, 'img.E01'), { tolerateDamage: true }, `${what} [tolerant]`, dir);
    const ms = performance.now() - t0;
    if (ms > maxMs) {
      maxMs = ms;
      maxWhat = what;
    }
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
    if (i % cliEvery === cliEvery - 1) {
      const keep = join(cliDir!, `m${i}`);
      mkdirSync(keep, { recursive: true });
      segs.forEach((b, k) => b && writeFileSync(join(keep, `img.${segmentExtension(k + 1)}`), b));
      writeFileSync(join(keep, 'what.txt'), what);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = { count, opened, damagedReads, codes, problems: problems.slice(0, 20), problemCount: problems.length, maxMs, maxWhat, maxRss, maxRssResource: process.resourceUsage().maxRSS * 1024, totalMs: performance.now() - started };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
})().catch((e) => {
  process.stdout.write(`${JSON.stringify({ crash: (e as Error).stack ?? String(e) })}\n`);
  process.exitCode = 2;
});
