/**
 * Shared by the tests of src/stream, src/formats, src/verify and src/convert: what independent
 * tools say about a file (coreutils over byte ranges, split(1) layouts, ewfinfo's report), and
 * in-memory implementations of the engine's interfaces (ByteSource, ImageWriter) that record what
 * the engine did with them. Nothing here calls custos to judge custos.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { adler, descriptorBytes, tableBody, volumeBody } from './formats/e01-util';
import type { ByteRange, ByteSource, ImageWriter, OutputFile } from '../../src/formats/types';
import { makeTempDir, pseudoRandomBytes } from '../helpers';

/** Runs a shell pipeline with "$1" bound to `file`; fails the test when it fails. */
function sh(script: string, file: string): string {
  const r = spawnSync('sh', ['-c', script, 'sh', file], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`sh -c '${script}' ${file} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The digest coreutils (`md5sum`, `sha1sum`, `sha256sum`, `sha512sum`) gives for [offset, offset+length) of a file. */
export function rangeDigest(cmd: 'md5sum' | 'sha1sum' | 'sha256sum' | 'sha512sum', file: string, offset: number, length: number): string {
  return sh(`tail -c +${offset + 1} "$1" | head -c ${length} | ${cmd}`, file).split(/\s+/)[0]!;
}

/** The digests of consecutive pieces of `size` bytes of a file (the last may be shorter), by coreutils. */
export function pieceDigests(cmd: 'md5sum' | 'sha1sum' | 'sha256sum' | 'sha512sum', file: string, total: number, size: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < total; at += size) out.push(rangeDigest(cmd, file, at, Math.min(size, total - at)));
  return out;
}

/** The digest a coreutils tool gives for bytes fed on its standard input. */
export function bytesDigest(cmd: 'md5sum' | 'sha1sum' | 'sha256sum' | 'sha512sum', bytes: Uint8Array): string {
  const r = spawnSync(cmd, ['-'], { input: bytes, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  return r.stdout.split(/\s+/)[0]!;
}

/**
 * Cuts `file` into `dir/prefix.001`, `.002`, … of `size` bytes with coreutils split(1), numbered
 * from 1 with `width` digits (`split -d -a WIDTH --numeric-suffixes=1`); returns the paths in order.
 */
export function splitWithCoreutils(file: string, dir: string, prefix: string, size: number, width = 3): string[] {
  const r = spawnSync('split', ['-b', String(size), `--numeric-suffixes=1`, '-a', String(width), file, join(dir, `${prefix}.`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`split: ${r.stderr}`);
  return readdirSync(dir)
    .filter((n) => n.startsWith(`${prefix}.`) && /^\d+$/.test(n.slice(prefix.length + 1)))
    .sort()
    .map((n) => join(dir, n));
}

/** Media of pseudo-random bytes and the set coreutils split(1) cut it into, made in a temporary folder before the tests of a file. */
export interface SplitSetFixture {
  dir: string;
  media: string;
  data: Buffer;
  /** The segments split(1) wrote, in order (`set/ev.001`, …). */
  parts: string[];
  /** A new empty folder inside `dir`. */
  folder(label: string): string;
}

/** Registers beforeAll/afterAll that make (and remove) a SplitSetFixture of `size` bytes cut every `segment` bytes. */
export function splitSetFixture(label: string, size: number, segment: number, seed: number): SplitSetFixture {
  let tmp: { dir: string; cleanup: () => void } | undefined;
  let n = 0;
  const fx = {
    folder(name: string): string {
      const d = join(fx.dir, `${name}-${n++}`);
      mkdirSync(d);
      return d;
    },
  } as SplitSetFixture;
  beforeAll(() => {
    tmp = makeTempDir(`custos-${label}-`);
    fx.dir = tmp.dir;
    fx.media = join(tmp.dir, 'media.bin');
    fx.data = pseudoRandomBytes(size, seed);
    writeFileSync(fx.media, fx.data);
    mkdirSync(join(tmp.dir, 'set'));
    fx.parts = splitWithCoreutils(fx.media, join(tmp.dir, 'set'), 'ev', segment);
  });
  afterAll(() => tmp?.cleanup());
  return fx;
}

/** What ewfinfo (libewf) prints about an E01 set: acquiry fields, stored digests, read errors. */
export interface EwfinfoReport {
  text: string;
  fields: Record<string, string>;
  md5?: string;
  sha1?: string;
  bytesPerSector?: number;
  sectors?: number;
  readErrors: { firstSector: number; sectorCount: number }[];
}

export function ewfinfo(first: string): EwfinfoReport {
  const r = spawnSync('ewfinfo', [first], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ewfinfo ${first} exited ${r.status}: ${r.stderr}`);
  const text = r.stdout;
  const fields: Record<string, string> = {};
  for (const m of text.matchAll(/^\t([A-Za-z][A-Za-z ]+):\t+(.*)$/gm)) fields[m[1]!] = m[2]!;
  const section = /Read errors during acquiry\n([^]*?)(?:\n\n|$)/.exec(text)?.[1] ?? '';
  return {
    text,
    fields,
    md5: /^\tMD5:\t+([0-9a-f]{32})$/m.exec(text)?.[1],
    sha1: /^\tSHA1:\t+([0-9a-f]{40})$/m.exec(text)?.[1],
    bytesPerSector: fields['Bytes per sector'] ? Number(fields['Bytes per sector']) : undefined,
    sectors: fields['Number of sectors'] ? Number(fields['Number of sectors']) : undefined,
    readErrors: [...section.matchAll(/at sector\(s\): (\d+) - (\d+) number: (\d+)/g)].map((m) => ({ firstSector: Number(m[1]), sectorCount: Number(m[3]) })),
  };
}

/** Exports an E01 set to BASE.raw with libewf's ewfexport; returns the raw file's path. */
export function ewfexportRaw(first: string, target: string): string {
  const r = spawnSync('ewfexport', ['-q', '-u', '-f', 'raw', '-t', target, first], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ewfexport ${first} exited ${r.status}: ${r.stderr}`);
  return `${target}.raw`;
}

/** Runs ewfacquire unattended on `source` into `target`.E01…; extra arguments as ewfacquire takes them. */
export function ewfacquire(source: string, target: string, args: string[] = []): string {
  const r = spawnSync('ewfacquire', ['-u', '-q', '-t', target, ...args, source], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ewfacquire ${source} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return `${target}.E01`;
}

/**
 * An E01 set of `count` segment files built from the EWF specification with the test tools of
 * ./formats/e01-util.ts (not custos's writer): segment k holds one compressed 32 KiB chunk of the
 * byte k & 0xff; the first has a header and the volume section, the others a data section, the
 * last a digest (MD5, SHA-1) and done. Named BASE.E01 … as libewf names segments. Returns the
 * file names in order and the media's MD5.
 */
export function buildE01Set(dir: string, base: string, count: number, extension: (n: number) => string): { names: string[]; md5: string } {
  const volume = volumeBody({ sectorsPerChunk: 64, bytesPerSector: 512, sectorCount: count * 64, chunkCount: count, guid: Buffer.alloc(16, 0x11) });
  const md5 = createHash('md5');
  const sha1 = createHash('sha1');
  const names: string[] = [];
  for (let k = 1; k <= count; k++) {
    const media = Buffer.alloc(32768, k & 0xff);
    md5.update(media);
    sha1.update(media);
    const chunk = deflateSync(media);
    const parts: Buffer[] = [Buffer.from([0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00, 0x01, k & 0xff, k >> 8, 0x00, 0x00])];
    let at = 13;
    const add = (type: string, data: Buffer) => {
      parts.push(descriptorBytes(type, at + 76 + data.length, 76 + data.length), data);
      at += 76 + data.length;
    };
    if (k === 1) {
      add('header', deflateSync(Buffer.from('1\nmain\nc\tn\ta\te\tt\tav\tov\tm\tu\tp\ncase\tev\tdesc\texam\tnotes\t1\tLinux\t1700000000\t1700000000\t0\n\n', 'latin1')));
      add('volume', volume);
    } else add('data', volume);
    const sectorsAt = at;
    add('sectors', chunk);
    const table = tableBody(sectorsAt, [(76 | 0x80000000) >>> 0]);
    add('table', table);
    add('table2', table);
    if (k === count) {
      const digest = Buffer.alloc(80);
      Buffer.from(md5.copy().digest('hex'), 'hex').copy(digest, 0);
      Buffer.from(sha1.digest('hex'), 'hex').copy(digest, 16);
      digest.writeUInt32LE(adler(digest.subarray(0, 76)), 76);
      add('digest', digest);
    }
    parts.push(descriptorBytes(k === count ? 'done' : 'next', at, 0));
    const name = `${base}.${extension(k)}`;
    writeFileSync(join(dir, name), Buffer.concat(parts));
    names.push(name);
  }
  return { names, md5: md5.digest('hex') };
}

/**
 * A ByteSource over bytes in memory, as the engine's interface asks: `bad` ranges read as zeros
 * and are returned by the reads that touch them (clipped to the read), `failAt` makes the read
 * covering that offset reject, `delay` makes reads take time. Records its reads and closes.
 */
export class MemorySource implements ByteSource {
  readonly directFds: number[] = [];
  readonly reads: { position: number; length: number; at: number }[] = [];
  closed = 0;
  constructor(
    readonly bytes: Buffer,
    readonly o: { bad?: ByteRange[]; failAt?: number; path?: string } = {},
  ) {}

  get path(): string {
    return this.o.path ?? 'memory';
  }

  async readFully(view: Uint8Array, position: number): Promise<ByteRange[]> {
    this.reads.push({ position, length: view.length, at: Date.now() });
    if (this.o.failAt !== undefined && this.o.failAt >= position && this.o.failAt < position + view.length) {
      throw new Error(`read failed at ${this.o.failAt}`);
    }
    view.set(this.bytes.subarray(position, position + view.length));
    const out: ByteRange[] = [];
    for (const b of this.o.bad ?? []) {
      const from = Math.max(b.offset, position);
      const to = Math.min(b.offset + b.length, position + view.length);
      if (from < to) {
        view.fill(0, from - position, to - position);
        out.push({ offset: from, length: to - from });
      }
    }
    return out;
  }

  close(): void {
    this.closed++;
  }
}

/**
 * An ImageWriter that keeps the media in memory and records each call. `delayFor(offset)` gives
 * the milliseconds a write takes (so later chunks' hashing finishes first), `failAt` makes the
 * write at that offset reject. Overlapping calls (which the interface forbids) are counted.
 */
export class MemoryWriter implements ImageWriter {
  readonly finalPaths: readonly string[] = [];
  readonly writes: { offset: number; length: number }[] = [];
  /** Bytes whose write has completed, in the order they completed. */
  completed = 0;
  overlapping = 0;
  private busy = false;
  readonly media: Buffer;
  constructor(
    size: number,
    readonly o: { delayFor?: (offset: number) => number; failAt?: number } = {},
  ) {
    this.media = Buffer.alloc(size);
  }

  async write(data: Uint8Array, offset: number): Promise<void> {
    if (this.busy) this.overlapping++;
    this.busy = true;
    this.writes.push({ offset, length: data.length });
    try {
      // Copied at once: the slot is the writer's only until the returned promise settles.
      const copy = Buffer.from(data);
      const ms = this.o.delayFor?.(offset) ?? 0;
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      if (this.o.failAt === offset) throw new Error(`write failed at ${offset}`);
      copy.copy(this.media, offset);
      this.completed += data.length;
    } finally {
      this.busy = false;
    }
  }

  async sync(): Promise<void> {}
  async finish(): Promise<OutputFile[]> {
    return [];
  }
  async commit(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
export async function thrown(fn: () => unknown): Promise<Error & { code?: string; hint?: string; path?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}

/** Synchronous form of `thrown`. */
export function thrownSync(fn: () => unknown): Error & { code?: string; hint?: string; path?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}
