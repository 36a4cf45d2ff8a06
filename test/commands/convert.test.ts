/**
 * custos convert, the format registry's first user, judged by libewf and coreutils: E01 to raw is
 * byte-identical to ewfexport's raw (for custos's E01 and for one ewfacquire wrote), raw to E01
 * passes ewfverify with the case metadata in ewfinfo, split and E01 round-trip byte-identically;
 * a conversion of changed media stops with exit 4; the new manifest names its parent. And split
 * sets as dc3dd and split(1) name them are read from any segment by verify, hash --media and info.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { digestOf, hasTool, makeTempDir, runCli, sameBytes, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
const md5 = digestOf('md5sum', SAMPLE_IMAGE);
const sha256 = digestOf('sha256sum', SAMPLE_IMAGE);
beforeAll(() => {
  tmp = makeTempDir('custos-convert-');
});
afterAll(() => tmp?.cleanup());

const ewf = hasTool('ewfexport') && hasTool('ewfverify') && hasTool('ewfinfo') && hasTool('ewfacquire');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, '--no-progress'], { env });
const at = (...p: string[]) => join(tmp.dir, ...p);

function ewfexportRaw(e01: string, name: string): string {
  const target = at(name);
  const r = spawnSync('ewfexport', ['-q', '-u', '-f', 'raw', '-t', target, e01], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ewfexport: ${r.stderr}`);
  return `${target}.raw`;
}

(ewf ? describe : describe.skip)('against libewf', () => {
  test('custos E01 to raw: byte-identical to ewfexport -f raw; the manifest says derived copy and names its parent', () => {
    expect(cli(['acquire', SAMPLE_IMAGE, '-o', at('e01'), '--format', 'e01', '--case-file', 'samples/case.json']).status).toBe(0);
    const r = cli(['convert', at('e01', 'EV-0001.E01'), '--to', 'raw', '-o', at('raw'), '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(sameBytes(at('raw', 'EV-0001.raw'), ewfexportRaw(at('e01', 'EV-0001.E01'), 'ewfx'))).toBe(true);
    expect(j.comparisons.every((c: { match: boolean }) => c.match)).toBe(true);
    const m = JSON.parse(readFileSync(at('raw', 'EV-0001.manifest.json'), 'utf8'));
    expect(m.derivedFrom).toEqual({
      path: at('e01', 'EV-0001.manifest.json'),
      format: 'e01',
      hashes: JSON.parse(readFileSync(at('e01', 'EV-0001.manifest.json'), 'utf8')).hashes,
      recordedBy: 'manifest',
      manifest: { path: at('e01', 'EV-0001.manifest.json'), sha256: createHash('sha256').update(readFileSync(at('e01', 'EV-0001.manifest.json'))).digest('hex') },
      files: [{ path: at('e01', 'EV-0001.E01'), size: expect.any(Number) }],
    });
    expect(m.case.evidenceNumber).toBe('EV-0001');
    expect(m.hashes.md5).toBe(md5);
    expect(cli(['verify', at('raw', 'EV-0001.manifest.json')]).status).toBe(0);
    // Its report says what it is: a derived copy, with its parent.
    const pdf = at('derived.pdf');
    expect(runCli(['report', 'acquisition', at('raw', 'EV-0001.manifest.json'), '--out', pdf]).status).toBe(0);
    const text = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    expect(text).toContain('DERIVED COPY — NOT AN ACQUISITION');
    expect(text).toContain(`Parent format e01`);
  });

  test('an E01 ewfacquire wrote to raw: byte-identical to ewfexport; checked against the E01\'s own MD5', () => {
    mkdirSync(at('ewfacq'));
    const acq = spawnSync('ewfacquire', ['-u', '-q', '-t', at('ewfacq', 'disk'), '-c', 'fast', '-d', 'sha1', SAMPLE_IMAGE], { encoding: 'utf8' });
    expect(acq.status).toBe(0);
    const r = cli(['convert', at('ewfacq', 'disk.E01'), '--to', 'raw', '-o', at('ewfacq-raw'), '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).parent.recordedBy).toBe('container');
    expect(sameBytes(at('ewfacq-raw', 'disk.raw'), ewfexportRaw(at('ewfacq', 'disk.E01'), 'ewfx2'))).toBe(true);
    expect(sameBytes(at('ewfacq-raw', 'disk.raw'), SAMPLE_IMAGE)).toBe(true);
  });

  test('raw to E01: ewfverify SUCCESS, ewfinfo shows the case metadata from the input\'s manifest', () => {
    expect(cli(['acquire', SAMPLE_IMAGE, '-o', at('raw2'), '--case-file', 'samples/case.json']).status).toBe(0);
    const r = cli(['convert', at('raw2', 'EV-0001.manifest.json'), '--to', 'e01', '-o', at('e01b'), '--segment-size', '4MiB', '--compression', 'none']);
    expect(r.status).toBe(0);
    expect(readdirSync(at('e01b')).sort()).toEqual(['EV-0001.E01', 'EV-0001.E02', 'EV-0001.E03', 'EV-0001.manifest.json']);
    const v = spawnSync('ewfverify', ['-q', at('e01b', 'EV-0001.E01')], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout).toContain(`MD5 hash calculated over data:\t\t${md5}`);
    const info = spawnSync('ewfinfo', [at('e01b', 'EV-0001.E01')], { encoding: 'utf8' }).stdout;
    expect(info).toMatch(/Case number:\s+2026-0314-HARBOUR/);
    expect(info).toMatch(/Evidence number:\s+EV-0001/);
    expect(info).toMatch(/Examiner name:\s+Alex Morgan/);
  });
});

test('split to raw and E01 to split round-trip byte-identically (cmp)', () => {
  expect(cli(['acquire', SAMPLE_IMAGE, '-o', at('split'), '--name', 's', '--format', 'split', '--split-size', '3MiB']).status).toBe(0);
  expect(cli(['convert', at('split', 's.002'), '--to', 'raw', '-o', at('split-raw')]).status).toBe(0);
  expect(sameBytes(at('split-raw', 's.raw'), SAMPLE_IMAGE)).toBe(true);
  expect(cli(['convert', at('split-raw', 's.raw'), '--to', 'e01', '-o', at('split-e01')]).status).toBe(0);
  expect(cli(['convert', at('split-e01', 's.E01'), '--to', 'split', '--split-size', '3MiB', '-o', at('split-again')]).status).toBe(0);
  for (const n of ['001', '002', '003']) expect(sameBytes(at('split', `s.${n}`), at('split-again', `s.${n}`))).toBe(true);
});

test('a conversion of media that no longer matches its record: exit 4, the new files keep their .partial names, no manifest', () => {
  expect(cli(['acquire', SAMPLE_IMAGE, '-o', at('bad'), '--name', 'b']).status).toBe(0);
  const fd = openSync(at('bad', 'b.raw'), 'r+');
  writeSync(fd, Buffer.from('X'), 0, 1, 4096);
  closeSync(fd);
  const r = cli(['convert', at('bad', 'b.manifest.json'), '--to', 'e01', '-o', at('bad-out')]);
  expect(r.status).toBe(4);
  expect(r.stderr).toMatch(/does not match its record .*the new files keep their \.partial names/);
  expect(readdirSync(at('bad-out'))).toEqual(['b.E01.partial']);
});

test('no record to check against is refused; --expect values (or another tool\'s record) make it one', () => {
  const img = at('bare.img');
  copyFileSync(SAMPLE_IMAGE, img);
  const refused = cli(['convert', img, '--to', 'e01', '-o', at('bare-out')]);
  expect(refused.status).toBe(3);
  expect(refused.stderr).toMatch(/nothing to check the conversion against/);
  const sums = at('SHA256SUMS');
  writeFileSync(sums, `${sha256}  bare.img\n`);
  const r = cli(['convert', img, '--to', 'e01', '-o', at('bare-out'), '--expect', sums, '--json']);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout).parent).toMatchObject({ recordedBy: 'expected-values', hashes: { sha256 } });
});

test('with --case-dir the conversion is recorded, and the ledger verifies', () => {
  const env = { CUSTOS_HOME: at('home'), CUSTOS_PASSPHRASE: 'convert passphrase', CUSTOS_CASE_DIR: at('case') };
  expect(runCli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner'], { env }).status).toBe(0);
  expect(runCli(['case', 'init', at('case'), '--case', 'CV-1'], { env }).status).toBe(0);
  expect(cli(['acquire', SAMPLE_IMAGE, '-o', at('case', 'img'), '--name', 'c', '--evidence', 'EV-9'], env).status).toBe(0);
  expect(cli(['convert', at('case', 'img', 'c.manifest.json'), '--to', 'split', '--split-size', '4MiB', '-o', at('case', 'split')], env).status).toBe(0);
  const lines = readFileSync(at('case', 'custody.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const entry = lines.find((e) => e.action === 'convert');
  expect(entry).toMatchObject({ evidence: ['EV-9'], details: { from: 'raw', to: 'split', hashes: { md5 } } });
  expect(entry.details.manifest.sha256).toBe(createHash('sha256').update(readFileSync(at('case', 'split', 'EV-9.manifest.json'))).digest('hex'));
  expect(runCli(['ledger', 'verify'], { env }).status).toBe(0);
});

describe('split sets as dc3dd and split(1) name them, from any segment', () => {
  beforeAll(() => {
    mkdirSync(at('sets'));
    // split -d -a 3 numbers from .000 as dc3dd ofs=BASE.000 does; plain split -b letters them .aa, .ab …
    expect(spawnSync('split', ['-b', '1M', '-d', '-a', '3', SAMPLE_IMAGE, at('sets', 'dc.')]).status).toBe(0);
    expect(spawnSync('split', ['-b', '1M', SAMPLE_IMAGE, at('sets', 'x.')]).status).toBe(0);
  });

  test.each([['dc.000'], ['dc.005'], ['x.aa'], ['x.ae']])('%s: hash --media, verify --expect and info see the whole set', (name) => {
    const p = at('sets', name);
    expect(cli(['hash', '--media', '-a', 'md5', p]).stdout).toBe(`${md5}  ${p}\n`);
    const v = cli(['verify', p, '--expect', `sha256=${sha256}`]);
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('(8 file(s), 8388608 bytes)');
    const info = JSON.parse(runCli(['info', p, '--json']).stdout);
    expect(info).toMatchObject({ kind: 'split', mediaSize: 8388608 });
    expect(info.segments).toHaveLength(8);
  });
});
