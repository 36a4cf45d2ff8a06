/**
 * The building blocks of EWF-E01 files, judged by zlib (Adler-32) and by libewf: the file
 * headers, section descriptors, volume, table, digest, hash and error2 bodies custos writes are
 * compared byte for byte with the ones ewfacquire wrote for the same values, and segment file
 * extensions with the names ewfacquire gave a set of 107 segments.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { CustosBug } from '../../../../src/errors';
import {
  adler32,
  descriptor,
  DESCRIPTOR_SIZE,
  digestData,
  error2Data,
  EVF_SIGNATURE,
  FILE_HEADER_SIZE,
  fileHeader,
  hashData,
  MAX_SEGMENT_NUMBER,
  segmentExtension,
  tableData,
  VOLUME_DATA_SIZE,
  volumeData,
  withChecksum,
} from '../../../../src/formats/e01/sections';
import { faultSkipReason, FaultySource, stopAll } from '../../../faults/faulty-source';
import { hasTool, makeTempDir, pseudoRandomBytes } from '../../../helpers';
import { adler, error2Body, sectionsOf, tableBody } from '../e01-util';
import { ewfacquire, ewfinfo, thrownSync } from '../../image-support';

const MiB = 1024 * 1024;
const ewf = hasTool('ewfacquire') && hasTool('ewfinfo');
if (!ewf) test.skip('comparisons with libewf skipped: ewf-tools is not installed (apt-get install ewf-tools)', () => undefined);

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-sections-');
});
afterAll(() => {
  stopAll();
  tmp.cleanup();
});

/** zlib's Adler-32 of `data`: the big-endian trailer of a zlib stream of it (RFC 1950). */
const zlibAdler = (data: Uint8Array) => {
  const z = deflateSync(data);
  return z.readUInt32BE(z.length - 4);
};

describe('adler32 agrees with zlib', () => {
  test.each([
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([0xff])],
    ['"Wikipedia"', Buffer.from('Wikipedia')],
    ['5552 bytes of 0xff (zlib NMAX)', Buffer.alloc(5552, 0xff)],
    ['5553 bytes of 0xff', Buffer.alloc(5553, 0xff)],
    ['100000 bytes of 0xff (largest sums)', Buffer.alloc(100_000, 0xff)],
    ['1 MiB of random bytes', pseudoRandomBytes(MiB, 91)],
  ])('%s', (_label, data) => {
    expect(adler32(data)).toBe(zlibAdler(data));
    expect(adler32(data)).toBe(adler(data)); // the spec-written copy in the test tools agrees too
  });

  test('known answers: 1 for no bytes, 0x11E60398 for "Wikipedia" (RFC 1950 example value)', () => {
    expect(adler32(Buffer.alloc(0))).toBe(1);
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
  });

  test('a running checksum: adler32(b, adler32(a)) is the checksum of a then b', () => {
    const a = pseudoRandomBytes(70_001, 92);
    const b = pseudoRandomBytes(12_345, 93);
    expect(adler32(b, adler32(a))).toBe(zlibAdler(Buffer.concat([a, b])));
  });

  test('withChecksum appends the Adler-32, little-endian', () => {
    const data = Buffer.from('custos');
    const w = withChecksum(data);
    expect(w.length).toBe(data.length + 4);
    expect(w.subarray(0, 6).equals(data)).toBe(true);
    expect(w.readUInt32LE(6)).toBe(zlibAdler(data));
  });
});

describe('segment file extensions', () => {
  test('the bound: .ZZZ is segment 99 + 22×26×26; beyond it is INVALID_INPUT; nonsense numbers are bugs', () => {
    expect(MAX_SEGMENT_NUMBER).toBe(14971);
    expect([1, 99, 100, 774, 775, 776, 14971].map(segmentExtension)).toEqual(['E01', 'E99', 'EAA', 'EZY', 'EZZ', 'FAA', 'ZZZ']);
    const e = thrownSync(() => segmentExtension(14972));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe('segment 14972 would need a name beyond .ZZZ: an E01 set has at most 14971 segment files');
    expect(e.hint).toContain('--segment-size');
    for (const n of [0, -1, 1.5, NaN]) expect(thrownSync(() => segmentExtension(n))).toBeInstanceOf(CustosBug);
  });

  test('every name from 1 to 14971 is distinct and of the form E01…E99, then [E-Z][A-Z][A-Z] in order', () => {
    const all = Array.from({ length: MAX_SEGMENT_NUMBER }, (_, i) => segmentExtension(i + 1));
    expect(new Set(all).size).toBe(MAX_SEGMENT_NUMBER);
    expect(all.slice(99)).toEqual([...all.slice(99)].sort());
    expect(all.slice(99).every((x) => /^[E-Z][A-Z]{2}$/.test(x))).toBe(true);
  });

  (ewf ? test : test.skip)('the names ewfacquire gave 107 segments, each matched to the segment number in its file header', () => {
    const dir = join(tmp.dir, 'many');
    mkdirSync(dir);
    const zeros = join(tmp.dir, 'zeros.bin');
    writeFileSync(zeros, '');
    truncateSync(zeros, 103 * MiB);
    ewfacquire(zeros, join(dir, 'z'), ['-c', 'none', '-S', '1MiB']);
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
      const header = readFileSync(join(dir, f)).subarray(0, FILE_HEADER_SIZE);
      const number = header.readUInt16LE(9);
      expect(f).toBe(`z.${segmentExtension(number)}`);
      // And the whole 13-byte file header is the one custos writes for that number.
      expect(fileHeader(number).equals(header)).toBe(true);
    }
  });
});

(ewf ? describe : describe.skip)('section bodies, byte for byte with ewfacquire\'s', () => {
  let segs: Buffer[];
  let info: ReturnType<typeof ewfinfo>;
  beforeAll(() => {
    const media = join(tmp.dir, 'media.bin');
    writeFileSync(media, Buffer.concat([pseudoRandomBytes(2 * MiB, 94), Buffer.alloc(MiB)]));
    mkdirSync(join(tmp.dir, 'acq'));
    const first = ewfacquire(media, join(tmp.dir, 'acq', 'ev'), ['-c', 'fast', '-S', '1MiB', '-d', 'sha1']);
    info = ewfinfo(first);
    segs = readdirSync(join(tmp.dir, 'acq'))
      .sort()
      .map((f) => readFileSync(join(tmp.dir, 'acq', f)));
    expect(segs.length).toBeGreaterThan(2);
  });

  test('the file header of each segment and every section descriptor', () => {
    expect(EVF_SIGNATURE.equals(segs[0]!.subarray(0, 8))).toBe(true);
    let descriptors = 0;
    segs.forEach((seg, i) => {
      expect(fileHeader(i + 1).equals(seg.subarray(0, FILE_HEADER_SIZE))).toBe(true);
      for (const s of sectionsOf(seg)) {
        expect(descriptor(s.type, s.next, s.size).equals(seg.subarray(s.offset, s.offset + DESCRIPTOR_SIZE))).toBe(true);
        descriptors++;
      }
    });
    expect(descriptors).toBeGreaterThan(10);
  });

  test('the volume section: custos\'s body for the same geometry equals libewf\'s', () => {
    const vol = sectionsOf(segs[0]!).find((s) => s.type === 'volume')!.data;
    expect(vol.length).toBe(VOLUME_DATA_SIZE);
    const chunkCount = vol.readUInt32LE(4);
    expect(chunkCount).toBe(Math.ceil((info.sectors! * 512) / 32768));
    const mine = volumeData({ mediaType: 'fixed', physical: true, chunkCount, bytesPerSector: 512, sectorCount: info.sectors!, compression: 'fast', guid: vol.subarray(64, 80) });
    expect(mine.toString('hex')).toBe(vol.toString('hex'));
    // The data sections of later segments repeat it.
    for (const seg of segs.slice(1)) expect(sectionsOf(seg).find((s) => s.type === 'data')!.data.equals(vol)).toBe(true);
  });

  test('table and table2 bodies from the entries and base offset libewf wrote (and the spec-written test tool agrees)', () => {
    let tables = 0;
    for (const seg of segs) {
      for (const s of sectionsOf(seg).filter((x) => x.type === 'table' || x.type === 'table2')) {
        const n = s.data.readUInt32LE(0);
        const base = Number(s.data.readBigUInt64LE(8));
        const entries = Array.from({ length: n }, (_, i) => s.data.readUInt32LE(24 + 4 * i));
        expect(tableData(base, entries).equals(s.data)).toBe(true);
        expect(tableData(base, entries).equals(tableBody(base, entries))).toBe(true);
        tables++;
      }
    }
    expect(tables).toBe(2 * segs.length);
  });

  test('digest (MD5 + SHA-1) and hash (MD5) bodies', () => {
    const last = sectionsOf(segs[segs.length - 1]!);
    expect(digestData(info.md5!, info.sha1!).equals(last.find((s) => s.type === 'digest')!.data)).toBe(true);
    expect(hashData(info.md5!).equals(last.find((s) => s.type === 'hash')!.data)).toBe(true);
  });
});

describe('error2 bodies', () => {
  test('equal to the spec-written test tool\'s, for none, one and several ranges', () => {
    for (const ranges of [[], [{ firstSector: 0, sectorCount: 1 }], [{ firstSector: 7, sectorCount: 3 }, { firstSector: 2 ** 32 - 2, sectorCount: 1 }]]) {
      expect(error2Data(ranges).equals(error2Body(ranges))).toBe(true);
    }
    expect(error2Data([]).length).toBe(524);
  });

  const skip = faultSkipReason({ loop: true });
  (ewf && !skip ? test : test.skip)(`equal to the error2 ewfacquire wrote for a failing source${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const f = FaultySource.start({ size: 2 * MiB, loop: true, bad: [{ offset: 512 * 1024, length: 512 }, { offset: MiB + 64 * 1024, length: 4096 }] });
    try {
      mkdirSync(join(tmp.dir, 'faulty'));
      const first = ewfacquire(f.loop!, join(tmp.dir, 'faulty', 'ev'), ['-c', 'fast', '-r', '0']);
      const e2 = sectionsOf(readFileSync(first)).find((s) => s.type === 'error2')!.data;
      const ranges = ewfinfo(first).readErrors;
      expect(ranges.length).toBe(2);
      expect(error2Data(ranges).toString('hex')).toBe(e2.toString('hex'));
    } finally {
      f.stop();
    }
  });
});
