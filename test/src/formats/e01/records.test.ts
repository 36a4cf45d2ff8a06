/**
 * The records inside E01 sections: header2/header decoded from real ewfacquire output give the
 * values ewfinfo prints; hostile headers give problems, never exceptions (seeded fuzz included);
 * volume and error2 bodies are bounded and checksummed, each failure a one-line INVALID_INPUT
 * naming the file and the place; zlib streams inflate without trusting their trailer.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { bad, clean, decodeHeader, guidOf, inflateWhole, readError2, readVolume, sameMedia, type Volume } from '../../../../src/formats/e01/records';
import { hasTool, makeTempDir, pseudoRandomBytes } from '../../../helpers';
import { adler, error2Body, sectionsOf, volumeBody } from '../e01-util';
import { ewfacquire, ewfinfo, thrownSync } from '../../image-support';

const MiB = 1024 * 1024;
const ewf = hasTool('ewfacquire') && hasTool('ewfinfo');
if (!ewf) test.skip('decoding of real ewfacquire headers skipped: ewf-tools is not installed (apt-get install ewf-tools)', () => undefined);

let tmp: ReturnType<typeof makeTempDir>;
let media: string;
beforeAll(() => {
  tmp = makeTempDir('custos-records-');
  media = join(tmp.dir, 'media.bin');
  writeFileSync(media, pseudoRandomBytes(MiB, 101));
});
afterAll(() => tmp.cleanup());

/** A header2 body as EnCase writes it: UTF-16LE with byte-order mark, zlib. */
const header2 = (text: string) => deflateSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
/** A header body: ASCII, zlib. */
const header = (text: string) => deflateSync(Buffer.from(text, 'latin1'));

(ewf ? describe : describe.skip)('decodeHeader on real ewfacquire output', () => {
  let segment: Buffer;
  let info: ReturnType<typeof ewfinfo>;
  beforeAll(() => {
    mkdirSync(join(tmp.dir, 'acq'));
    const first = ewfacquire(media, join(tmp.dir, 'acq', 'ev'), ['-C', 'Fall 7/2026', '-E', 'EV-9', '-D', 'Stick, schwarz', '-e', 'Jürgen Ødegård', '-N', 'Tüte A1']);
    segment = readFileSync(first);
    info = ewfinfo(first);
  });

  test('both header2 copies: the values ewfinfo prints, no problems', () => {
    const copies = sectionsOf(segment).filter((s) => s.type === 'header2');
    expect(copies.length).toBe(2);
    for (const s of copies) {
      const { values, problems } = decodeHeader(s.data, true);
      expect(problems).toEqual([]);
      expect({ c: values.c, n: values.n, a: values.a, e: values.e, t: values.t, av: values.av, ov: values.ov }).toEqual({
        c: info.fields['Case number'],
        n: info.fields['Evidence number'],
        a: info.fields.Description,
        e: info.fields['Examiner name'],
        t: info.fields.Notes,
        av: info.fields['Software version used'],
        ov: info.fields['Operating system used'],
      });
      expect(values.e).toBe('Jürgen Ødegård');
    }
  });

  test('the ASCII header: the same identifiers, ASCII values as ewfinfo shows them', () => {
    const s = sectionsOf(segment).find((x) => x.type === 'header')!;
    const { values, problems } = decodeHeader(s.data, false);
    expect(problems).toEqual([]);
    expect(values.c).toBe(info.fields['Case number']);
    expect(values.n).toBe(info.fields['Evidence number']);
    expect(values.a).toBe(info.fields.Description);
    expect(values.av).toBe(info.fields['Software version used']);
    // libewf writes characters outside ASCII as SUB (0x1a) there; shown, they are U+FFFD.
    expect(values.e).toBe('J\uFFFDrgen \uFFFDdeg\uFFFDrd');
  });
});

describe('decodeHeader on hostile input: problems named, never an exception', () => {
  const MAIN = '1\nmain\nc\tn\te\n';

  test('a well-formed header2 and header', () => {
    expect(decodeHeader(header2(`${MAIN}C-1\tE-2\tAnna\n\n`), true)).toEqual({ values: { c: 'C-1', n: 'E-2', e: 'Anna' }, problems: [] });
    expect(decodeHeader(header(`1\r\nmain\r\nc\tn\r\nC-1\tE-2\r\n\r\n`), false)).toEqual({ values: { c: 'C-1', n: 'E-2' }, problems: [] });
  });

  test('not zlib at all', () => {
    const r = decodeHeader(Buffer.from('this is not compressed'), true);
    expect(r.values).toEqual({});
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^corrupt compressed data \(/);
  });

  test('a zlib bomb: inflating stops at 4 MiB', () => {
    const r = decodeHeader(deflateSync(Buffer.alloc(5 * MiB, 0x41)), false);
    expect(r).toEqual({ values: {}, problems: ['inflates to more than 4194304 bytes, more than any header holds'] });
  });

  test('too few lines, and another first category', () => {
    expect(decodeHeader(header('1\nmain'), false)).toEqual({ values: {}, problems: ['only 2 line(s): the identifiers and values of the main category are missing'] });
    const r = decodeHeader(header('1\nsrce\nc\nX\n'), false);
    expect(r.values).toEqual({ c: 'X' });
    expect(r.problems).toEqual(['the first category is "srce", not "main"']);
  });

  test('more identifiers than values, duplicates (the first wins), identifiers that are not identifiers', () => {
    const r = decodeHeader(header('1\nmain\nc\tc\tn\t__proto__\t1x\te\nfirst\tsecond\tthird\tpolluted\tbad\n'), false);
    expect(r.values).toEqual({ c: 'first', n: 'third', e: '' });
    expect(Object.getPrototypeOf(r.values)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(r.problems).toEqual(['6 identifiers but 5 values', '2 identifier(s) that are not identifiers were ignored']);
  });

  test('300 identifiers: 256 kept, the rest named', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const r = decodeHeader(header(`1\nmain\n${ids.join('\t')}\n${ids.map((x) => x.toUpperCase()).join('\t')}\n`), false);
    expect(Object.keys(r.values)).toHaveLength(256);
    expect(r.values.k255).toBe('K255');
    expect(r.values.k256).toBeUndefined();
    expect(r.problems).toContain('more than 256 identifiers: the rest were ignored');
  });

  test('a 10000-character value is cut to 8192 and marked; control characters and bidi overrides are replaced', () => {
    const r = decodeHeader(header2(`${MAIN}${'x'.repeat(10_000)}\tA\x1b[31mred\x07\tevil\u202Etxt.exe\n`), true);
    expect(r.values.c).toBe(`${'x'.repeat(8192)}…`);
    expect(r.values.n).toBe('A\uFFFD[31mred\uFFFD');
    expect(r.values.e).toBe('evil\uFFFDtxt.exe');
    expect(r.problems).toEqual(['1 value(s) longer than 8192 characters were cut']);
  });

  test('UTF-16 without byte-order mark, big-endian, and odd length', () => {
    const le = deflateSync(Buffer.from(`${MAIN}a\tb\tc\n`, 'utf16le'));
    expect(decodeHeader(le, true)).toEqual({ values: { c: 'a', n: 'b', e: 'c' }, problems: ['no byte-order mark: read as UTF-16LE'] });
    const be = deflateSync(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(`${MAIN}a\tb\tc\n`, 'utf16le').swap16()]));
    expect(decodeHeader(be, true)).toEqual({ values: { c: 'a', n: 'b', e: 'c' }, problems: [] });
    const odd = deflateSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${MAIN}a\tb\tc\n`, 'utf16le'), Buffer.from([0x41])]));
    expect(decodeHeader(odd, true)).toEqual({ values: { c: 'a', n: 'b', e: 'c' }, problems: ['odd length (39 bytes of UTF-16): the last byte was ignored'] });
  });

  test('unpaired surrogates become U+FFFD', () => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${MAIN}`, 'utf16le'), Buffer.from([0x00, 0xd8, 0x41, 0x00]), Buffer.from('\tb\tc\n', 'utf16le')]);
    expect(decodeHeader(deflateSync(body), true).values.c).toBe('\uFFFDA');
  });

  test('seeded fuzz: 2000 mutations of a real-shaped header2 and header; every result is strings, nothing throws', () => {
    const bases = [header2(`3\nmain\na\tc\tn\te\tt\tav\tov\tm\tu\tp\n desc\tcase\tev\texam\tnotes\t1\tLinux\t1\t2\t0\n\nsrce\n0\t1\n`), header(`1\r\nmain\r\nc\tn\ta\r\nx\ty\tz\r\n\r\n`)];
    const rnd = pseudoRandomBytes(2000 * 4, 102);
    for (let i = 0; i < 2000; i++) {
      const base = bases[i % 2]!;
      // Mutate the inflated text or the compressed bytes, alternately.
      let input: Buffer;
      if (i % 4 < 2) {
        input = Buffer.from(base);
        const flips = 1 + (rnd[i * 4]! % 4);
        for (let k = 0; k < flips; k++) input[(rnd[i * 4 + 1 + k]! * 7919 + i) % input.length] ^= 1 << rnd[i * 4 + 2]! % 8;
      } else {
        const text = Buffer.from(require('node:zlib').inflateSync(base));
        text[(rnd[i * 4]! * 257 + rnd[i * 4 + 1]!) % text.length] = rnd[i * 4 + 2]!;
        input = deflateSync(text.subarray(0, text.length - (rnd[i * 4 + 3]! % 5)));
      }
      const r = decodeHeader(input, i % 2 === 0);
      for (const v of Object.values(r.values)) expect(typeof v).toBe('string');
      for (const p of r.problems) expect(typeof p).toBe('string');
      for (const v of Object.values(r.values)) expect(v.length).toBeLessThanOrEqual(8193);
    }
  });
});

describe('clean', () => {
  test('control characters (terminal escapes, NUL, C1) and bidi controls become U+FFFD; tabs become spaces; text stays', () => {
    expect(clean('a\tb')).toBe('a b');
    expect(clean('\x00\x1b\x7f\x9f\u202a\u2066ok Ødegård')).toBe('\uFFFD'.repeat(6) + 'ok Ødegård');
  });
});

describe('readVolume', () => {
  const P = '/evidence/x.E01';
  const W = 'volume section at offset 89';
  const good = () => volumeBody({ sectorsPerChunk: 64, bytesPerSector: 512, sectorCount: 2048 });

  test('a volume of 2048 sectors of 512 bytes in chunks of 64 sectors', () => {
    const v = readVolume(good(), P, W, 10 * MiB);
    expect({ ...v, raw: undefined }).toEqual({ raw: undefined, bytesPerSector: 512, sectorsPerChunk: 64, sectorCount: 2048, mediaSize: MiB, chunkSize: 32768, chunkCount: 32 });
  });

  (ewf ? test : test.skip)('the volume section of a real ewfacquire segment: the geometry ewfinfo prints', () => {
    mkdirSync(join(tmp.dir, 'vol'));
    const first = ewfacquire(media, join(tmp.dir, 'vol', 'ev'), ['-P', '4096']);
    const seg = readFileSync(first);
    const s = sectionsOf(seg).find((x) => x.type === 'volume')!;
    const info = ewfinfo(first);
    const v = readVolume(s.data, first, `volume section at offset ${s.offset}`, seg.length);
    expect([v.bytesPerSector, v.sectorCount, v.mediaSize, v.sectorsPerChunk]).toEqual([info.bytesPerSector, info.sectors, MiB, Number(info.fields['Sectors per chunk'])]);
  });

  const refusals: [string, () => Buffer, number, string][] = [
    ['too short', () => good().subarray(0, 1051), 10 * MiB, '1051 bytes: only the EnCase 1-7 layout (1052 bytes) is supported'],
    [
      'a flipped byte',
      () => {
        const v = good();
        v[16] ^= 1;
        return v;
      },
      10 * MiB,
      'checksum mismatch',
    ],
    ['no bytes per sector', () => volumeBody({ sectorsPerChunk: 64, bytesPerSector: 0, sectorCount: 2048, chunkCount: 1 }), 10 * MiB, 'implausible geometry: 64 sectors of 0 bytes per chunk'],
    ['32769 sectors per chunk', () => volumeBody({ sectorsPerChunk: 32769, bytesPerSector: 512, sectorCount: 2048 }), 10 * MiB, 'implausible geometry: 32769 sectors of 512 bytes per chunk'],
    ['a chunk larger than 64 MiB', () => volumeBody({ sectorsPerChunk: 32768, bytesPerSector: 4096, sectorCount: 2048 }), 10 * MiB, 'implausible geometry: 32768 sectors of 4096 bytes per chunk'],
    ['2^64-1 sectors', () => volumeBody({ sectorsPerChunk: 64, bytesPerSector: 512, sectorCount: 2n ** 64n - 1n, chunkCount: 0 }), 10 * MiB, 'implausible media size: 18446744073709551615 sectors of 512 bytes'],
    [
      'more chunks than the files can hold',
      () => volumeBody({ sectorsPerChunk: 1, bytesPerSector: 512, sectorCount: 1_000_000 }),
      11_999_999,
      '1000000 chunks of media (512000000 bytes) cannot be stored in the 11999999 bytes of the segment files present (a segment is missing, or the size is wrong)',
    ],
  ];
  test.each(refusals)('%s: one-line INVALID_INPUT naming the file and the place', (_label, body, total, why) => {
    const e = thrownSync(() => readVolume(body(), P, W, total));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`${P}: ${W}: ${why}`);
    expect(e.path).toBe(P);
    expect(e.message).not.toContain('\n');
  });

  test('12 bytes per chunk is the bound: exactly enough bytes is accepted', () => {
    expect(readVolume(volumeBody({ sectorsPerChunk: 1, bytesPerSector: 512, sectorCount: 1_000_000 }), P, W, 12_000_000).chunkCount).toBe(1_000_000);
  });
});

describe('readError2', () => {
  const P = '/evidence/x.E02';
  const W = 'error2 section at offset 4242';
  const volume = { sectorCount: 10_000 } as Volume;

  test('entries read in order and appended to those of earlier segments', () => {
    const out = [{ firstSector: 1, sectorCount: 1 }];
    readError2(error2Body([{ firstSector: 5, sectorCount: 2 }, { firstSector: 9998, sectorCount: 2 }]), P, W, volume, out);
    expect(out).toEqual([
      { firstSector: 1, sectorCount: 1 },
      { firstSector: 5, sectorCount: 2 },
      { firstSector: 9998, sectorCount: 2 },
    ]);
    const none: { firstSector: number; sectorCount: number }[] = [];
    readError2(error2Body([]), P, W, volume, none);
    expect(none).toEqual([]);
  });

  const withCount = (n: number) => {
    const e = error2Body([{ firstSector: 1, sectorCount: 1 }]);
    e.writeUInt32LE(n, 0);
    e.writeUInt32LE(adler(e.subarray(0, 516)), 516);
    return e;
  };
  const refusals: [string, () => Buffer, string][] = [
    ['too short', () => error2Body([]).subarray(0, 523), 'too short (523 bytes)'],
    [
      'a flipped count',
      () => {
        const e = error2Body([{ firstSector: 1, sectorCount: 1 }]);
        e[0] ^= 2;
        return e;
      },
      'header checksum mismatch: the list of unreadable sectors cannot be trusted',
    ],
    ['a count of 2^32-1 (checksum fixed)', () => withCount(0xffffffff), '4294967295 entries do not fit in 532 bytes'],
    [
      'a flipped entry',
      () => {
        const e = error2Body([{ firstSector: 1, sectorCount: 1 }]);
        e[520] ^= 4;
        return e;
      },
      'entries checksum mismatch: the list of unreadable sectors cannot be trusted',
    ],
    ['an empty range', () => error2Body([{ firstSector: 3, sectorCount: 0 }]), "entry 0 (sectors 3+0) lies outside the media's 10000 sectors"],
    ['a range past the media', () => error2Body([{ firstSector: 1, sectorCount: 1 }, { firstSector: 9999, sectorCount: 2 }]), "entry 1 (sectors 9999+2) lies outside the media's 10000 sectors"],
    ['a range at 2^32-1', () => error2Body([{ firstSector: 0xffffffff, sectorCount: 0xffffffff }]), "entry 0 (sectors 4294967295+4294967295) lies outside the media's 10000 sectors"],
  ];
  test.each(refusals)('%s: one-line INVALID_INPUT naming the file and the place', (_label, body, why) => {
    const e = thrownSync(() => readError2(body(), P, W, volume, []));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`${P}: ${W}: ${why}`);
    expect(e.hint).toBe('The E01 is damaged or truncated; verify it against another copy, or re-acquire.');
  });

  test('the total over all segments is bounded at 1,000,000 ranges', () => {
    const out: { firstSector: number; sectorCount: number }[] = [];
    out.length = 999_999; // as if earlier segments had listed that many
    readError2(error2Body([{ firstSector: 1, sectorCount: 1 }]), P, W, volume, out);
    expect(out.length).toBe(1_000_000);
    const e = thrownSync(() => readError2(error2Body([{ firstSector: 2, sectorCount: 1 }]), P, W, volume, out));
    expect(e.message).toBe(`${P}: ${W}: 1000001 ranges of unreadable sectors: more than the 1000000 custos accepts`);
  });
});

describe('inflateWhole, guidOf, sameMedia, bad', () => {
  test('inflates a zlib stream without checking its trailer; refuses other methods, preset dictionaries, garbage and overlong output', () => {
    const data = pseudoRandomBytes(40_000, 103);
    const z = deflateSync(data);
    expect(inflateWhole(z, 40_000)!.equals(data)).toBe(true);
    const badTrailer = Buffer.from(z);
    badTrailer[badTrailer.length - 1] ^= 0xff;
    expect(inflateWhole(badTrailer, 40_000)!.equals(data)).toBe(true);
    expect(inflateWhole(z, 39_999)).toBeUndefined();
    const notDeflate = Buffer.from(z);
    notDeflate[0] = (notDeflate[0]! & 0xf0) | 0x07;
    expect(inflateWhole(notDeflate, 40_000)).toBeUndefined();
    const dict = Buffer.from(z);
    dict[1] |= 0x20;
    expect(inflateWhole(dict, 40_000)).toBeUndefined();
    expect(inflateWhole(Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff]), 40_000)).toBeUndefined();
  });

  test('guidOf formats bytes 64-79 as a GUID as ewfinfo does (first three fields little-endian); sameMedia compares geometry and set identifier', () => {
    const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const a = volumeBody({ sectorsPerChunk: 64, bytesPerSector: 512, sectorCount: 2048, guid });
    expect(guidOf(a)).toBe('33221100-5544-7766-8899-aabbccddeeff');
    expect(sameMedia(a, Buffer.from(a))).toBe(true);
    expect(sameMedia(a, volumeBody({ sectorsPerChunk: 64, bytesPerSector: 512, sectorCount: 2048, guid: Buffer.alloc(16, 1) }))).toBe(false);
    expect(sameMedia(a, volumeBody({ sectorsPerChunk: 64, bytesPerSector: 512, sectorCount: 2049, guid }))).toBe(false);
    expect(sameMedia(a, volumeBody({ sectorsPerChunk: 64, bytesPerSector: 4096, sectorCount: 2048, guid }))).toBe(false);
  });

  test('bad: a CustosError with the path, the place, the reason, and the hint', () => {
    const e = bad('/x.E01', 'table section at offset 5', 'too short', 'CORRUPT_IMAGE');
    expect([e.code, e.message, e.path, e.exitCode]).toEqual(['CORRUPT_IMAGE', '/x.E01: table section at offset 5: too short', '/x.E01', 4]);
    expect(bad('/x.E01', 'w', 'r').code).toBe('INVALID_INPUT');
  });
});
