/**
 * custos convert as a service (src/services/convert.ts): the derived copy with its convert entry
 * (the parent and how its hashes were known, the new files, the new manifest pinned), checked by
 * libewf's ewfverify and by cmp.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { convertRecorded } from '../../../src/services/convert';
import { ledgerVerify } from '../../../src/services/custody';
import { digestOf, fixedEnvironment, hasTool, pseudoRandomBytes, sameBytes, tool } from '../../helpers';
import { ledger, serviceWorld } from './support';

const w = serviceWorld();
let src: string;
let manifest: string;
let image: string;

beforeAll(async () => {
  src = join(w.dir, 'src.img');
  writeFileSync(src, pseudoRandomBytes(2 << 20, 11));
  const a = await acquire({ source: src, outDir: join(w.dir, 'acq'), format: 'raw', algorithms: ['md5', 'sha1'], retries: 0, env: fixedEnvironment(), case: { caseNumber: 'C-1', evidenceNumber: 'EV-0001' } });
  manifest = a.manifestPath;
  image = a.outputs[0]!.path;
});

test('raw to E01: the convert entry names the evidence, the parent and its manifest, the new files and manifest; ewfverify agrees', async () => {
  const c = await w.newCase();
  const outDir = join(w.dir, 'to-e01');
  const r = await convertRecorded({ input: manifest, to: 'e01', outDir, name: 'ev', env: fixedEnvironment() }, c);
  const md5 = digestOf('md5sum', src);
  const sha1 = digestOf('sha1sum', src);
  expect(r.hashes).toMatchObject({ md5, sha1 });
  const e01 = join(outDir, 'ev.E01');
  expect(r.outputs.map((o) => o.path)).toEqual([e01]);
  const e = ledger(c.caseDir).at(-1)!;
  expect(e).toMatchObject({ seq: 1, action: 'convert', evidence: ['EV-0001'] });
  expect(e.details).toEqual({
    input: manifest,
    from: 'raw',
    to: 'e01',
    parent: { path: manifest, hashes: { md5, sha1 }, recordedBy: 'manifest', manifest: { path: manifest, sha256: digestOf('sha256sum', manifest) } },
    hashes: r.hashes,
    outputs: [{ path: e01, size: r.outputs[0]!.size, hashes: { sha256: digestOf('sha256sum', e01) } }],
    manifest: { path: r.manifestPath, sha256: digestOf('sha256sum', r.manifestPath) },
  });
  if (hasTool('ewfverify')) {
    const v = spawnSync('ewfverify', ['-q', e01], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout).toContain(md5);
  }
  expect(await ledgerVerify({ caseDir: c.caseDir })).toMatchObject({ outcome: 'ok', entries: 2 });
});

test('a bare image with the values given: the image names the evidence, the parent\'s hashes came from the values', async () => {
  const c = await w.newCase();
  const bare = join(w.dir, 'bare', 'disk.dd');
  mkdirSync(join(w.dir, 'bare'));
  tool('cp', [image, bare]);
  const md5 = digestOf('md5sum', src);
  const r = await convertRecorded({ input: bare, to: 'raw', outDir: join(w.dir, 'bare-out'), name: 'copy', expectValues: [`md5=${md5}`], env: fixedEnvironment() }, c);
  expect(sameBytes(r.outputs[0]!.path, src)).toBe(true);
  const e = ledger(c.caseDir).at(-1)!;
  expect(e.evidence).toEqual([bare]);
  expect(e.details.parent).toEqual({ path: bare, hashes: { md5 }, recordedBy: 'expected-values' });
});

test('without a case nothing is recorded; a conversion that is refused records nothing and leaves no file', async () => {
  const c = await w.newCase();
  const r = await convertRecorded({ input: manifest, to: 'split', outDir: join(w.dir, 'to-split'), name: 'ev', splitSize: 1 << 20, env: fixedEnvironment() });
  expect(r.outputs.map((o) => o.size)).toEqual([1 << 20, 1 << 20]);
  const outDir = join(w.dir, 'refused');
  await expect(convertRecorded({ input: manifest, to: 'split', outDir, name: 'ev', splitSize: 100, env: fixedEnvironment() }, c)).rejects.toMatchObject({ code: 'USAGE' });
  expect(ledger(c.caseDir)).toHaveLength(1);
  expect(readdirSync(w.dir)).not.toContain('refused');
});
