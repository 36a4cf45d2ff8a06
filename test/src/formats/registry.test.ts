/**
 * The format registry: which format a file is in, by content first (EVF signature), then by name
 * (split sets), else raw; a name that claims E01 without the signature is refused, and so is
 * anything that is not a regular file. Real files: E01 sets written by libewf's ewfacquire,
 * split sets cut by coreutils split(1).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import { detectFormat, FORMAT_NAMES, FORMATS, formatByName, type FormatName, openImage } from '../../../src/formats/registry';
import { e01Format } from '../../../src/formats/e01';
import { rawFormat } from '../../../src/formats/raw';
import { splitFormat } from '../../../src/formats/split';
import { hasTool, makeTempDir, pseudoRandomBytes } from '../../helpers';
import { ewfacquire, splitWithCoreutils, thrownSync } from '../image-support';

const ewf = hasTool('ewfacquire');
let tmp: ReturnType<typeof makeTempDir>;
let media: string;
let e01: string | undefined;
const at = (...p: string[]) => join(tmp.dir, ...p);

beforeAll(() => {
  tmp = makeTempDir('custos-registry-');
  media = at('media.bin');
  writeFileSync(media, pseudoRandomBytes(3 * 1024 * 1024 + 512, 41));
  if (ewf) {
    mkdirSync(at('ewf'));
    e01 = ewfacquire(media, at('ewf', 'ev'), ['-c', 'fast', '-S', '1MiB']);
  }
});
afterAll(() => tmp.cleanup());

test('FORMAT_NAMES lists every format, signature formats first, raw last; formatByName gives each module', () => {
  expect(FORMAT_NAMES).toEqual(['e01', 'split', 'raw']);
  expect(FORMATS).toEqual([e01Format, splitFormat, rawFormat]);
  for (const n of FORMAT_NAMES) expect(formatByName(n).name).toBe(n);
});

test('formatByName of an unknown name is a USAGE error listing the names', () => {
  const e = thrownSync(() => formatByName('vmdk' as FormatName));
  expect(isCustosError(e)).toBe(true);
  expect(e.code).toBe('USAGE');
  expect(e.message).toBe("unknown image format 'vmdk'");
  expect(e.hint).toBe('Use one of: e01, split, raw.');
});

(ewf ? describe : describe.skip)('an EVF signature wins over any name', () => {
  test.each(['disk.raw', 'disk.img', 'disk', 'disk.dd'])('an E01 segment copied to %s is E01', (name) => {
    const p = at(`sig-${name}`);
    copyFileSync(e01!, p);
    expect(detectFormat(p)).toBe(e01Format);
  });

  test('an E01 segment named like a split segment, beside another segment, is E01', () => {
    mkdirSync(at('sigsplit'));
    copyFileSync(e01!, at('sigsplit', 'x.001'));
    copyFileSync(media, at('sigsplit', 'x.002'));
    expect(detectFormat(at('sigsplit', 'x.001'))).toBe(e01Format);
    // The other file of that "set" has no signature: by name it is a split segment.
    expect(detectFormat(at('sigsplit', 'x.002'))).toBe(splitFormat);
  });

  test('every segment of an ewfacquire set carries the signature: .E02 and .E04 are E01', () => {
    expect(detectFormat(at('ewf', 'ev.E02'))).toBe(e01Format);
    expect(detectFormat(at('ewf', 'ev.E04'))).toBe(e01Format);
  });
});

describe('split sets by name, from any segment', () => {
  test.each([
    ['digits from 1 (split -d --numeric-suffixes=1)', ['--numeric-suffixes=1', '-a', '3'], ['d.001', 'd.002', 'd.003', 'd.004']],
    ['digits from 0 (split -d)', ['-d', '-a', '3'], ['d.000', 'd.001', 'd.002', 'd.003']],
    ['letters (split)', [], ['d.aa', 'd.ab', 'd.ac', 'd.ad']],
  ])('%s', (label, args, names) => {
    const dir = at(`split-${label.replace(/\W+/g, '-')}`);
    mkdirSync(dir);
    expect(spawnSync('split', ['-b', '1M', ...args, media, join(dir, 'd.')]).status).toBe(0);
    for (const n of names) expect(detectFormat(join(dir, n))).toBe(splitFormat);
    const image = openImage(join(dir, names[2]!));
    try {
      expect(image.format).toBe('split');
      expect(image.parts.map((p) => p.path)).toEqual(names.map((n) => join(dir, n)));
    } finally {
      image.close();
    }
  });

  test('a lone numbered file, with no sibling, is a raw image of one file', () => {
    mkdirSync(at('lone'));
    copyFileSync(media, at('lone', 'x.001'));
    expect(detectFormat(at('lone', 'x.001'))).toBe(rawFormat);
  });
});

describe('raw is the fallback', () => {
  test.each(['disk.img', 'disk.raw', 'disk', 'disk.bin', 'photo.jpeg'])('%s without a signature is raw', (name) => {
    const p = at(`raw-${name}`);
    copyFileSync(media, p);
    expect(detectFormat(p)).toBe(rawFormat);
  });

  test('an empty file without an E01 name is raw', () => {
    writeFileSync(at('empty.img'), '');
    expect(detectFormat(at('empty.img'))).toBe(rawFormat);
  });
});

describe('refusals, each one line with a code', () => {
  test.each(['fake.E01', 'fake.e01', 'fake.E02', 'fake.EAB', 'empty.E01'])('%s without the EVF signature is INVALID_INPUT, not read as raw', (name) => {
    const p = at(name);
    writeFileSync(p, name.startsWith('empty') ? '' : pseudoRandomBytes(4096, 42));
    const e = thrownSync(() => detectFormat(p));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`${p}: named like E01 but its content is not (e01 signature missing)`);
    expect(e.message).not.toContain('\n');
    expect(e.hint).toMatch(/^[^\n]+$/);
    expect(e.path).toBe(p);
  });

  test('a FIFO is refused at once (no hang waiting for a writer)', () => {
    const fifo = at('pipe.E01');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const t0 = Date.now();
    const e = thrownSync(() => detectFormat(fifo));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.code).toBe('NOT_A_FILE');
    expect(e.message).toContain(`${fifo}: is a pipe (FIFO)`);
    expect(e.message).not.toContain('\n');
  }, 10_000);

  test('/dev/zero is refused (a character device, endless)', () => {
    const e = thrownSync(() => detectFormat('/dev/zero'));
    expect(e.code).toBe('NOT_A_FILE');
    expect(e.message).toContain('/dev/zero: is a character device');
  });

  test('a folder and a missing file', () => {
    expect(thrownSync(() => detectFormat(tmp.dir)).code).toBe('IS_DIRECTORY');
    const missing = at('missing.E01');
    const e = thrownSync(() => detectFormat(missing));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toBe(`${missing}: no such file or directory`);
  });

  test('splitWithCoreutils helper gives the names the registry reads (self-check of the test tool)', () => {
    mkdirSync(at('self'));
    expect(splitWithCoreutils(media, at('self'), 's', 1 << 20).map((p) => p.slice(at('self').length + 1))).toEqual(['s.001', 's.002', 's.003', 's.004']);
  });
});
