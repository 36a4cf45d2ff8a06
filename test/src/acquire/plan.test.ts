/**
 * What an acquisition decides before the first byte is read or written (src/acquire/plan.ts): the
 * algorithms a format requires, the base names, the layout and the settings a resume must repeat,
 * and the requests refused up front (partial sectors in E01, hash windows and segment sizes out of
 * bounds), with nothing written when refused.
 */
import { existsSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { checkWindowSize, DEFAULT_SPLIT_SIZE, defaultBaseName, MAX_HASH_WINDOWS, plan, safeName, type AcquireOptions } from '../../../src/acquire/plan';
import { DEFAULT_SEGMENT_SIZE } from '../../../src/formats/e01/writer';
import { systemEnvironment } from '../../../src/host';
import { DEFAULT_CHUNK_SIZE } from '../../../src/stream/pipeline';
import { fixedEnvironment, makeTempDir, pseudoRandomBytes } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let src: string;
let odd: string;
beforeAll(() => {
  tmp = makeTempDir();
  src = join(tmp.dir, 'usb-stick.img');
  writeFileSync(src, pseudoRandomBytes(3 << 20, 1));
  // 1 MiB and 100 bytes: not whole 512-byte sectors.
  odd = join(tmp.dir, 'odd.bin');
  writeFileSync(odd, pseudoRandomBytes((1 << 20) + 100, 2));
});
afterAll(() => tmp.cleanup());

const opts = (extra: Partial<AcquireOptions> = {}): AcquireOptions => ({
  source: src,
  outDir: join(tmp.dir, 'never-created'),
  format: 'raw',
  algorithms: ['sha256'],
  retries: 3,
  ...extra,
});

/** A sparse file of `size` bytes: as large as a disk, costing nothing. */
function sparse(name: string, size: number): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, '');
  truncateSync(p, size);
  return p;
}

describe('algorithms', () => {
  test.each([
    ['raw', ['sha256'], ['sha256']],
    ['split', ['sha512', 'md5', 'md5'], ['md5', 'sha512']],
    ['e01', ['sha256'], ['md5', 'sha1', 'sha256']],
    ['e01', ['blake3', 'sha1'], ['md5', 'sha1', 'blake3']],
    ['e01', [], ['md5', 'sha1']],
  ] as const)('%s with --hash %j computes %j (what the container stores is added, in the canonical order, once)', (format, asked, computed) => {
    const p = plan(opts({ format, algorithms: [...asked] }));
    expect(p.o.algorithms).toEqual(computed);
    expect(p.settings.algorithms).toEqual(computed);
  });
});

describe('base names', () => {
  test.each([
    ['/dev/sdb', undefined, 'sdb'],
    ['/evidence/usb-stick.img', undefined, 'usb-stick'],
    ['/evidence/disk.tar.gz', undefined, 'disk.tar'],
    ['/evidence/.hidden', undefined, 'hidden'],
    ['/evidence/noext', undefined, 'noext'],
    ['/evidence/Laptop HDD (Dell).dd', undefined, 'Laptop_HDD_Dell_'],
    ['/dev/sdb', 'EV-0001', 'EV-0001'],
    ['/dev/sdb', 'EV 0001/ä', 'EV_0001_'],
    ['/dev/sdb', '../../etc/passwd', 'etc_passwd'],
    ['/dev/sdb', '...', 'image'],
  ])('source %s, evidence number %s: %s', (source, evidence, base) => {
    expect(defaultBaseName(source, evidence)).toBe(base);
  });

  test('safeName keeps letters, digits, dot, dash and underscore; never a leading dot or underscore, never empty', () => {
    expect(safeName('2026-0314_HARBOUR.v2')).toBe('2026-0314_HARBOUR.v2');
    expect(safeName('a\u0000b\nc\u202ed')).toBe('a_b_c_d');
    expect(safeName('__.x')).toBe('x');
    expect(safeName('')).toBe('image');
    expect(safeName('///')).toBe('image');
  });

  test('plan: --name wins (made safe), then the evidence number, then the source name; paths in the output folder, made absolute', () => {
    const relOut = join('relative', 'out');
    const byName = plan(opts({ name: 'my image', case: { evidenceNumber: 'EV-9' }, outDir: relOut }));
    const abs = join(process.cwd(), relOut);
    expect(byName.layout).toMatchObject({ dir: abs, base: 'my_image' });
    expect(byName.paths).toEqual({
      outDir: abs,
      manifest: join(abs, 'my_image.manifest.json'),
      journal: join(abs, 'my_image.resume.json'),
      windows: join(abs, 'my_image.windows.json'),
    });
    expect(plan(opts({ case: { evidenceNumber: 'EV-9' } })).layout.base).toBe('EV-9');
    expect(plan(opts()).layout.base).toBe('usb-stick');
    expect(existsSync(join(process.cwd(), 'relative'))).toBe(false);
  });
});

describe('layout and settings per format', () => {
  test('raw: one file, resumable, no media segments; defaults for chunk size, split size, window, environment', () => {
    const p = plan(opts());
    expect(p.layout).toEqual({ dir: join(tmp.dir, 'never-created'), base: 'usb-stick', format: 'raw', splitSize: DEFAULT_SPLIT_SIZE, totalSize: 3 << 20 });
    expect(p.settings).toEqual({ format: 'raw', splitSize: 0, algorithms: ['sha256'], windowSize: 0, chunkSize: DEFAULT_CHUNK_SIZE, sectorSize: 512, retries: 3 });
    expect(p.resumable).toBe(true);
    expect(p.chunkSize).toBe(4 << 20);
    expect(p.env).toBe(systemEnvironment);
    expect(p.format.name).toBe('raw');
    expect(p.format.settings(p.layout, p.o)).toEqual({});
    expect(p.info).toMatchObject({ kind: 'file', sizeBytes: 3 << 20, sectors: 6144, hiddenAreas: { status: 'not-applicable' } });
    expect(DEFAULT_SPLIT_SIZE).toBe(2 * 1024 ** 3);
  });

  test('split: the segment size is the media segment size a resume repeats', () => {
    const env = fixedEnvironment();
    const events: string[] = [];
    const p = plan(opts({ format: 'split', splitSize: 1 << 20, windowSize: 1 << 20, chunkSize: 65536, env, onEvent: (m) => events.push(m) }));
    expect(p.layout).toMatchObject({ format: 'split', splitSize: 1 << 20, totalSize: 3 << 20 });
    expect(p.settings).toEqual({ format: 'split', splitSize: 1 << 20, algorithms: ['sha256'], windowSize: 1 << 20, chunkSize: 65536, sectorSize: 512, retries: 3 });
    expect(p.format.settings(p.layout, p.o)).toEqual({ splitSize: 1 << 20 });
    expect(p.resumable).toBe(true);
    expect(p.env).toBe(env);
    p.events('hello');
    expect(events).toEqual(['hello']);
  });

  test('e01: not resumable, no media segments; compression and segment size as recorded (defaults fast, 1.4 GiB)', () => {
    const p = plan(opts({ format: 'e01' }));
    expect(p.resumable).toBe(false);
    expect(p.settings).toMatchObject({ format: 'e01', splitSize: 0 });
    expect(p.format.settings(p.layout, p.o)).toEqual({ compression: 'fast', segmentSize: DEFAULT_SEGMENT_SIZE });
    expect(DEFAULT_SEGMENT_SIZE).toBe(Math.floor(1.4 * 1024 ** 3));
    const q = plan(opts({ format: 'e01', compression: 'best', segmentSize: 2 << 20 }));
    expect(q.format.settings(q.layout, q.o)).toEqual({ compression: 'best', segmentSize: 2 << 20 });
  });
});

describe('refused before anything happens', () => {
  test('E01 of media that is not whole sectors: INVALID_INPUT naming the source (raw and split keep every byte)', () => {
    expect(() => plan(opts({ source: odd, format: 'e01' }))).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        path: odd,
        message: `${odd}: 1048676 bytes is not a whole number of 512-byte sectors, and E01 stores whole sectors only`,
        hint: expect.stringContaining('Write it as raw or split'),
      }),
    );
    expect(plan(opts({ source: odd, format: 'raw' })).info.sectors).toBe(2049);
    expect(plan(opts({ source: odd, format: 'split', splitSize: 1 << 20 })).layout.totalSize).toBe((1 << 20) + 100);
  });

  test.each([
    [511, /^--hash-window 511 is not a whole number of 512-byte sectors$/],
    [1000, /^--hash-window 1000 is not a whole number of 512-byte sectors$/],
    [1536.5, /^--hash-window 1536.5 is not a whole number/],
    [Number.NaN, /^--hash-window NaN is not a whole number/],
    [2 ** 53, /^--hash-window 9007199254740992 is not a whole number/],
  ])('--hash-window %d: USAGE', (w, message) => {
    expect(() => plan(opts({ windowSize: w }))).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(message), hint: 'Use a window such as 1MiB or 64MiB.' }));
  });

  test('checkWindowSize: 0 (none) and whole sectors pass; at most MAX_HASH_WINDOWS windows, the hint giving the smallest window that fits', () => {
    const media = { sizeBytes: 512 * (MAX_HASH_WINDOWS + 1), logicalSectorSize: 512 };
    expect(MAX_HASH_WINDOWS).toBe(200_000);
    expect(() => checkWindowSize(0, media)).not.toThrow();
    expect(() => checkWindowSize(1024, media)).not.toThrow();
    expect(() => checkWindowSize(512, { ...media, sizeBytes: 512 * MAX_HASH_WINDOWS })).not.toThrow();
    expect(() => checkWindowSize(512, media)).toThrow(
      expect.objectContaining({ code: 'USAGE', message: `--hash-window 512 would make 200001 windows over ${512 * 200_001} bytes, more than 200000`, hint: 'Use a window of at least 1024 bytes.' }),
    );
    // 4 KiB sectors: the window must be whole 4 KiB sectors, and the suggestion is too.
    const disk = { sizeBytes: 4096 * 1_000_000, logicalSectorSize: 4096 };
    expect(() => checkWindowSize(2048, disk)).toThrow(/is not a whole number of 4096-byte sectors/);
    expect(() => checkWindowSize(4096, disk)).toThrow(expect.objectContaining({ hint: 'Use a window of at least 20480 bytes.' }));
    expect(() => checkWindowSize(20480, disk)).not.toThrow();
    // An empty source has one (empty) window.
    expect(() => checkWindowSize(512, { sizeBytes: 0, logicalSectorSize: 512 })).not.toThrow();
    // A negative or fractional window is a mistake, not "no windows".
    expect(() => checkWindowSize(-512, media)).toThrow(expect.objectContaining({ code: 'USAGE', message: '--hash-window -512 is not a whole number of 512-byte sectors' }));
    expect(() => checkWindowSize(1024.5, media)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  test('plan refuses too many windows on a large (sparse) source', () => {
    const big = sparse('big-window.img', 512 * (MAX_HASH_WINDOWS + 1));
    expect(() => plan(opts({ source: big, windowSize: 512 }))).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('would make 200001 windows') }));
    expect(plan(opts({ source: big, windowSize: 1024 })).settings.windowSize).toBe(1024);
  });

  test.each([
    ['split', { splitSize: 100 }, '--split-size 100 bytes is below the minimum of 1 MiB'],
    ['split', { splitSize: (1 << 20) - 1 }, `--split-size ${(1 << 20) - 1} bytes is below the minimum of 1 MiB`],
    ['split', { splitSize: 1.5 * (1 << 20) + 0.5 }, '--split-size 1572864.5 is not a whole number of bytes'],
    ['split', { splitSize: 0 }, '--split-size 0 bytes is below the minimum'],
    ['e01', { segmentSize: 4096 }, '--segment-size 4096 bytes is below the minimum of 1 MiB'],
  ] as const)('%s with %j: USAGE "%s"', (format, extra, message) => {
    expect(() => plan(opts({ format, ...extra }))).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining(message) }));
  });

  test('a segment size that would make more than 100,000 files (a 100 GiB sparse source in 1 MiB pieces): USAGE with the smallest size that fits', () => {
    const size = (1 << 20) * 100_001;
    const big = sparse('big-split.img', size);
    for (const [format, flag, extra] of [
      ['split', '--split-size', { splitSize: 1 << 20 }],
      ['e01', '--segment-size', { segmentSize: 1 << 20 }],
    ] as const) {
      expect(() => plan(opts({ source: big, format, ...extra }))).toThrow(
        expect.objectContaining({
          code: 'USAGE',
          message: `${flag} ${1 << 20} would split ${size} bytes into 100001 files, more than 100000`,
          hint: `Use a ${flag} of at least ${Math.ceil(size / 100_000)} bytes.`,
        }),
      );
    }
    expect(plan(opts({ source: big, format: 'split', splitSize: 2 << 20 })).layout.splitSize).toBe(2 << 20);
  });

  test('a missing source or an unknown format: refused by plan', () => {
    expect(() => plan(opts({ source: join(tmp.dir, 'gone.img') }))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    expect(() => plan(opts({ format: 'aff4' as never }))).toThrow(expect.objectContaining({ code: 'USAGE', message: "unknown image format 'aff4'" }));
  });

  test('acquire with a refused plan writes nothing: no output folder, no file', async () => {
    for (const extra of [{ source: odd, format: 'e01' }, { windowSize: 1000 }, { format: 'split', splitSize: 100 }] as const) {
      const outDir = join(tmp.dir, 'refused', 'out');
      await expect(acquire(opts({ ...extra, outDir, env: fixedEnvironment() }))).rejects.toMatchObject({ code: expect.stringMatching(/^(USAGE|INVALID_INPUT)$/) });
      expect(existsSync(join(tmp.dir, 'refused'))).toBe(false);
    }
    expect(readdirSync(tmp.dir).sort()).toEqual(['big-split.img', 'big-window.img', 'odd.bin', 'usb-stick.img']);
  });
});
