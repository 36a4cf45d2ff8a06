/**
 * verifyTarget, manifestBeside and hashSourceAgain on real acquisitions: a flipped byte in each
 * split segment fails exactly that segment's comparison (its digest is what coreutils computes
 * of the changed file); hash windows name exactly the differing windows, the last one short;
 * manifests cannot name files outside their folder; an E01 without a manifest is checked against
 * the hashes it stores (as ewfinfo prints them); re-reading a source agrees with coreutils, and
 * for a source with bad sectors (root) with the fault harness's independent expectation.
 */
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { hashSourceAgain, manifestBeside, verifyTarget } from '../../../src/verify/verify';
import { faultSkipReason, FaultySource, stopAll } from '../../faults/faulty-source';
import { digestOf, fixedEnvironment, hasTool, makeTempDir, pseudoRandomBytes } from '../../helpers';
import { chunkMap } from '../formats/e01-util';
import { ewfacquire, ewfinfo, pieceDigests, thrown } from '../image-support';

const MiB = 1024 * 1024;
let tmp: ReturnType<typeof makeTempDir>;
const at = (...p: string[]) => join(tmp.dir, ...p);
beforeAll(() => {
  tmp = makeTempDir('custos-verifytarget-');
});
afterAll(() => {
  stopAll();
  tmp.cleanup();
});

/** XORs one byte of a file in place; calling it again restores the byte. */
function flip(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] ^= 0x5a;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

describe('a split image with a flipped byte in each segment in turn', () => {
  const SIZE = 3.5 * MiB + 4096;
  let manifest: string;
  const names = ['ev.001', 'ev.002', 'ev.003', 'ev.004'];
  beforeAll(async () => {
    const src = at('split-src.bin');
    writeFileSync(src, pseudoRandomBytes(SIZE, 111));
    mkdirSync(at('split'));
    const r = await acquire({ source: src, outDir: at('split'), name: 'ev', format: 'split', splitSize: MiB, algorithms: ['md5', 'sha256'], retries: 0, env: fixedEnvironment() });
    manifest = r.manifestPath;
    expect(r.outputs.map((o) => o.path)).toEqual(names.map((n) => at('split', n)));
  });

  test('intact: every segment and the whole match', async () => {
    const v = await verifyTarget(manifest);
    expect(v.verdict).toBe('match');
    expect(v.image.segments!.map((s) => [s.name, s.comparisons.map((c) => c.match)])).toEqual(names.map((n) => [n, [true, true]]));
    expect(v.image.files).toEqual(names.map((n, i) => ({ path: at('split', n), size: i < 3 ? MiB : SIZE - 3 * MiB, expectedSize: i < 3 ? MiB : SIZE - 3 * MiB })));
  });

  test.each([0, 1, 2, 3])('segment %d changed: only its comparisons fail, with the digests coreutils computes of it', async (i) => {
    const file = at('split', names[i]!);
    const offset = i === 3 ? SIZE - 3 * MiB - 1 : 12345 * (i + 1);
    flip(file, offset);
    try {
      const v = await verifyTarget(at('split', names[i]!)); // named by an image file: the manifest beside it is found
      expect(v.manifest).toBe(manifest);
      expect(v.verdict).toBe('mismatch');
      expect(v.image.comparisons.map((c) => c.match)).toEqual([false, false]);
      v.image.segments!.forEach((s, j) => {
        expect(s.name).toBe(names[j]);
        expect(s.comparisons.map((c) => c.match)).toEqual(j === i ? [false, false] : [true, true]);
      });
      const changed = v.image.segments![i]!.comparisons;
      expect(changed.map((c) => c.actual)).toEqual([digestOf('md5sum', file), digestOf('sha256sum', file)]);
    } finally {
      flip(file, offset);
    }
  });
});

describe('hash windows', () => {
  const W = 256 * 1024;
  const SIZE = 4 * W + 1024; // five windows, the last 1024 bytes
  let src: string;
  let manifest: string;
  let image: string;
  beforeAll(async () => {
    src = at('win-src.bin');
    writeFileSync(src, pseudoRandomBytes(SIZE, 112));
    mkdirSync(at('win'));
    const r = await acquire({ source: src, outDir: at('win'), name: 'w', format: 'raw', windowSize: W, algorithms: ['md5', 'sha1'], retries: 0, env: fixedEnvironment() });
    manifest = r.manifestPath;
    image = r.outputs[0]!.path;
  });

  test('the recorded windows are the ones coreutils computes of the source', () => {
    const file = JSON.parse(readFileSync(at('win', 'w.windows.json'), 'utf8')) as { windows: { hashes: { md5: string } }[] };
    expect(file.windows.map((w) => w.hashes.md5)).toEqual(pieceDigests('md5sum', src, SIZE, W));
  });

  test('two flipped bytes: exactly their windows differ, the last one with its short length', async () => {
    flip(image, W + 300);
    flip(image, 4 * W + 1023);
    try {
      const v = await verifyTarget(manifest);
      expect(v.verdict).toBe('mismatch');
      expect(v.image.windows).toEqual({
        windowSize: W,
        checked: 5,
        differing: [
          { index: 1, offset: W, length: W },
          { index: 4, offset: 4 * W, length: 1024 },
        ],
        differingCount: 2,
        recordIntact: true,
      });
    } finally {
      flip(image, W + 300);
      flip(image, 4 * W + 1023);
    }
    const again = await verifyTarget(manifest);
    expect(again.verdict).toBe('match');
    expect(again.image.windows).toMatchObject({ checked: 5, differing: [], differingCount: 0, recordIntact: true });
  });

  test('a windows file altered after the acquisition: the record is not intact, the verdict is mismatch', async () => {
    const path = at('win', 'w.windows.json');
    const original = readFileSync(path);
    try {
      const j = JSON.parse(original.toString('utf8'));
      j.windows[2].hashes.md5 = j.windows[3].hashes.md5;
      writeFileSync(path, `${JSON.stringify(j, null, 1)}\n`);
      const v = await verifyTarget(manifest);
      expect(v.verdict).toBe('mismatch');
      expect(v.image.windows).toMatchObject({ differing: [{ index: 2, offset: 2 * W, length: W }], differingCount: 1, recordIntact: false });
    } finally {
      writeFileSync(path, original);
    }
  });
});

describe('manifestBeside', () => {
  test.each([
    ['raw', 'case.2026.raw', 'case.2026.manifest.json'],
    ['split', 'ev.001', 'ev.manifest.json'],
    ['split, later segment', 'ev.0012', 'ev.manifest.json'],
    ['split by letters', 'ev.ab', 'ev.manifest.json'],
    ['e01', 'ev.E01', 'ev.manifest.json'],
    ['e01, later segment', 'ev.E02', 'ev.manifest.json'],
    ['e01 letters', 'ev.EAB', 'ev.manifest.json'],
    ['e01 lower case', 'ev.e01', 'ev.manifest.json'],
    ['no extension', 'disk', 'disk.manifest.json'],
  ])('%s: %s → %s, only when it exists', (_label, image, expected) => {
    const dir = at(`beside-${image}`);
    mkdirSync(dir);
    expect(manifestBeside(join(dir, image))).toBeUndefined();
    writeFileSync(join(dir, expected), '{}');
    expect(manifestBeside(join(dir, image))).toBe(join(dir, expected));
  });
});

describe('names in a manifest are plain file names beside it', () => {
  let manifest: string;
  beforeAll(async () => {
    const src = at('plain-src.bin');
    writeFileSync(src, pseudoRandomBytes(64 * 1024, 113));
    mkdirSync(at('plain'));
    manifest = (await acquire({ source: src, outDir: at('plain'), name: 'p', format: 'raw', windowSize: 8192, algorithms: ['md5'], retries: 0, env: fixedEnvironment() })).manifestPath;
    // A file the hostile names would reach, so that a refusal is not a mere "missing".
    copyFileSync(at('plain', 'p.raw'), at('x'));
  });

  test.each(['../x', 'sub/x', '..', '.', '/etc/passwd'])('an output named %p is refused by its name (INVALID_INPUT), even where such a file exists', async (name) => {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    m.outputs[0].name = name;
    const edited = at('plain', `edited-${name.replace(/\W/g, '_')}.json`);
    writeFileSync(edited, JSON.stringify(m));
    const e = await thrown(() => verifyTarget(edited));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`${edited}: '${name}' is not a plain file name beside the manifest`);
  });

  test('the hash-windows file named ../x is refused too', async () => {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    m.hashWindows.file = '../x';
    const edited = at('plain', 'edited-windows.json');
    writeFileSync(edited, JSON.stringify(m));
    const e = await thrown(() => verifyTarget(edited));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`${edited}: '../x' is not a plain file name beside the manifest`);
  });
});

(hasTool('ewfacquire') && hasTool('ewfinfo') ? describe : describe.skip)('an E01 without a manifest: its stored hashes', () => {
  let first: string;
  beforeAll(() => {
    const src = at('e01-src.bin');
    writeFileSync(src, pseudoRandomBytes(2 * MiB, 114));
    mkdirSync(at('e01'));
    first = ewfacquire(src, at('e01', 'ev'), ['-c', 'none', '-d', 'sha1']);
  });

  test('MD5 and SHA-1 as ewfinfo prints them are the expected values; intact: match', async () => {
    const v = await verifyTarget(first);
    const info = ewfinfo(first);
    expect(v.manifest).toBeUndefined();
    expect(v.image.comparisons).toEqual([
      { algorithm: 'md5', expected: info.md5, actual: info.md5, match: true },
      { algorithm: 'sha1', expected: info.sha1, actual: info.sha1, match: true },
    ]);
    expect(v.verdict).toBe('match');
  });

  test('a flipped byte inside a stored chunk: damage listed, MD5 no longer the stored one, mismatch', async () => {
    const chunk = chunkMap([readFileSync(first)])[5]!;
    flip(first, chunk.offset + 100);
    try {
      const v = await verifyTarget(first);
      expect(v.verdict).toBe('mismatch');
      expect(v.image.damaged!.count).toBe(1);
      expect(v.image.damaged!.ranges[0]).toMatchObject({ offset: 5 * 32768, length: 32768, chunk: 5 });
      expect(v.image.comparisons.find((c) => c.algorithm === 'md5')!.match).toBe(false);
    } finally {
      flip(first, chunk.offset + 100);
    }
  });

  test('a raw image with no manifest and no expected values is refused; with expected values, exactly those are compared', async () => {
    const raw = at('lonely.raw');
    writeFileSync(raw, pseudoRandomBytes(4096, 115));
    const e = await thrown(() => verifyTarget(raw));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`${raw}: nothing to compare with: no manifest beside it and no expected hashes given`);
    const v = await verifyTarget(raw, { expected: { sha256: digestOf('sha256sum', raw) } });
    expect(v.verdict).toBe('match');
    expect(v.image.comparisons.map((c) => c.algorithm)).toEqual(['sha256']);
  });
});

describe('hashSourceAgain', () => {
  test('a regular file: the digests coreutils computes, no read errors', async () => {
    const src = at('again.bin');
    writeFileSync(src, pseudoRandomBytes(MiB + 3, 116));
    const r = await hashSourceAgain(src, ['md5', 'sha1', 'sha256'], { retries: 0 });
    expect(r.hashes).toEqual({ md5: digestOf('md5sum', src), sha1: digestOf('sha1sum', src), sha256: digestOf('sha256sum', src) });
    expect(r.readErrors).toEqual([]);
    expect(r.size).toBe(MiB + 3);
  });

  const skip = faultSkipReason({ loop: true });
  (skip ? test.skip : test)(`a loop device with unreadable sectors: zero-filled, listed exactly, hashed as the harness expects${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    const bad = [
      { offset: 300 * 512, length: 512 },
      { offset: MiB, length: 8 * 512 },
    ];
    const f = FaultySource.start({ size: 2 * MiB, loop: true, bad });
    try {
      const r = await hashSourceAgain(f.loop!, ['md5', 'sha256'], { retries: 0 });
      expect(r.readErrors).toEqual(bad);
      expect(r.hashes).toEqual(f.expectedHashes(['md5', 'sha256']));
      expect(r.size).toBe(2 * MiB);
    } finally {
      f.stop();
    }
  });
});
