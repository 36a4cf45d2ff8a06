/**
 * The E01 reader against damaged and hostile files: known answers from libewf (ewfexport, ewfinfo,
 * ewfverify with and without -w), every damaged chunk listed with its place, and every structure
 * that can lie (headers, volume, tables, error2, descriptors) bounded and checked.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { CustosError } from '../../../src/errors';
import { decodeHeader, E01Source, type E01SourceOptions, MAX_DAMAGE_RECORDS } from '../../../src/formats/e01/reader';
import { MAX_SEGMENT_NUMBER, segmentExtension } from '../../../src/formats/e01/sections';
import { hasTool, makeTempDir, pseudoRandomBytes, runCli, tool } from '../../helpers';
import { adler, buildE01, chunkMap, editSegment, error2Body, ewfverify, rawChunk, sectionsOf } from './e01-util';

const ewf = ['ewfverify', 'ewfinfo', 'ewfexport', 'ewfacquire'].every(hasTool);
const d = ewf ? describe : describe.skip;
if (!ewf) test.skip('libewf comparisons skipped: ewf-tools is not installed (apt-get install ewf-tools)', () => undefined);

let tmp: ReturnType<typeof makeTempDir>;
let source: string;
let sourceBytes: Buffer;
beforeAll(() => {
  tmp = makeTempDir('custos-e01-damage-');
  // 1.5 MiB random (stored raw), 0.5 MiB zeros and 0.5 MiB text (compressed): 80 chunks of 32 KiB.
  sourceBytes = Buffer.concat([pseudoRandomBytes(3 << 19, 11), Buffer.alloc(1 << 19), Buffer.from('custos E01 damage line\n'.repeat(30_000)).subarray(0, 1 << 19)]);
  source = join(tmp.dir, 'source.bin');
  writeFileSync(source, sourceBytes);
});
afterAll(() => tmp?.cleanup());

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Reads the whole media in reads of `step` bytes; returns the bytes and every range readFully returned. */
async function readAll(first: string, options: E01SourceOptions = {}, step = 1 << 20) {
  const s = new E01Source(first, options);
  try {
    const out = Buffer.alloc(s.size);
    const ranges: { offset: number; length: number }[] = [];
    for (let at = 0; at < s.size; at += step) ranges.push(...(await s.readFully(out.subarray(at, Math.min(at + step, s.size)), at)));
    return { bytes: out, ranges, damage: s.damage, info: s.info };
  } finally {
    s.close();
  }
}

async function failure(fn: () => Promise<unknown> | unknown): Promise<CustosError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CustosError);
    return e as CustosError;
  }
  throw new Error('expected a CustosError');
}

/** Copies an image set into a new folder (as img.E01, img.E02…) and returns the segment paths. */
function copySet(first: string, name: string): string[] {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const out: string[] = [];
  for (let n = 1; ; n++) {
    const from = first.replace(/\.E01$/, `.${segmentExtension(n)}`);
    try {
      copyFileSync(from, join(dir, `img.${segmentExtension(n)}`));
    } catch {
      break;
    }
    out.push(join(dir, `img.${segmentExtension(n)}`));
  }
  return out;
}

function acquireWithLibewf(name: string, args: string[]): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  tool('ewfacquire', ['-u', '-q', '-t', join(dir, 'img'), '-C', 'C-7', '-E', 'E-7', '-e', 'Examiner', '-D', 'Damage test', '-N', 'notes', ...args, source]);
  return join(dir, 'img.E01');
}

d('known answers from libewf', () => {
  test.each([
    ['encase6, fast, 1 MiB segments', ['-f', 'encase6', '-c', 'fast', '-S', '1MiB']],
    ['encase6, no compression, 1 MiB segments', ['-f', 'encase6', '-c', 'none', '-S', '1MiB']],
    ['encase5, best', ['-f', 'encase5', '-c', 'best']],
    ['encase2', ['-f', 'encase2', '-c', 'fast']],
    ['ftk', ['-f', 'ftk', '-c', 'fast']],
    ['linen6', ['-f', 'linen6', '-c', 'fast']],
    ['encase7, 128 sectors per chunk', ['-f', 'encase7', '-c', 'fast', '-b', '128']],
  ])('%s: the media equals ewfexport\'s, the geometry ewfinfo\'s, and nothing is damaged', async (label, args) => {
    const first = acquireWithLibewf(label.replace(/\W+/g, '-'), args);
    const exported = join(tmp.dir, `${label.replace(/\W+/g, '-')}-export`);
    tool('ewfexport', ['-q', '-u', '-f', 'raw', '-t', exported, first]);
    const expected = readFileSync(`${exported}.raw`);
    const r = await readAll(first, { tolerateDamage: true }, 100_000);
    expect(r.bytes.equals(expected)).toBe(true);
    expect(r.ranges).toEqual([]);
    expect(r.damage).toEqual({ count: 0, ranges: [] });
    const info = tool('ewfinfo', [first]);
    expect(info).toContain(`Number of sectors:\t${r.info.sectorCount}`);
    expect(info).toContain(`Bytes per sector:\t${r.info.bytesPerSector}`);
    expect(info).toContain(`Sectors per chunk:\t${r.info.sectorsPerChunk}`);
    expect(r.info.header.c).toBe('C-7');
    expect(r.info.warnings).toBeUndefined();
  });
});

d('damaged chunks: listed one by one, read past with tolerateDamage, hashed as ewfverify hashes them', () => {
  let fast: string;
  let map: ReturnType<typeof chunkMap>;
  beforeAll(() => {
    fast = acquireWithLibewf('fast', ['-f', 'encase6', '-c', 'fast', '-S', '1MiB']);
    map = chunkMap([readFileSync(fast), readFileSync(fast.replace(/E01$/, 'E02'))]);
  });

  /** Damages a copy: `edits` are [chunk, offset in the stored chunk (negative: from its end), new byte or xor]. */
  function damaged(name: string, edits: [number, number, { xor: number } | { set: number }][]): string[] {
    const paths = copySet(fast, name);
    for (const [chunk, rel, how] of edits) {
      const c = map[chunk]!;
      const file = paths[c.segment]!;
      const bytes = readFileSync(file);
      const at = c.offset + (rel < 0 ? c.size + rel : rel);
      bytes[at] = 'xor' in how ? bytes[at]! ^ how.xor : how.set;
      writeFileSync(file, bytes);
    }
    return paths;
  }

  test('the image has raw chunks in both segments and compressed ones in the second (what the cases below need)', () => {
    expect(map).toHaveLength(80);
    expect(map[3]).toMatchObject({ segment: 0, compressed: false });
    expect(map[40]).toMatchObject({ segment: 1, compressed: false });
    expect(map[70]).toMatchObject({ segment: 1, compressed: true });
  });

  test.each([
    ['a raw chunk with a changed byte: its stored bytes, as ewfverify without -w', 5, 1000, { xor: 0x20 }, 'stored-bytes', /checksum mismatch \(Adler-32\)/],
    ['a raw chunk whose Adler-32 is damaged: its stored bytes, which are intact', 5, -2, { xor: 0x01 }, 'stored-bytes', /checksum mismatch \(Adler-32\)/],
    ['a compressed chunk whose zlib Adler-32 is damaged: the bytes it inflates to', 70, -1, { xor: 0x01 }, 'stored-bytes', /checksum mismatch \(zlib Adler-32\)/],
  ] as const)('%s', async (label, chunk, rel, how, filledWith, reason) => {
    const [first] = damaged(label.replace(/\W+/g, '-').slice(0, 40), [[chunk, rel, how]]);
    const tolerant = await readAll(first!, { tolerateDamage: true });
    const zeroed = await readAll(first!, { tolerateDamage: true, zeroDamaged: true });
    const v = ewfverify(first!);
    const w = ewfverify(first!, true);
    expect(v.ranges).toEqual([{ firstSector: chunk * 64, sectorCount: 64 }]);
    expect(tolerant.damage.ranges.map((r) => ({ firstSector: r.firstSector, sectorCount: r.sectorCount }))).toEqual(v.ranges);
    expect(tolerant.damage.ranges[0]).toMatchObject({ chunk, filledWith, reason: expect.stringMatching(reason) });
    expect(md5(tolerant.bytes)).toBe(v.md5);
    expect(md5(zeroed.bytes)).toBe(w.md5);
    expect(zeroed.damage.ranges[0]!.filledWith).toBe('zeros');
    // Independent known answers: the source with the change (a raw byte) or unchanged (a damaged checksum), and zeros.
    const expected = Buffer.from(sourceBytes);
    if (rel === 1000) expected[chunk * 32768 + 1000] ^= 0x20;
    expect(tolerant.bytes.equals(expected)).toBe(true);
    expected.fill(0, chunk * 32768, (chunk + 1) * 32768);
    expect(zeroed.bytes.equals(expected)).toBe(true);
  });

  test('three damaged chunks in two segments: every one listed with its media and file offsets; zeros where nothing can be decoded', async () => {
    const paths = damaged('three', [
      [3, 777, { xor: 0x04 }],
      [40, -3, { xor: 0x80 }],
      [70, 2, { set: 0xff }], // an invalid deflate block type: nothing inflates
    ]);
    const first = paths[0]!;
    // Strict: the first damaged chunk fails the read, naming it, its media offset, file and file offset.
    const e = await failure(() => readAll(first));
    expect(e.code).toBe('CORRUPT_IMAGE');
    expect(e.message).toBe(`${first}: chunk 3 (media offset ${3 * 32768}, img.E01 offset ${map[3]!.offset}): checksum mismatch (Adler-32): the chunk was changed or damaged`);

    // Tolerant, in reads that do not follow chunk boundaries: every range comes back, clipped to the reads.
    const r = await readAll(first, { tolerateDamage: true }, 10_000);
    const merged: { offset: number; length: number }[] = [];
    for (const x of r.ranges) {
      const last = merged[merged.length - 1];
      if (last && last.offset + last.length === x.offset) last.length += x.length;
      else merged.push({ ...x });
    }
    expect(merged).toEqual([3, 40, 70].map((c) => ({ offset: c * 32768, length: 32768 })));
    expect(r.damage.count).toBe(3);
    expect(r.damage.ranges).toEqual([
      { offset: 3 * 32768, length: 32768, firstSector: 192, sectorCount: 64, file: paths[0], fileOffset: map[3]!.offset, chunk: 3, reason: 'checksum mismatch (Adler-32): the chunk was changed or damaged', filledWith: 'stored-bytes' },
      { offset: 40 * 32768, length: 32768, firstSector: 2560, sectorCount: 64, file: paths[1], fileOffset: map[40]!.offset, chunk: 40, reason: 'checksum mismatch (Adler-32): the chunk was changed or damaged', filledWith: 'stored-bytes' },
      { offset: 70 * 32768, length: 32768, firstSector: 4480, sectorCount: 64, file: paths[1], fileOffset: map[70]!.offset, chunk: 70, reason: expect.stringMatching(/^corrupt compressed data \(invalid block type\)$/), filledWith: 'zeros' },
    ]);
    const expected = Buffer.from(sourceBytes);
    expected[3 * 32768 + 777] ^= 0x04;
    expected.fill(0, 70 * 32768, 71 * 32768);
    expect(r.bytes.equals(expected)).toBe(true);

    // ewfverify lists the same sectors; with -w its MD5 is ours with zeroDamaged.
    const w = ewfverify(first, true);
    expect(w.ranges).toEqual([{ firstSector: 192, sectorCount: 64 }, { firstSector: 2560, sectorCount: 64 }, { firstSector: 4480, sectorCount: 64 }]);
    expect(w.status).not.toBe(0);
    const z = await readAll(first, { tolerateDamage: true, zeroDamaged: true });
    expect(md5(z.bytes)).toBe(w.md5);
    for (const c of [3, 40, 70]) expect(z.bytes.subarray(c * 32768, (c + 1) * 32768).equals(Buffer.alloc(32768))).toBe(true);
  });

  test('a chunk read again is counted once', async () => {
    const [first] = damaged('twice', [[8, 5, { xor: 1 }]]);
    const s = new E01Source(first!, { tolerateDamage: true });
    const buf = Buffer.alloc(100);
    for (const at of [8 * 32768, 9 * 32768, 8 * 32768 + 500, 0, 8 * 32768 + 32700]) await s.readFully(buf, at);
    expect(s.damage.count).toBe(1);
    expect(s.damage.ranges).toHaveLength(1);
    s.close();
  });

  test('a table whose entries checksum fails is replaced by its mirror (table2), as libewf does', async () => {
    const paths = copySet(fast, 'table-mirror');
    const seg = readFileSync(paths[1]!);
    const table = sectionsOf(seg).find((s) => s.type === 'table')!;
    seg[table.offset + 76 + 24 + 4 * 10 + 1] ^= 0x01; // entry 10 moves 256 bytes
    writeFileSync(paths[1]!, seg);
    expect(ewfverify(paths[0]!).out).toContain('SUCCESS');
    const r = await readAll(paths[0]!);
    expect(r.bytes.equals(sourceBytes)).toBe(true);
    expect(r.info.warnings).toEqual([`img.E02: table section at offset ${table.offset}: entries checksum mismatch; its mirror (table2 at offset ${table.next}) was used`]);

    // Both copies damaged: refused, unless damage is tolerated; then the chunks it misplaces are found by their checksums.
    const table2 = sectionsOf(seg).find((s) => s.type === 'table2')!;
    seg[table2.offset + 76 + 24 + 4 * 10 + 1] ^= 0x01;
    writeFileSync(paths[1]!, seg);
    const e = await failure(() => new E01Source(paths[0]!));
    expect(e.message).toBe(`${paths[1]}: table section at offset ${table.offset}: entries checksum mismatch, and no intact mirror (table2) follows it`);
    const t = await readAll(paths[0]!, { tolerateDamage: true });
    // Entry 10 moved 256 bytes on: chunk 9 of the segment still finds its data and checksum first, chunk 10 is too short.
    expect(t.damage.ranges.map((x) => [x.chunk, x.filledWith])).toEqual([[31 + 10, 'zeros']]);
    expect(t.info.warnings?.[0]).toMatch(/entries were used as they are/);
  });
});

describe('damage beyond MAX_DAMAGE_RECORDS is counted, not kept', () => {
  test(`${MAX_DAMAGE_RECORDS + 50} damaged chunks: count exact, first ${MAX_DAMAGE_RECORDS} kept in order`, async () => {
    const n = MAX_DAMAGE_RECORDS + 50;
    const chunk = rawChunk(Buffer.alloc(512, 0x41));
    chunk.data.writeUInt32LE(0, 512); // wrong Adler-32 in every chunk
    const p = join(tmp.dir, 'many-damaged.E01');
    writeFileSync(p, buildE01({ sectorsPerChunk: 1, bytesPerSector: 512, sectorCount: n, chunks: [chunk], repeat: n }));
    const r = await readAll(p, { tolerateDamage: true });
    expect(r.damage.count).toBe(n);
    expect(r.damage.ranges).toHaveLength(MAX_DAMAGE_RECORDS);
    expect(r.damage.ranges[MAX_DAMAGE_RECORDS - 1]!.chunk).toBe(MAX_DAMAGE_RECORDS - 1);
    // One range per read (each read is all damage), together the whole media.
    expect(r.ranges).toEqual(Array.from({ length: Math.ceil((n * 512) / (1 << 20)) }, (_, i) => ({ offset: i << 20, length: Math.min(1 << 20, n * 512 - (i << 20)) })));
    expect(r.bytes.equals(Buffer.alloc(n * 512, 0x41))).toBe(true);
  });
});

describe('the chunk index is compact', () => {
  test('2,000,000 chunks take typed arrays, not an object each', async () => {
    const n = 2_000_000;
    const chunk = { data: deflateSync(Buffer.alloc(512)), compressed: true };
    const p = join(tmp.dir, 'two-million.E01');
    writeFileSync(p, buildE01({ sectorsPerChunk: 1, bytesPerSector: 512, sectorCount: n, chunks: [chunk], repeat: n }));
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = used();
    const s = new E01Source(p);
    const after = used();
    // 8 MB of entries (plus the 8 MB table read, until collected); an object per chunk was over 100 MB.
    expect(after - before).toBeLessThan(40 * 1024 * 1024);
    expect(s.info.chunkCount).toBe(n);
    const buf = Buffer.alloc(1024, 0xee);
    expect(await s.readFully(buf, (n - 2) * 512)).toEqual([]);
    expect(buf.equals(Buffer.alloc(1024))).toBe(true);
    s.close();
  });
});

describe('header sections are decoded defensively', () => {
  const utf16 = (s: string) => Buffer.from(s, 'utf16le');
  const text = '3\nmain\na\tc\tn\te\tt\nDesc\tCASE-1\tEV-1\tAlex\tNotes\n\nsrce\n';
  const values = { a: 'Desc', c: 'CASE-1', n: 'EV-1', e: 'Alex', t: 'Notes' };

  test('UTF-16LE and UTF-16BE with their byte-order marks give the same values', () => {
    expect(decodeHeader(deflateSync(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16(text)])), true)).toEqual({ values, problems: [] });
    expect(decodeHeader(deflateSync(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16(text).swap16()])), true)).toEqual({ values, problems: [] });
  });

  test('an odd length (the crash found by fuzzing), a missing BOM, missing lines, a dangerous identifier', () => {
    const odd = decodeHeader(deflateSync(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16(text), Buffer.from([0x41])])), true);
    expect(odd.values).toEqual(values);
    expect(odd.problems).toEqual([`odd length (${text.length * 2 + 1} bytes of UTF-16): the last byte was ignored`]);
    const oddBe = decodeHeader(deflateSync(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16(text).swap16(), Buffer.from([0x41])])), true);
    expect(oddBe.values).toEqual(values);
    expect(decodeHeader(deflateSync(utf16(text)), true)).toEqual({ values, problems: ['no byte-order mark: read as UTF-16LE'] });
    expect(decodeHeader(deflateSync(Buffer.from([0xfe])), true)).toMatchObject({ values: {}, problems: expect.arrayContaining([expect.stringMatching(/odd length/), expect.stringMatching(/only 1 line/)]) });
    expect(decodeHeader(deflateSync(Buffer.from('1\nmain\nc\tn\n')), false)).toEqual({ values: { c: '', n: '' }, problems: ['2 identifiers but 1 values'] });
    expect(decodeHeader(deflateSync(Buffer.from('1\nmain\n')), false)).toEqual({ values: {}, problems: ['only 3 line(s): the identifiers and values of the main category are missing'] });
    const proto = decodeHeader(deflateSync(Buffer.from('1\r\nmain\r\n__proto__\tconstructor\tc\r\nx\ty\tz\r\n')), false);
    expect(Object.getPrototypeOf(proto.values)).toBe(Object.prototype);
    expect(proto.values).toEqual({ constructor: 'y', c: 'z' });
  });

  test('huge and control-character values are cut and made harmless; data that does not inflate is named', () => {
    const big = decodeHeader(deflateSync(Buffer.from(`1\nmain\nc\tn\n${'A'.repeat(1_000_000)}\tx\x1b[31mred\x07\n`)), false);
    expect(big.values.c).toHaveLength(8193);
    expect(big.values.n).toBe('x\uFFFD[31mred\uFFFD');
    expect(big.problems).toEqual(['1 value(s) longer than 8192 characters were cut']);
    expect(decodeHeader(deflateSync(Buffer.alloc(5 << 20, 0x41)), false).problems).toEqual(['inflates to more than 4194304 bytes, more than any header holds']);
    expect(decodeHeader(Buffer.from('not zlib at all'), true).problems[0]).toMatch(/^corrupt compressed data \(incorrect header check\)$/);
  });
});

d('hostile structures in an image give one CustosError naming the file and the place', () => {
  let first: string;
  let seg1: Buffer;
  beforeAll(() => {
    first = acquireWithLibewf('structure', ['-f', 'encase6', '-c', 'fast', '-S', '1MiB']);
    seg1 = readFileSync(first);
  });

  /** An image set whose first (or `which`) segment is `bytes`, the others copied unchanged. */
  function variant(name: string, bytes: Buffer, which = 0): string {
    const paths = copySet(first, name);
    writeFileSync(paths[which]!, bytes);
    return paths[0]!;
  }
  const replaceData = (seg: Buffer, type: string, data: (old: Buffer) => Buffer, nth = 0) => {
    let k = 0;
    return editSegment(seg, (list) => list.map((s) => (s.type === type && k++ === nth ? { ...s, data: data(s.data) } : s)));
  };
  const withChecksum = (b: Buffer, upto: number) => {
    b.writeUInt32LE(adler(b.subarray(0, upto)), upto);
    return b;
  };

  test('a header2 of odd length (the fuzzing crash): read, values kept, warning; the CLI shows them', async () => {
    const h2 = sectionsOf(seg1).find((s) => s.type === 'header2')!;
    const inflated = require('node:zlib').inflateSync(h2.data) as Buffer;
    const odd = deflateSync(Buffer.concat([inflated, Buffer.from([0x20])]));
    const p = variant('odd-header2', replaceData(replaceData(seg1, 'header2', () => odd, 0), 'header2', () => odd, 1));
    const r = await readAll(p);
    expect(r.bytes.equals(sourceBytes)).toBe(true);
    expect(r.info.header).toMatchObject({ c: 'C-7', n: 'E-7', e: 'Examiner', a: 'Damage test', t: 'notes' });
    expect(r.info.warnings).toEqual([`img.E01: header2 section at offset 13: odd length (${inflated.length - 1} bytes of UTF-16): the last byte was ignored`]);
    for (const cmd of [['info', p], ['verify', p, '--no-progress']]) {
      const c = runCli(cmd);
      expect([c.status, c.stderr]).toEqual([0, '']);
    }
  });

  test('every header copy damaged: the media is still read, the header is empty and each failure named', async () => {
    let bytes = seg1;
    for (const [type, nth] of [['header2', 0], ['header2', 1], ['header', 0]] as const) bytes = replaceData(bytes, type, (old) => Buffer.concat([old.subarray(0, 10), Buffer.from('garbage!'), old.subarray(18)]), nth);
    const p = variant('bad-headers', bytes);
    const r = await readAll(p);
    expect(r.bytes.equals(sourceBytes)).toBe(true);
    expect(r.info.header).toEqual({});
    expect(r.info.warnings).toHaveLength(3);
    for (const w of r.info.warnings!) expect(w).toMatch(/^img\.E01: header2? section at offset \d+: corrupt compressed data/);
  });

  test('the first header2 copy damaged: the second is used, and that is said', async () => {
    const p = variant('one-bad-header2', replaceData(seg1, 'header2', (old) => Buffer.from(old).fill(0x33, 4, 30), 0));
    const r = await readAll(p);
    expect(r.info.header.c).toBe('C-7');
    expect(r.info.warnings).toEqual([expect.stringMatching(/^img\.E01: header2 section at offset 13: corrupt compressed data \(.*\); another header section was used$/)]);
  });

  test.each([
    ['sector count beyond Number.MAX_SAFE_INTEGER bytes', (v: Buffer) => v.writeBigUInt64LE(1n << 60n, 16), /volume section at offset \d+: implausible media size: 1152921504606846976 sectors of 512 bytes/],
    ['more chunks than the files could hold', (v: Buffer) => v.writeBigUInt64LE(1n << 40n, 16), /volume section at offset \d+: 17179869184 chunks of media \(562949953421312 bytes\) cannot be stored in the \d+ bytes of the segment files present/],
    ['zero sectors per chunk', (v: Buffer) => v.writeUInt32LE(0, 8), /implausible geometry: 0 sectors of 512 bytes per chunk/],
    ['4 GiB chunks', (v: Buffer) => v.writeUInt32LE(65536, 12) && v.writeUInt32LE(32768, 8), /implausible geometry: 32768 sectors of 65536 bytes per chunk/],
    ['fewer sectors than the tables hold', (v: Buffer) => v.writeBigUInt64LE(64n, 16), /table section at offset \d+: lists 31 chunks after 0, but the volume section has only 1/],
  ])('volume: %s', async (_label, change, message) => {
    const p = variant(`volume-${_label.replace(/\W+/g, '-')}`, replaceData(seg1, 'volume', (old) => {
      const v = Buffer.from(old);
      change(v);
      return withChecksum(v, 1048);
    }));
    const e = await failure(() => new E01Source(p));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(e.message).toMatch(message);
  });

  test('a segment of another image (another set identifier) is refused by name', async () => {
    const seg2 = readFileSync(first.replace(/E01$/, 'E02'));
    const other = replaceData(seg2, 'data', (old) => withChecksum(Buffer.from(old).fill(0x77, 64, 80), 1048));
    const p = variant('other-image', other, 1);
    const e = await failure(() => new E01Source(p));
    expect(e.message).toMatch(/img\.E02: data section at offset 13: describes other media than the volume section of img\.E01 \(set identifier 77777777-7777-7777-7777-777777777777, expected [0-9a-f-]+\): the segment belongs to another image/);
  });

  describe('error2', () => {
    /** The last segment with an error2 section before its hash section. */
    function withError2(data: Buffer): string {
      const seg2 = readFileSync(first.replace(/E01$/, 'E02'));
      const bytes = editSegment(seg2, (list) => {
        const at = list.findIndex((s) => s.type === 'hash' || s.type === 'digest');
        return [...list.slice(0, at), { type: 'error2', data }, ...list.slice(at)];
      });
      return variant(`error2-${Math.random().toString(36).slice(2)}`, bytes, 1);
    }

    test('valid ranges are read as written', async () => {
      const ranges = [{ firstSector: 0, sectorCount: 1 }, { firstSector: 100, sectorCount: 64 }, { firstSector: 5119, sectorCount: 1 }];
      const s = new E01Source(withError2(error2Body(ranges)));
      expect(s.info.readErrors).toEqual(ranges);
      s.close();
    });

    test.each([
      ['header checksum', (e: Buffer) => (e[516] ^= 1), /error2 section at offset \d+: header checksum mismatch: the list of unreadable sectors cannot be trusted/],
      ['entries checksum (read-error records silently dropped before)', (e: Buffer) => (e[520 + 3] ^= 1), /error2 section at offset \d+: entries checksum mismatch: the list of unreadable sectors cannot be trusted/],
      ['8,000,000 entries claimed in a small section', (e: Buffer) => withChecksum(e, 516) && e.writeUInt32LE(8_000_000, 0) && withChecksum(e, 516), /8000000 entries do not fit in 540 bytes/],
    ])('damaged %s', async (_label, change, message) => {
      const e2 = error2Body([{ firstSector: 7, sectorCount: 2 }, { firstSector: 700, sectorCount: 3 }]);
      change(e2);
      const e = await failure(() => new E01Source(withError2(e2)));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toMatch(message);
    });

    test('a range outside the media, and an empty range, are refused', async () => {
      expect((await failure(() => new E01Source(withError2(error2Body([{ firstSector: 5100, sectorCount: 21 }]))))).message).toMatch(/entry 0 \(sectors 5100\+21\) lies outside the media's 5120 sectors/);
      expect((await failure(() => new E01Source(withError2(error2Body([{ firstSector: 1, sectorCount: 1 }, { firstSector: 3, sectorCount: 0 }]))))).message).toMatch(/entry 1 \(sectors 3\+0\)/);
    });

    test('1,000,000 ranges are kept in bounded memory; 1,000,001 are refused', async () => {
      const many = Array.from({ length: 1_000_000 }, (_, i) => ({ firstSector: i % 5120, sectorCount: 1 }));
      const p = withError2(error2Body(many));
      const before = process.memoryUsage().heapUsed;
      const s = new E01Source(p);
      expect(s.info.readErrors).toHaveLength(1_000_000);
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024);
      s.close();
      many.push({ firstSector: 1, sectorCount: 1 });
      expect((await failure(() => new E01Source(withError2(error2Body(many))))).message).toMatch(/1000001 ranges of unreadable sectors: more than the 1000000 custos accepts/);
    });
  });

  test.each([
    ['a section size of 2^64-1', (d: Buffer) => d.writeBigUInt64LE(0xffffffffffffffffn, 24), /size 18446744073709551615 runs past the end of the file/],
    ['a next offset pointing back', (d: Buffer) => d.writeBigUInt64LE(13n, 16), /next section offset 13 is out of bounds/],
    ['a next offset of 2^53+1', (d: Buffer) => d.writeBigUInt64LE(2n ** 53n + 1n, 16), /next section offset 9007199254740993 is out of bounds/],
  ])('descriptor: %s', async (_label, change, message) => {
    const bytes = Buffer.from(seg1);
    const vol = sectionsOf(bytes).find((s) => s.type === 'volume')!;
    const desc = bytes.subarray(vol.offset, vol.offset + 76);
    change(desc);
    withChecksum(desc, 72);
    const e = await failure(() => new E01Source(variant(`desc-${_label.replace(/\W+/g, '-')}`, bytes)));
    expect(e.message).toMatch(new RegExp(`img\\.E01: volume section at offset ${vol.offset}: `));
    expect(e.message).toMatch(message);
  });

  test('a table entry count of 2^32-1 is refused before anything is built', async () => {
    const bytes = replaceData(seg1, 'table', (old) => withChecksum(Buffer.from(old).fill(0xff, 0, 4), 20));
    const e = await failure(() => new E01Source(variant('table-count', bytes)));
    expect(e.message).toMatch(/table section at offset \d+: 4294967295 entries do not fit in \d+ bytes/);
  });

  test('a read beyond the media is refused, not looped on', async () => {
    const s = new E01Source(first);
    await expect(s.readFully(Buffer.alloc(10), s.size - 5)).rejects.toThrow(/a read of 10 bytes there lies beyond the end of the image/);
    await expect(s.readFully(Buffer.alloc(10), -1)).rejects.toBeInstanceOf(CustosError);
    s.close();
  });
});

describe('segment files', () => {
  test('names go to .ZZZ and no further, with a CustosError', () => {
    expect(segmentExtension(MAX_SEGMENT_NUMBER)).toBe('ZZZ');
    expect(segmentExtension(MAX_SEGMENT_NUMBER - 1)).toBe('ZZY');
    expect(() => segmentExtension(MAX_SEGMENT_NUMBER + 1)).toThrow(CustosError);
    expect(() => segmentExtension(MAX_SEGMENT_NUMBER + 1)).toThrow(/beyond \.ZZZ/);
  });

  test('a FIFO named .E01 is refused at once (no hang), /dev/zero too', async () => {
    const fifo = join(tmp.dir, 'pipe.E01');
    execFileSync('mkfifo', [fifo]);
    const e = await failure(() => new E01Source(fifo));
    expect(e.code).toBe('NOT_A_FILE');
    expect(e.message).toContain('a pipe (FIFO)');
    const zero = join(tmp.dir, 'zero.E01');
    symlinkSync('/dev/zero', zero);
    expect((await failure(() => new E01Source(zero))).message).toContain('a character device');
    const cli = spawnSync(process.execPath, [join(__dirname, '../../../bin/run.js'), 'info', fifo], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_ENV: 'production' } });
    expect([cli.status, cli.stderr]).toEqual([3, expect.stringMatching(/a pipe \(FIFO\)|is not a regular file or block device/)]);
  });
});
