/**
 * The acquisition's record (src/acquire/record.ts): unreadable ranges in bytes and whole sectors,
 * each output file's own hashes (a container's of its own bytes, compared with sha256sum), the
 * hash-windows file parsed back and pinned by its SHA-256, the run's times and offsets, and
 * verification results.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { iso, outputsOf, readErrorRecords, round3, runRecord, verificationCheck, writeWindows } from '../../../src/acquire/record';
import { e01Format } from '../../../src/formats/e01';
import { ImageSource } from '../../../src/formats/image-source';
import { rawFormat } from '../../../src/formats/raw';
import { splitFormat } from '../../../src/formats/split';
import type { OutputFile } from '../../../src/formats/types';
import type { AcquisitionSession } from '../../../src/manifest/manifest';
import { digest } from '../../../src/stream/digest';
import { toolInfo } from '../../../src/tool';
import { compareHashes } from '../../../src/verify/compare';
import { digestOf, fixedEnvironment, makeTempDir, pseudoRandomBytes, tool } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

let n = 0;
const fresh = () => {
  const d = join(tmp.dir, `r${n++}`);
  mkdirSync(d);
  return d;
};

describe('instants and durations as the manifest records them', () => {
  test('iso: RFC 3339 UTC to the second (milliseconds dropped, not rounded)', () => {
    expect(iso(new Date('2026-03-14T09:26:53.999Z'))).toBe('2026-03-14T09:26:53Z');
    expect(iso(new Date('1999-12-31T23:59:59Z'))).toBe('1999-12-31T23:59:59Z');
  });

  test('round3: three decimals', () => {
    expect([round3(2.34567), round3(0.0004), round3(12), round3(0.0005), round3(59.9996)]).toEqual([2.346, 0, 12, 0.001, 60]);
  });
});

describe('readErrorRecords: bytes, and the whole sectors they touch', () => {
  test.each([
    [{ offset: 0, length: 512 }, 512, 0, 1],
    [{ offset: 1024, length: 1 }, 512, 2, 1],
    [{ offset: 100, length: 10 }, 512, 0, 1],
    [{ offset: 500, length: 24 }, 512, 0, 2],
    [{ offset: 511, length: 514 }, 512, 0, 3],
    [{ offset: 512 * 7 + 1, length: 512 * 3 }, 512, 7, 4],
    [{ offset: 4096, length: 8192 }, 4096, 1, 2],
    [{ offset: 4095, length: 2 }, 4096, 0, 2],
    [{ offset: 4096 * 244_190_646 + 4000, length: 200 }, 4096, 244_190_646, 2], // near the end of a 1 TB disk
    [{ offset: 2 ** 50, length: 512 }, 512, 2 ** 41, 1],
  ])('%j with %i-byte sectors: first sector %i, %i sectors', (r, sectorSize, firstSector, sectorCount) => {
    expect(readErrorRecords([r], sectorSize)).toEqual([{ ...r, firstSector, sectorCount }]);
  });

  test('several ranges keep their order and their byte values', () => {
    const ranges = [
      { offset: 0, length: 4096 },
      { offset: 1_000_000, length: 1 },
    ];
    expect(readErrorRecords(ranges, 512)).toEqual([
      { offset: 0, length: 4096, firstSector: 0, sectorCount: 8 },
      { offset: 1_000_000, length: 1, firstSector: 1953, sectorCount: 1 },
    ]);
    expect(readErrorRecords([], 512)).toEqual([]);
  });
});

describe('outputsOf: each output file with its own hashes', () => {
  test('raw: the one file holds the media, so its hashes are the media\'s (as md5sum and sha256sum compute them)', async () => {
    const dir = fresh();
    const img = join(dir, 'ev.raw');
    writeFileSync(img, pseudoRandomBytes(300_000, 1));
    const d = await digest(ImageSource.ofFiles(img, [img], 'raw'), 300_000, ['md5', 'sha256']);
    const files: OutputFile[] = [{ name: 'ev.raw', path: img, size: 300_000 }];
    expect(await outputsOf(rawFormat, files, d)).toEqual([{ name: 'ev.raw', size: 300_000, hashes: { md5: digestOf('md5sum', img), sha256: digestOf('sha256sum', img) } }]);
  });

  test('split: each segment with its own hashes, equal to md5sum of the pieces split(1) cuts', async () => {
    const dir = fresh();
    const media = join(dir, 'media.bin');
    const size = 3 * 65536 + 1000;
    writeFileSync(media, pseudoRandomBytes(size, 2));
    tool('split', ['-b', '65536', '-d', '-a', '3', media, join(dir, 'ev.')]);
    const pieces = readdirSync(dir).filter((f) => f.startsWith('ev.')).sort();
    expect(pieces).toEqual(['ev.000', 'ev.001', 'ev.002', 'ev.003']);
    const d = await digest(ImageSource.ofFiles(media, [media], 'raw'), size, ['md5'], { segmentSize: 65536, chunkSize: 65536 });
    const files = pieces.map((name) => ({ name, path: join(dir, name), size: readFileSync(join(dir, name)).length }));
    const out = await outputsOf(splitFormat, files, d);
    expect(out.map((o) => o.size)).toEqual([65536, 65536, 65536, 1000]);
    expect(out.map((o) => o.hashes.md5)).toEqual(pieces.map((p) => digestOf('md5sum', join(dir, p))));
    // A split image of one segment: the media hashes.
    expect(await outputsOf(splitFormat, [files[0]!], { hashes: { md5: 'x' }, segments: [], windows: [] })).toEqual([{ name: 'ev.000', size: 65536, hashes: { md5: 'x' } }]);
  });

  test('E01: each segment\'s own SHA-256, of the finished .partial file, equal to sha256sum; never the media\'s', async () => {
    const dir = fresh();
    const src = join(dir, 'src.img');
    writeFileSync(src, pseudoRandomBytes(3 << 20, 3));
    const out = join(dir, 'out');
    const atRecord: Record<string, string> = {};
    const r = await acquire({
      source: src,
      outDir: out,
      name: 'ev',
      format: 'e01',
      segmentSize: 1 << 20,
      compression: 'none',
      algorithms: ['sha256'],
      retries: 0,
      env: fixedEnvironment(),
      // When the record is written, the segments are finished and still .partial.
      onPhase: (phase) => {
        if (phase !== 'record') return;
        for (const f of readdirSync(out).filter((x) => x.endsWith('.partial'))) atRecord[f] = digestOf('sha256sum', join(out, f));
      },
    });
    const names = r.manifest.outputs.map((o) => o.name);
    expect(names.length).toBeGreaterThanOrEqual(3);
    expect(names.slice(0, 3)).toEqual(['ev.E01', 'ev.E02', 'ev.E03']);
    expect(Object.keys(atRecord).sort()).toEqual(names.map((x) => `${x}.partial`).sort());
    for (const o of r.manifest.outputs) {
      expect(o.hashes).toEqual({ sha256: atRecord[`${o.name}.partial`] });
      expect(o.hashes.sha256).toBe(digestOf('sha256sum', join(out, o.name)));
      expect(o.hashes.sha256).not.toBe(r.hashes.sha256);
    }
    expect(r.hashes.sha256).toBe(digestOf('sha256sum', src));

    // Called directly: the .partial file is hashed when there is one, else the file itself.
    const copies = fresh();
    const files: OutputFile[] = r.manifest.outputs.map((o) => {
      const partialPath = join(copies, `${o.name}.partial`);
      copyFileSync(join(out, o.name), partialPath);
      return { name: o.name, path: join(copies, o.name), partialPath, size: o.size };
    });
    const media = { hashes: { sha256: r.hashes.sha256! }, segments: [], windows: [] };
    expect(await outputsOf(e01Format, files, media)).toEqual(r.manifest.outputs);
    const direct = r.manifest.outputs.map((o) => ({ name: o.name, path: join(out, o.name), size: o.size }));
    expect(await outputsOf(e01Format, direct, media)).toEqual(r.manifest.outputs);
  });
});

describe('writeWindows: BASE.windows.json', () => {
  test('parsed back: every window with its offset, length and hashes (dd | md5sum of each slice); the recorded SHA-256 is sha256sum of the file', async () => {
    const dir = fresh();
    const media = join(dir, 'media.bin');
    const size = 5 * 4096 + 100;
    writeFileSync(media, pseudoRandomBytes(size, 4));
    const d = await digest(ImageSource.ofFiles(media, [media], 'raw'), size, ['md5', 'sha1'], { windowSize: 8192, chunkSize: 4096 });
    const path = join(dir, 'ev.windows.json');
    const rec = writeWindows(path, 8192, ['md5', 'sha1'], d.windows, size, false);
    expect(rec).toEqual({ windowSize: 8192, count: 3, file: 'ev.windows.json', sha256: digestOf('sha256sum', path) });
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    expect(parsed.windowSize).toBe(8192);
    expect(parsed.algorithms).toEqual(['md5', 'sha1']);
    expect(parsed.windows.map((w: { index: number; offset: number; length: number }) => [w.index, w.offset, w.length])).toEqual([
      [0, 0, 8192],
      [1, 8192, 8192],
      [2, 16384, 4196],
    ]);
    for (const w of parsed.windows) {
      const slice = tool('sh', ['-c', `dd if=${media} bs=4096 skip=${w.offset / 4096} count=2 status=none | md5sum`]).split(' ')[0];
      const sha1 = tool('sh', ['-c', `dd if=${media} bs=4096 skip=${w.offset / 4096} count=2 status=none | sha1sum`]).split(' ')[0];
      expect(w.hashes).toEqual({ md5: slice, sha1 });
    }
    expect(readFileSync(path, 'utf8').endsWith('}\n')).toBe(true);
  });

  test('an existing file is never replaced unless asked (a resumed run rewrites its own)', () => {
    const dir = fresh();
    const path = join(dir, 'ev.windows.json');
    writeFileSync(path, 'planted');
    expect(() => writeWindows(path, 512, ['md5'], [{ md5: 'a'.repeat(32) }], 512, false)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(readFileSync(path, 'utf8')).toBe('planted');
    const rec = writeWindows(path, 512, ['md5'], [{ md5: 'a'.repeat(32) }], 100, true);
    expect(rec).toMatchObject({ count: 1, sha256: digestOf('sha256sum', path) });
    expect(JSON.parse(readFileSync(path, 'utf8')).windows).toEqual([{ index: 0, offset: 0, length: 100, hashes: { md5: 'a'.repeat(32) } }]);
  });
});

describe('runRecord: the run itself', () => {
  const sessions: AcquisitionSession[] = [
    { start: '2026-03-28T23:00:00Z', end: '2026-03-29T00:30:00Z', fromOffset: 0, toOffset: 1 << 30, outcome: 'interrupted' },
    { start: '2026-03-29T08:00:00Z', end: '2026-03-29T09:00:00Z', fromOffset: 1 << 30, toOffset: 2 << 30, outcome: 'complete' },
  ];

  test('with tests\' fixed environment: tool, command line, host, and times from the first session\'s start', () => {
    const env = fixedEnvironment();
    const r = runRecord(env, sessions, new Date('2026-03-29T09:00:00.700Z'), 5400.12345);
    expect(r).toEqual({
      manifestVersion: 1,
      status: 'complete',
      tool: toolInfo(),
      commandLine: ['custos', 'acquire', 'test'],
      host: env.host(),
      time: {
        start: '2026-03-28T23:00:00Z',
        end: '2026-03-29T09:00:00Z',
        timeZone: 'Europe/Berlin',
        utcOffset: '+01:00',
        startLocal: '2026-03-29T00:00:00+01:00',
        endLocal: '2026-03-29T10:00:00+01:00',
        durationSeconds: 5400.123,
        sessions,
      },
    });
  });

  test('across a change to summer time: each local time with its own offset, the recorded offset the start\'s', () => {
    // Europe/Berlin: +01:00 until 2026-03-29T01:00:00Z, +02:00 after.
    const env = { ...fixedEnvironment(), utcOffsetMinutes: (d: Date) => (d.getTime() < Date.parse('2026-03-29T01:00:00Z') ? 60 : 120) };
    const r = runRecord(env, sessions, new Date('2026-03-29T09:00:00Z'), 0);
    expect(r.time).toMatchObject({ utcOffset: '+01:00', startLocal: '2026-03-29T00:00:00+01:00', endLocal: '2026-03-29T11:00:00+02:00', durationSeconds: 0 });
    // The same instants as date(1) writes them in that zone.
    const local = (at: string) => tool('sh', ['-c', `TZ=Europe/Berlin date -d ${at} +%Y-%m-%dT%H:%M:%S%:z`]).trim();
    expect([r.time.startLocal, r.time.endLocal]).toEqual([local('2026-03-28T23:00:00Z'), local('2026-03-29T09:00:00Z')]);
  });
});

describe('verificationCheck', () => {
  const md5 = 'e59bf7cee4c9e04c2b81e8580a848d74';
  const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';

  test('every algorithm matching: match, with the time and duration as the manifest records them', () => {
    const c = compareHashes({ md5: md5.toUpperCase(), sha1 }, { md5, sha1 });
    expect(verificationCheck(c, { md5, sha1 }, new Date('2026-03-14T10:00:00.250Z'), 1.23456)).toEqual({ result: 'match', at: '2026-03-14T10:00:00Z', durationSeconds: 1.235, hashes: { md5, sha1 } });
  });

  test('one algorithm differing is a mismatch; nothing compared is a mismatch too', () => {
    const other = `${sha1.slice(0, -1)}8`;
    expect(verificationCheck(compareHashes({ md5, sha1 }, { md5, sha1: other }), { md5, sha1: other }, new Date(0), 0).result).toBe('mismatch');
    expect(verificationCheck([], {}, new Date(0), 0)).toEqual({ result: 'mismatch', at: '1970-01-01T00:00:00Z', durationSeconds: 0, hashes: {} });
  });
});
