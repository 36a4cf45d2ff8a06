/**
 * A damaged image still gets a full answer: every damaged E01 chunk listed with its offsets and
 * the hashes over what can be read (agreeing with ewfverify), the hash windows that differ named
 * by byte range, and expected values taken from another tool's hash record.
 */
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { chunkMap, ewfverify } from '../src/formats/e01-util';
import { digestOf, hasTool, makeTempDir, ROOT, runCli, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

const flip = (file: string, at: number) => {
  const b = readFileSync(file);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([b[at]! ^ 0x5a]), 0, 1, at);
  closeSync(fd);
};

(hasTool('ewfverify') ? test : test.skip)('E01 with three damaged chunks in two segments: all listed, hashes over what can be read agree with ewfverify, exit 4', () => {
  const out = join(tmp.dir, 'e01');
  const a = runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--name', 'd', '--format', 'e01', '--compression', 'none', '--segment-size', '4MiB', '--no-progress']);
  expect(a.status).toBe(0);
  const segs = [join(out, 'd.E01'), join(out, 'd.E02'), join(out, 'd.E03')].filter(existsSync);
  expect(segs.length).toBeGreaterThanOrEqual(2);
  const chunks = chunkMap(segs.map((p) => readFileSync(p)));
  expect(chunks).toHaveLength(256);
  // Damage chunks 5 and 40 (first segment) and the first chunk of the second segment.
  const second = chunks.find((c) => c.segment === 1)!;
  const victims = [chunks[5]!, chunks[40]!, second];
  for (const c of victims) flip(segs[c.segment]!, c.offset + 100);

  const r = runCli(['verify', join(out, 'd.manifest.json'), '--no-progress', '--json']);
  expect(r.status).toBe(4);
  const j = JSON.parse(r.stdout);
  expect(j.verdict).toBe('mismatch');
  expect(j.image.damaged.count).toBe(3);
  expect(j.image.damaged.ranges.map((x: { chunk: number; offset: number; firstSector: number; sectorCount: number; fileOffset: number; filledWith: string }) => [x.chunk, x.offset, x.firstSector, x.sectorCount, x.fileOffset, x.filledWith])).toEqual(
    victims.map((c) => [c.index, c.index * 32768, c.index * 64, 64, c.offset, 'stored-bytes']),
  );
  const v = ewfverify(segs[0]!);
  expect(v.ranges).toEqual(victims.map((c) => ({ firstSector: c.index * 64, sectorCount: 64 })));
  const md5 = j.image.comparisons.find((c: { algorithm: string }) => c.algorithm === 'md5').actual;
  expect(md5).toBe(v.md5);

  const text = runCli(['verify', join(out, 'd.manifest.json'), '--no-progress']);
  expect(text.status).toBe(4);
  expect(text.stdout).toContain('damaged: 3 chunk(s) of the image fail their checks');
  expect(text.stdout).toContain(`chunk 5: media bytes 163840-196607 (sectors 320-383), ${segs[0]} offset ${chunks[5]!.offset}`);
  expect(text.stdout).toContain('verdict: MISMATCH');

  // The verification report is still written, with exit 4.
  const pdf = join(tmp.dir, 'damaged.pdf');
  const rep = runCli(['report', 'verification', join(out, 'd.manifest.json'), '--out', pdf]);
  expect(rep.status).toBe(4);
  expect(existsSync(pdf)).toBe(true);
});

test('raw image with hash windows: a changed byte is named by its window, and a changed windows file is noticed', () => {
  const out = join(tmp.dir, 'win');
  expect(runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--name', 'w', '--hash-window', '1MiB', '--no-progress']).status).toBe(0);
  flip(join(out, 'w.raw'), 3 * 1048576 + 4096);
  flip(join(out, 'w.raw'), 7 * 1048576 + 1);
  const r = runCli(['verify', join(out, 'w.manifest.json'), '--no-progress', '--json']);
  expect(r.status).toBe(4);
  const j = JSON.parse(r.stdout);
  expect(j.image.windows).toEqual({
    windowSize: 1048576,
    checked: 8,
    differing: [
      { index: 3, offset: 3145728, length: 1048576 },
      { index: 7, offset: 7340032, length: 1048576 },
    ],
    differingCount: 2,
    recordIntact: true,
  });
  const text = runCli(['verify', join(out, 'w.manifest.json'), '--no-progress']);
  expect(text.stdout).toContain('windows: 2 of 8 windows of 1048576 bytes differ:\n  window 3: bytes 3145728-4194303\n  window 7: bytes 7340032-8388607');

  // A windows file altered after the acquisition is a finding too, even with an intact image.
  const clean = join(tmp.dir, 'win2');
  expect(runCli(['acquire', SAMPLE_IMAGE, '-o', clean, '--name', 'w', '--hash-window', '1MiB', '--no-progress']).status).toBe(0);
  const wf = join(clean, 'w.windows.json');
  writeFileSync(wf, readFileSync(wf, 'utf8').replace('"index": 0', '"index":  0'));
  const t = runCli(['verify', join(clean, 'w.manifest.json'), '--no-progress']);
  expect(t.status).toBe(4);
  expect(t.stdout).toContain('the hash-windows file is not the one the manifest records');
});

describe('--expect FILE: the hash records other tools write', () => {
  const fixture = (p: string) => join(ROOT, 'test/fixtures/expect', p);
  test('a dc3dd log about the sample: MATCH, and the record is named', () => {
    const img = join(tmp.dir, 'fat-disk.img');
    copyFileSync(SAMPLE_IMAGE, img);
    const r = runCli(['verify', img, '--expect', fixture('dc3dd/dc3dd.log'), '--no-progress']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^image +MD5 +MATCH +expected e59bf7cee4c9e04c2b81e8580a848d74/m);
    expect(r.stdout).toMatch(/SHA-512 +MATCH/);
    expect(r.stdout).toMatch(/expected values from the dc3dd 7\.2\.646 record .*dc3dd\.log/);
  });

  test('the same log against another image: MISMATCH with exit 4', () => {
    const img = join(tmp.dir, 'other.img');
    const b = readFileSync(SAMPLE_IMAGE);
    b[1000] ^= 1;
    writeFileSync(img, b);
    const r = runCli(['verify', img, '--expect', fixture('dc3dd/dc3dd.log'), '--no-progress']);
    expect(r.status).toBe(4);
    expect(r.stdout).toContain('MISMATCH');
  });

  test('an ewfverify log and a sums file together; a file that is no hash record is a one-line error', () => {
    const img = join(tmp.dir, 'fat-disk.img');
    const sums = join(tmp.dir, 'SHA256SUMS');
    writeFileSync(sums, `${digestOf('sha256sum', SAMPLE_IMAGE)}  fat-disk.img\n`);
    const r = runCli(['verify', img, '--expect', sums, '--expect', `md5=${digestOf('md5sum', SAMPLE_IMAGE)}`, '--no-progress', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).expectSources).toEqual([expect.objectContaining({ file: sums })]);
    const junk = join(tmp.dir, 'junk.txt');
    mkdirSync(join(tmp.dir, 'd'), { recursive: true });
    writeFileSync(junk, 'hello\nworld\n');
    const bad = runCli(['verify', img, '--expect', junk, '--no-progress']);
    expect(bad.status).toBe(3);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(junk);
  });
});
