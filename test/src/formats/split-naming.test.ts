import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError, isCustosError } from '../../../src/errors';
import { imageFileNames } from '../../../src/formats/files';
import { findSegments } from '../../../src/formats/split-naming';
import { hasTool, makeTempDir, ROOT } from '../../helpers';

// The real module object, so that a spy sees the calls src/formats/split-naming.ts makes.
const fs: typeof import('node:fs') = require('node:fs');

const NAMES = join(ROOT, 'test', 'fixtures', 'expect', 'split-names');

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-split-');
});
afterAll(() => tmp.cleanup());

let folders = 0;
/** A new folder holding empty files with these names. */
function folderWith(names: readonly string[]): string {
  const dir = join(tmp.dir, `f${folders++}`);
  mkdirSync(dir);
  for (const n of names) writeFileSync(join(dir, n), '');
  return dir;
}

function failure(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (e) {
    if (!isCustosError(e)) throw e;
    return e;
  }
  throw new Error('expected a CustosError');
}

/** A recorded run: the command line (first line) and the names it wrote, in order. */
function recorded(file: string): { command: string; names: string[] } {
  const [first, ...rest] = readFileSync(join(NAMES, file), 'utf8').trimEnd().split('\n');
  return { command: first!.replace(/^# /, ''), names: rest };
}

const RECORDINGS = readdirSync(NAMES).filter((f) => f.endsWith('.txt')).sort();

describe('the names dc3dd ofs=, dcfldd split= and split(1) write (recorded on the build machine)', () => {
  test('every recording is there', () => {
    expect(RECORDINGS).toEqual(
      [
        'dc3dd-ofs-000', 'dc3dd-ofs-0000', 'dc3dd-ofs-111', 'dc3dd-ofs-aa', 'dc3dd-ofs-aaa',
        'dcfldd-split-TEXT', 'dcfldd-split-WIN', 'dcfldd-split-aa', 'dcfldd-split-default', 'split-a2', 'split-d-a3',
      ].map((n) => `${n}.txt`).sort(),
    );
  });

  test.each(RECORDINGS)('%s: any segment finds the whole set in order', (file) => {
    const { names } = recorded(file);
    expect(names.length).toBe(10);
    const dir = folderWith(names);
    for (const n of names) expect(findSegments(join(dir, n))).toEqual(names.map((x) => join(dir, x)));
  });

  // The recordings must stay what the tools really write: run the same command lines again.
  test.each(RECORDINGS)('%s: the tool still writes these names', (file) => {
    const { command, names } = recorded(file);
    const tool = command.split(' ')[0]!;
    if (!hasTool(tool)) {
      console.warn(`skipped: ${tool} is not installed (apt-get install dc3dd dcfldd coreutils)`);
      return;
    }
    const dir = join(tmp.dir, `run-${file}`);
    mkdirSync(dir);
    // 5000 bytes in 512-byte pieces: ten files, as recorded.
    writeFileSync(join(tmp.dir, 'src.bin'), Buffer.alloc(5000, 7));
    const r = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    const written = readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(written).toEqual(names);
    expect(findSegments(join(dir, names[4]!))).toEqual(names.map((x) => join(dir, x)));
  });
});

describe('custos own split images', () => {
  test.each([
    [3, 'BASE.003'],
    [999, 'BASE.999'],
    [1000, 'BASE.1000'],
  ])('%i segments, named by imageFileNames', (n, last) => {
    const names = imageFileNames({ base: 'BASE', format: 'split', splitSize: 1, totalSize: n });
    expect(names[names.length - 1]).toBe(last);
    const dir = folderWith(names);
    expect(findSegments(join(dir, names[0]!))).toEqual(names.map((x) => join(dir, x)));
    expect(findSegments(join(dir, last))).toHaveLength(n);
  });
});

describe('sets', () => {
  test('a set starting at .000 includes it; one starting at .001 has no .000', () => {
    const d0 = folderWith(['x.000', 'x.001', 'x.002']);
    expect(findSegments(join(d0, 'x.002'))).toEqual(['x.000', 'x.001', 'x.002'].map((n) => join(d0, n)));
    const d1 = folderWith(['x.001', 'x.002']);
    expect(findSegments(join(d1, 'x.002'))).toEqual(['x.001', 'x.002'].map((n) => join(d1, n)));
  });

  test('letters run on from .az to .ba and from .azz to .baa', () => {
    const two = Array.from({ length: 30 }, (_, i) => `x.${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`);
    expect(two.slice(24, 28)).toEqual(['x.ay', 'x.az', 'x.ba', 'x.bb']);
    const d2 = folderWith(two);
    expect(findSegments(join(d2, 'x.ba'))).toEqual(two.map((n) => join(d2, n)));
    const three = ['x.aaa', 'x.aab'];
    const d3 = folderWith([...three, 'x.aa', 'x.ab']);
    // Other widths in the same folder are other sets.
    expect(findSegments(join(d3, 'x.aab'))).toEqual(three.map((n) => join(d3, n)));
    expect(findSegments(join(d3, 'x.ab'))).toEqual(['x.aa', 'x.ab'].map((n) => join(d3, n)));
  });

  test('the last name of a width ends the set (tools stop there too)', () => {
    const d = folderWith(['x.zy', 'x.zz', 'x.aaa']);
    expect(failure(() => findSegments(join(d, 'x.zz'))).message).toContain('the first segment x.aa of this split image is missing');
    const n = folderWith(['y.998', 'y.999', 'y.1000']);
    expect(failure(() => findSegments(join(n, 'y.999'))).message).toContain('y.001');
  });

  test('stems with dots, spaces and other scripts', () => {
    for (const stem of ['case 12.disk', 'Beweis-Ä.2024', '证据.img', '.hidden']) {
      const names = [`${stem}.000`, `${stem}.001`];
      const d = folderWith(names);
      expect(findSegments(join(d, names[1]!))).toEqual(names.map((n) => join(d, n)));
    }
  });

  test('a relative path keeps its form', () => {
    const d = folderWith(['rel.001', 'rel.002']);
    const cwd = process.cwd();
    process.chdir(d);
    try {
      expect(findSegments('rel.002')).toEqual(['rel.001', 'rel.002']);
      expect(findSegments('./rel.001')).toEqual(['rel.001', 'rel.002']);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('gaps and missing segments', () => {
  test('the set stops at the first gap', () => {
    const d = folderWith(['g.001', 'g.002', 'g.004']);
    expect(findSegments(join(d, 'g.001'))).toEqual([join(d, 'g.001'), join(d, 'g.002')]);
  });

  test('a file after a gap is refused, naming the missing segment', () => {
    const d = folderWith(['g.001', 'g.002', 'g.004', 'g.005']);
    const e = failure(() => findSegments(join(d, 'g.005')));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain('segment g.003 is missing');
    expect(e.message).toContain(join(d, 'g.005'));
    expect(e.hint).toContain('g.003');
  });

  test('a missing first segment is refused, naming it', () => {
    const d = folderWith(['m.002', 'm.003']);
    const e = failure(() => findSegments(join(d, 'm.003')));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain('the first segment m.001 of this split image is missing');
    const l = folderWith(['m.ab', 'm.ac']);
    expect(failure(() => findSegments(join(l, 'm.ac'))).message).toContain('first segment m.aa');
  });

  test('a numbered segment that does not exist', () => {
    const d = folderWith(['n.001']);
    expect(failure(() => findSegments(join(d, 'n.002')))).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(failure(() => findSegments(join(d, 'no-such-folder', 'n.001')))).toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  test('a folder that is a file', () => {
    const d = folderWith(['plain']);
    expect(failure(() => findSegments(join(d, 'plain', 'x.001')))).toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('lone files', () => {
  test('names that are not segments are images of one file', () => {
    const d = folderWith(['disk.img', 'disk.dd', 'disk.raw', 'notes.c', 'v.01', 'capture.20240101120000', 'x.aa']);
    for (const n of ['disk.img', 'disk.dd', 'disk.raw', 'notes.c', 'v.01', 'capture.20240101120000', 'x.aa', 'DISK.AA', 'absent.img']) {
      expect(findSegments(join(d, n))).toEqual([join(d, n)]);
    }
  });

  test('letters and one or two digits are a set when the first segment or a neighbour is there', () => {
    const d = folderWith(['disk.img', 'disk.imh', 'v.00', 'v.01']);
    expect(findSegments(join(d, 'v.01'))).toEqual([join(d, 'v.00'), join(d, 'v.01')]);
    expect(failure(() => findSegments(join(d, 'disk.img'))).message).toContain('first segment disk.aaa');
  });
});

test('the folder is listed once, in one pass', () => {
  const names = Array.from({ length: 50 }, (_, i) => `once.${String(i + 1).padStart(3, '0')}`);
  const d = folderWith(names);
  const opendir = jest.spyOn(fs, 'opendirSync');
  const readdir = jest.spyOn(fs, 'readdirSync');
  try {
    expect(findSegments(join(d, 'once.025'))).toHaveLength(50);
    expect(opendir).toHaveBeenCalledTimes(1);
    expect(readdir).not.toHaveBeenCalled();
  } finally {
    opendir.mockRestore();
    readdir.mockRestore();
  }
});

test('symbolic links among segments are names like any other (the image reader checks what they are)', () => {
  const d = folderWith(['s.001', 's.003']);
  symlinkSync(join(d, 's.003'), join(d, 's.002'));
  symlinkSync(join(d, 'nowhere'), join(d, 's.004'));
  expect(findSegments(join(d, 's.001'))).toEqual(['s.001', 's.002', 's.003', 's.004'].map((n) => join(d, n)));
});

test('more than 100,000 files named like segments are refused, quickly', () => {
  const d = join(tmp.dir, 'many');
  mkdirSync(d);
  // 100,001 names, from 000000 to 100000, made by coreutils in one go.
  const r = spawnSync('sh', ['-c', 'seq -f "many.%06g" 0 100000 | xargs touch'], { cwd: d });
  expect(r.status).toBe(0);
  const t0 = Date.now();
  const e = failure(() => findSegments(join(d, 'many.000000')));
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(e.code).toBe('INVALID_INPUT');
  expect(e.message).toContain('more than 100000 files');
  // One fewer is a valid set.
  fs.unlinkSync(join(d, 'many.100000'));
  expect(findSegments(join(d, 'many.054321'))).toHaveLength(100_000);
});

describe('fuzz: hostile folders and names (seeded, bounded)', () => {
  const SEED = 0x5eed_2026;
  /** xorshift32, so that a failure names the seed and the case and reproduces. */
  function rng(seed: number) {
    let x = seed >>> 0 || 1;
    const next = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 2 ** 32;
    };
    return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(a: readonly T[]) => a[Math.floor(next() * a.length)]! };
  }

  const STEMS = ['img', 'disk.raw', 'a.b.c', 'case 42', 'Beweis-Ä', 'ü', '证据', '🙂🙂', 'x'.repeat(200), '.', '..x', ' ', 'e\u0301', 'é', '\u202eevil', 'x-'];
  const r = rng(SEED);

  function suffix(kind: 'digits' | 'letters', width: number, index: number): string {
    if (kind === 'digits') return String(index).padStart(width, '0');
    let s = '';
    for (let i = 0, n = index; i < width; i++, n = Math.floor(n / 26)) s = String.fromCharCode(97 + (n % 26)) + s;
    return s;
  }

  function hostileName(): string {
    const stem = r.pick(STEMS);
    switch (r.int(10)) {
      case 0:
        return `${stem}.${'9'.repeat(1 + r.int(60))}`;
      case 1:
        return `${stem}.${'0'.repeat(1 + r.int(8))}${r.int(10)}`;
      case 2:
        return `${stem}.${suffix('letters', 1 + r.int(9), r.int(5000))}`;
      case 3:
        return `${stem}.${suffix('digits', 1 + r.int(7), r.int(1200))}`;
      case 4:
        return `${'.'.repeat(1 + r.int(3))}${r.int(1000)}`;
      case 5:
        return `${stem}..${String(r.int(1000)).padStart(3, '0')}`;
      case 6:
        return `${stem}.${String(r.int(1000)).padStart(3, '0')}.partial`;
      case 7:
        return `${stem}.AA${r.int(10)}`;
      case 8:
        return `${String(r.int(1000)).padStart(3, '0')}`;
      default:
        return `${stem}.${suffix('digits', 3, r.int(40))}`;
    }
  }

  const fits = (name: string) => Buffer.byteLength(name) <= 255 && name !== '.' && name !== '..' && !name.includes('/');

  /** Calls findSegments and checks what any answer must satisfy: a list of existing names holding the path, or a CustosError. */
  function probe(dir: string, name: string, listing: Set<string>, where: string): string[] | CustosError {
    const t0 = Date.now();
    let out: string[] | CustosError;
    try {
      out = findSegments(join(dir, name));
    } catch (e) {
      if (!isCustosError(e)) throw new Error(`${where}: ${JSON.stringify(name)} threw a non-CustosError: ${String(e)}`);
      out = e;
    }
    const ms = Date.now() - t0;
    if (ms > 2000) throw new Error(`${where}: ${JSON.stringify(name)} took ${ms} ms`);
    if (Array.isArray(out)) {
      if (out.length === 0) throw new Error(`${where}: empty list for ${JSON.stringify(name)}`);
      if (out.length > 1 || out[0] !== join(dir, name)) {
        if (!out.includes(join(dir, name))) throw new Error(`${where}: ${JSON.stringify(name)} is not in its own set`);
        for (const p of out) if (!listing.has(p.slice(dir.length + 1))) throw new Error(`${where}: ${p} does not exist`);
      }
    }
    return out;
  }

  test('400 random folders: only CustosErrors, bounded time, valid sets found whole and in order', () => {
    const t0 = Date.now();
    for (let c = 0; c < 400; c++) {
      const where = `seed ${SEED.toString(16)} case ${c}`;
      const dir = join(tmp.dir, `fuzz-${c}`);
      mkdirSync(dir);
      const listing = new Set<string>();
      const add = (name: string, make: () => void) => {
        if (!fits(name) || listing.has(name)) return;
        try {
          make();
          listing.add(name);
        } catch {
          // A name the file system refuses (too long in bytes, for instance) is simply not there.
        }
      };
      for (let i = r.int(25); i > 0; i--) {
        const name = hostileName();
        const kind = r.int(10);
        add(name, () => {
          if (kind === 0) mkdirSync(join(dir, name));
          else if (kind === 1) symlinkSync(join(dir, hostileName()), join(dir, name));
          else if (kind === 2) symlinkSync(dir, join(dir, name));
          else writeFileSync(join(dir, name), '');
        });
      }
      // A set whose stem nothing else uses, so its answer is known: the run up to the first gap.
      const stem = `${r.pick(STEMS)}~${c}`;
      const kind = r.next() < 0.6 ? 'digits' : 'letters';
      const width = kind === 'digits' ? 3 + r.int(4) : 2 + r.int(3);
      const start = kind === 'letters' ? 0 : r.int(2);
      const count = 1 + r.int(30);
      const gapAt = r.next() < 0.3 ? start + 1 + r.int(count) : -1;
      const members: string[] = [];
      for (let i = start; i < start + count; i++) {
        const name = `${stem}.${suffix(kind, width, i)}`;
        if (i === gapAt || !fits(name)) continue;
        const asLink = r.next() < 0.15 && members.length > 0;
        add(name, () => (asLink ? symlinkSync(join(dir, members[0]!), join(dir, name)) : writeFileSync(join(dir, name), '')));
        if (listing.has(name)) members.push(name);
      }
      for (const name of [...listing, hostileName(), `${stem}.${suffix(kind, width, start + count + 3)}`]) probe(dir, name, listing, where);
      if (members.length === 0) continue;
      const run: string[] = [];
      for (let i = start; listing.has(`${stem}.${suffix(kind, width, i)}`); i++) run.push(`${stem}.${suffix(kind, width, i)}`);
      const firstMissing = `${stem}.${suffix(kind, width, start + run.length)}`;
      for (const m of members) {
        const got = probe(dir, m, listing, where);
        if (run.includes(m)) {
          expect({ where, got }).toEqual({ where, got: run.map((n) => join(dir, n)) });
        } else {
          // After the gap (or, with letters, no set at all when neither the first segment nor a neighbour is there).
          if (Array.isArray(got)) expect({ where, got }).toEqual({ where, got: [join(dir, m)] });
          else expect({ where, message: got.message.includes(firstMissing) }).toEqual({ where, message: true });
        }
      }
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  test('a folder of 5,000 unrelated files and a 2,000-segment set', () => {
    const dir = join(tmp.dir, 'crowded');
    mkdirSync(dir);
    const listing = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const name = `${i}-${hostileName()}`.slice(0, 200);
      if (!fits(name) || listing.has(name)) continue;
      writeFileSync(join(dir, name), '');
      listing.add(name);
    }
    const set = Array.from({ length: 2000 }, (_, i) => `crowd.${suffix('digits', 4, i + 1)}`);
    for (const n of set) {
      writeFileSync(join(dir, n), '');
      listing.add(n);
    }
    for (let q = 0; q < 20; q++) {
      const t0 = Date.now();
      expect(findSegments(join(dir, set[r.int(set.length)]!))).toEqual(set.map((n) => join(dir, n)));
      expect(Date.now() - t0).toBeLessThan(2000);
    }
    for (let q = 0; q < 200; q++) probe(dir, hostileName(), listing, `crowded query ${q}`);
  });
});
