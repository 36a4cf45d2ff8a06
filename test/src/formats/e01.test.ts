import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { CustosError } from '../../../src/errors';
import { E01Source } from '../../../src/formats/e01/reader';
import { adler32, segmentExtension } from '../../../src/formats/e01/sections';
import { verifyTarget } from '../../../src/verify/verify';
import { digestOf, fixedEnvironment, hasTool, makeTempDir, pseudoRandomBytes, runCli, sameBytes, SAMPLE_IMAGE, tool } from '../../helpers';

const ewf = ['ewfverify', 'ewfinfo', 'ewfexport', 'ewfacquire'].every(hasTool);
const d = ewf ? describe : describe.skip;
if (!ewf) test.skip('E01 interoperability tests skipped: ewf-tools is not installed (apt-get install ewf-tools)', () => undefined);

let tmp: ReturnType<typeof makeTempDir>;
let mixed: string;
beforeAll(() => {
  tmp = makeTempDir();
  // 6 MiB + 1 KiB of random, zeros and text: compressible and not, ending inside a chunk.
  mixed = join(tmp.dir, 'mixed.bin');
  writeFileSync(mixed, Buffer.concat([pseudoRandomBytes(2 << 20, 4), Buffer.alloc(2 << 20), Buffer.from('custos E01 test line\n'.repeat(100_000)).subarray(0, (2 << 20) + 1024)]));
});
afterAll(() => tmp?.cleanup());

test('Adler-32 (RFC 1950) agrees with known values', () => {
  expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
  expect(adler32(Buffer.alloc(0))).toBe(1);
  expect(adler32(Buffer.alloc(100_000, 0xff))).toBe(require('node:zlib').deflateSync(Buffer.alloc(100_000, 0xff)).readUInt32BE(require('node:zlib').deflateSync(Buffer.alloc(100_000, 0xff)).length - 4));
});

test('segment extensions follow libewf: E01..E99, EAA.., then FAA..', () => {
  expect([1, 9, 10, 99, 100, 101, 126, 775, 776].map(segmentExtension)).toEqual(['E01', 'E09', 'E10', 'E99', 'EAA', 'EAB', 'EBA', 'EZZ', 'FAA']);
});

const CASE = { caseNumber: '2026-0314-HARBOUR', evidenceNumber: 'EV-0001', examiner: 'Alex Morgan', description: 'USB stick, black', notes: 'Bag A1234567' };

d('custos E01 is accepted by libewf', () => {
  const cases: [string, 'none' | 'fast' | 'best', number | undefined][] = [
    ['none, single segment', 'none', undefined],
    ['fast, single segment', 'fast', undefined],
    ['best, single segment', 'best', undefined],
    ['none, multi-segment', 'none', 1 << 20],
    ['fast, multi-segment', 'fast', 1 << 20],
  ];
  test.each(cases)('%s: ewfverify SUCCESS without warnings, ewfinfo shows the case, ewfexport gives the source back', async (_label, compression, segmentSize) => {
    const out = join(tmp.dir, `e01-${compression}-${segmentSize ?? 'one'}`);
    mkdirSync(out);
    const r = await acquire({ source: mixed, outDir: out, name: 'ev', format: 'e01', compression, segmentSize, algorithms: ['sha256'], retries: 0, case: CASE, env: fixedEnvironment() });
    expect(r.hashes).toEqual({ md5: digestOf('md5sum', mixed), sha1: digestOf('sha1sum', mixed), sha256: digestOf('sha256sum', mixed) });
    if (segmentSize) expect(r.outputs.length).toBeGreaterThan(2);
    for (const o of r.outputs) expect(statSync(o.path).size).toBeLessThanOrEqual(segmentSize ?? Infinity);
    const first = join(out, 'ev.E01');
    const v = spawnSync('ewfverify', [first], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('ewfverify: SUCCESS');
    expect(v.stdout + v.stderr).not.toMatch(/warning|error|corrupt/i);
    expect(v.stdout).toContain(`MD5 hash stored in file:\t\t${r.hashes.md5}`);
    const info = tool('ewfinfo', [first]);
    for (const s of ['Case number:\t\t2026-0314-HARBOUR', 'Evidence number:\tEV-0001', 'Examiner name:\t\tAlex Morgan', 'Description:\t\tUSB stick, black', 'Notes:\t\t\tBag A1234567', 'File format:\t\tEnCase 6', `SHA1:\t\t\t${r.hashes.sha1}`]) {
      expect(info).toContain(s);
    }
    tool('ewfexport', ['-q', '-u', '-f', 'raw', '-t', join(out, 'exported'), first]);
    expect(sameBytes(join(out, 'exported.raw'), mixed)).toBe(true);
    // custos reads it back too, with the same hashes, against the manifest and against the E01's own digests.
    expect((await verifyTarget(r.manifestPath)).verdict).toBe('match');
    const beside = await verifyTarget(first);
    expect(beside.manifest).toBe(r.manifestPath);
    expect(beside.image.comparisons.map((c) => [c.algorithm, c.match])).toEqual([['md5', true], ['sha1', true], ['sha256', true]]);
  });

  test('a source that is not a whole number of sectors is refused (E01 would lose its tail)', async () => {
    const odd = join(tmp.dir, 'odd.bin');
    writeFileSync(odd, pseudoRandomBytes(100_000, 3));
    const out = join(tmp.dir, 'odd');
    mkdirSync(out);
    await expect(acquire({ source: odd, outDir: out, format: 'e01', algorithms: ['md5'], retries: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('not a whole number of 512-byte sectors'),
    });
  });

  test('the CLI: --format e01 and custos info on the result', () => {
    const out = join(tmp.dir, 'cli');
    mkdirSync(out);
    const r = runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--format', 'e01', '--case-file', 'samples/case.json', '--no-progress', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).outputs[0].path).toBe(join(out, 'EV-0001.E01'));
    const info = runCli(['info', join(out, 'EV-0001.E01')]);
    expect(info.stdout).toMatch(/case number\s+2026-0314-HARBOUR/);
    expect(info.stdout).toMatch(/stored MD5\s+e59bf7cee4c9e04c2b81e8580a848d74/);
    expect(runCli(['hash', '--media', '-a', 'md5', join(out, 'EV-0001.E01')]).stdout).toBe(`e59bf7cee4c9e04c2b81e8580a848d74  ${join(out, 'EV-0001.E01')}\n`);
    expect(runCli(['verify', join(out, 'EV-0001.E01'), '--no-progress']).status).toBe(0);
    expect(runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--format', 'e01', '--resume']).stderr).toContain('not supported for E01');
  });
});

d('E01 written by ewfacquire', () => {
  const made: Record<string, string> = {};
  beforeAll(() => {
    for (const [name, c, seg] of [
      ['none', 'none', '1MiB'],
      ['fast', 'fast', '1.4GiB'],
    ] as const) {
      const dir = join(tmp.dir, `ewfacquire-${name}`);
      mkdirSync(dir);
      tool('ewfacquire', ['-u', '-t', join(dir, 'img'), '-C', 'C-1', '-E', 'E-1', '-e', 'X', '-D', 'D', '-N', 'N', '-f', 'encase6', '-c', c, '-S', seg, '-d', 'sha1', mixed]);
      made[name] = join(dir, 'img.E01');
    }
  });

  test.each(['none', 'fast'])('custos verify agrees with md5sum (%s compression)', async (name) => {
    const s = new E01Source(made[name]!);
    expect(s.info.mediaSize).toBe(statSync(mixed).size);
    s.close();
    const r = await verifyTarget(made[name]!, { algorithms: ['md5', 'sha1', 'sha256'], expected: { sha256: digestOf('sha256sum', mixed) } });
    expect(r.verdict).toBe('match');
    expect(r.image.comparisons.find((c) => c.algorithm === 'md5')!.actual).toBe(digestOf('md5sum', mixed));
  });

  test('a flipped byte in a chunk is reported with its media offset, exit 4', () => {
    const copy = join(tmp.dir, 'flip');
    mkdirSync(copy);
    const src = made.none!.replace(/\.E01$/, '');
    for (const ext of ['E01', 'E02', 'E03', 'E04', 'E05', 'E06', 'E07']) {
      try {
        writeFileSync(join(copy, `img.${ext}`), readFileSync(`${src}.${ext}`));
      } catch {
        break;
      }
    }
    const first = join(copy, 'img.E01');
    // Inside the 3rd chunk of the first segment's sectors (uncompressed: each chunk is 32768 + 4 bytes).
    const s = new E01Source(first);
    s.close();
    const fd = openSync(first, 'r+');
    const at = 5000 + 2 * 32772 + 100;
    const b = readFileSync(first).subarray(at, at + 1);
    writeSync(fd, Buffer.from([b[0]! ^ 0x10]), 0, 1, at);
    closeSync(fd);
    const r = runCli(['verify', first, '--no-progress']);
    expect(r.status).toBe(4);
    // Read to the end like ewfverify: the damaged chunk is listed with its media and file offsets.
    expect(r.stdout).toMatch(/damaged: 1 chunk\(s\) of the image fail their checks/);
    expect(r.stdout).toMatch(/chunk 2: media bytes 65536-98303 \(sectors 128-191\), .*img\.E01 offset \d+: .*checksum/);
    expect(r.stdout).toContain('verdict: MISMATCH');
  });
});

describe('defensive parsing: damage gives a clear error naming the place, never a crash or a hang', () => {
  let good: string;
  beforeAll(async () => {
    const out = join(tmp.dir, 'defensive');
    mkdirSync(out);
    await acquire({ source: SAMPLE_IMAGE, outDir: out, name: 'd', format: 'e01', compression: 'fast', algorithms: ['md5'], retries: 0, env: fixedEnvironment() });
    good = join(out, 'd.E01');
  });

  const open = (bytes: Buffer) => {
    const p = join(tmp.dir, `damaged-${Math.random().toString(36).slice(2)}.E01`);
    writeFileSync(p, bytes);
    return p;
  };
  const failure = async (p: string) => {
    try {
      const s = new E01Source(p);
      const buf = new Uint8Array(1 << 20);
      for (let at = 0; at < s.size; at += buf.length) await s.readFully(buf.subarray(0, Math.min(buf.length, s.size - at)), at);
      s.close();
      return undefined;
    } catch (e) {
      return e;
    }
  };

  test('truncated in the middle: names the section and offset', async () => {
    const bytes = readFileSync(good);
    const e = await failure(open(bytes.subarray(0, Math.floor(bytes.length / 2))));
    expect(e).toBeInstanceOf(CustosError);
    expect((e as Error).message).toMatch(/section at offset \d+|truncated|out of bounds|ends/);
  });

  test('not an E01 at all', async () => {
    const e = await failure(open(Buffer.from('this is not evidence')));
    expect((e as Error).message).toContain('file header');
  });

  test('a fuzzed image (300 random byte flips): every outcome is a read or a CustosError', async () => {
    const bytes = readFileSync(good);
    let errors = 0;
    for (let i = 0; i < 300; i++) {
      const copy = Buffer.from(bytes);
      const at = (i * 7919 + 13) % Math.min(copy.length, 4000 + (i % 3) * 30000);
      copy[at] = copy[at]! ^ (1 << i % 8);
      const e = await failure(open(copy));
      if (e !== undefined) {
        expect(e).toBeInstanceOf(CustosError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(200);
  }, 60_000);

  test('a truncated last segment file is refused with its name', async () => {
    const p = open(readFileSync(good));
    truncateSync(p, statSync(p).size - 50);
    const e = await failure(p);
    expect(e).toBeInstanceOf(CustosError);
  });
});
