/**
 * custos hash as a service (src/services/hash.ts): the hashes as coreutils computes them, the
 * hash entry recording what was hashed, and an entry that stays within the ledger's bound however
 * many files are hashed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { MAX_ENTRY_BYTES } from '../../../src/custody';
import { hashRecorded } from '../../../src/services/hash';
import { digestOf, fixedEnvironment, pseudoRandomBytes, ROOT, runCli, SAMPLE_IMAGE } from '../../helpers';
import { entrySizes, ledger, PASS, serviceWorld } from './support';

const w = serviceWorld();

test('the hashes coreutils computes; the hash entry names every path as evidence and records the results', async () => {
  const other = join(w.dir, 'second file.bin');
  writeFileSync(other, pseudoRandomBytes(70_000, 1));
  const c = await w.newCase('request 7');
  const files = await hashRecorded([SAMPLE_IMAGE, other], ['md5', 'sha1', 'sha256'], {}, c);
  const want = (p: string) => ({ md5: digestOf('md5sum', p), sha1: digestOf('sha1sum', p), sha256: digestOf('sha256sum', p) });
  expect(files).toEqual([
    { path: SAMPLE_IMAGE, kind: 'file', size: 8 << 20, hashes: want(SAMPLE_IMAGE) },
    { path: other, kind: 'file', size: 70_000, hashes: want(other) },
  ]);
  const e = ledger(c.caseDir).at(-1)!;
  expect(e).toMatchObject({ seq: 1, action: 'hash', evidence: [SAMPLE_IMAGE, other], purpose: 'request 7', details: { files } });
});

test('without a case nothing is recorded; a missing path fails before anything is hashed or recorded', async () => {
  const c = await w.newCase();
  expect(await hashRecorded([SAMPLE_IMAGE], ['sha256'], {})).toEqual([{ path: SAMPLE_IMAGE, kind: 'file', size: 8 << 20, hashes: { sha256: digestOf('sha256sum', SAMPLE_IMAGE) } }]);
  const seen: string[] = [];
  await expect(hashRecorded([SAMPLE_IMAGE, join(w.dir, 'typo.img')], ['md5'], { onProgress: (p) => seen.push(p) }, c)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  expect(seen).toEqual([]);
  expect(ledger(c.caseDir)).toHaveLength(1);
});

test('--media: an E01 hashed as the media it holds, recorded as e01-media', async () => {
  const src = join(w.dir, 'media-src.img');
  writeFileSync(src, pseudoRandomBytes(256 << 10, 2));
  const a = await acquire({ source: src, outDir: join(w.dir, 'e01'), name: 'ev', format: 'e01', algorithms: ['md5'], retries: 0, env: fixedEnvironment() });
  const e01 = a.outputs[0]!.path;
  const c = await w.newCase();
  const [media] = await hashRecorded([e01], ['md5'], { media: true }, c);
  expect(media).toEqual({ path: e01, kind: 'e01-media', size: 256 << 10, hashes: { md5: digestOf('md5sum', src) } });
  expect(media!.hashes.md5).not.toBe(digestOf('md5sum', e01));
  expect(ledger(c.caseDir).at(-1)!.details).toEqual({ files: [media] });
});

// Through the built CLI (its workers start in ~50 ms; from the TypeScript sources in ~400 ms,
// which would make 60 files take half a minute). Each path is ~3,800 characters, as deep folder
// trees of extracted archives have: 60 of them make an entry of 690 KB when every path is kept
// in full (evidence, details and command line each hold them all), more than the 512 KiB of
// canonical bytes an entry may have (MAX_ENTRY_BYTES / 2).
const built = existsSync(join(ROOT, 'dist', 'commands', 'hash.js'));
(built ? test : test.skip)('hashing many files with a case: the hashes are printed and recorded, the entry within the ledger\'s bound', () => {
  const c = join(w.dir, 'cli-case');
  const env = { CUSTOS_HOME: w.home, CUSTOS_PASSPHRASE: PASS, CUSTOS_CASE_DIR: c };
  expect(runCli(['case', 'init', c, '--case', 'C-HASH'], { env }).status).toBe(0);
  let dir = join(w.dir, 'deep');
  for (let i = 0; i < 15; i++) dir = join(dir, 'd'.repeat(250));
  mkdirSync(dir, { recursive: true });
  const paths = Array.from({ length: 60 }, (_, i) => {
    const p = join(dir, `file-${i}`);
    writeFileSync(p, `content ${i}\n`);
    return p;
  });
  const r = runCli(['hash', '--hash', 'md5', '--no-progress', ...paths], { env });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(60);
  expect(ledger(c).map((e) => e.action)).toEqual(['case-open', 'hash']);
  expect(Math.max(...entrySizes(c))).toBeLessThanOrEqual(MAX_ENTRY_BYTES / 2);
  // Too large to list in the entry (60 × ~3,900 bytes): the whole result is a file of the case
  // folder, pinned by its SHA-256; the entry keeps the count and the first 20.
  const e = ledger(c).at(-1)!;
  const d = e.details as { count: number; files: { path: string }[]; results: { path: string; sha256: string } };
  expect(d.count).toBe(60);
  expect(d.files.map((f) => f.path)).toEqual(paths.slice(0, 20));
  expect(e.evidence).toEqual(paths.slice(0, 20));
  expect(d.results.path.startsWith(join(c, 'records', 'hash-'))).toBe(true);
  expect(digestOf('sha256sum', d.results.path)).toBe(d.results.sha256);
  const kept = JSON.parse(readFileSync(d.results.path, 'utf8')) as { files: { path: string; hashes: { md5: string } }[] };
  expect(kept.files.map((f) => f.path)).toEqual(paths);
  expect(kept.files.map((f) => f.hashes.md5)).toEqual(paths.map((p) => digestOf('md5sum', p)));
  // The command line is kept in part, with the SHA-256 of the whole.
  expect(e.commandLine.at(-1)).toMatch(/^\[… \d+ more arguments \(\d+ bytes\) left out; sha256 of the whole command line, NUL-separated: [0-9a-f]{64}\]$/);
});
if (!built) test.skip('the many-files test needs the build: run npx tsc -p tsconfig.build.json first', () => undefined);

