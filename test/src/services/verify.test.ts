/**
 * custos verify as a service (src/services/verify.ts): the verify entry it records (the manifest
 * pinned by its SHA-256, the comparisons, long lists summarised) and the outcome: ok for a match,
 * mismatch for a changed byte, a changed segment, a differing hash window or a damaged E01 chunk.
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { verificationOutcome, verifyRecorded } from '../../../src/services/verify';
import { ledgerVerify } from '../../../src/services/custody';
import { digestOf, fixedEnvironment, pseudoRandomBytes } from '../../helpers';
import { entrySizes, ledger, serviceWorld } from './support';

const w = serviceWorld();
let n = 0;

/** Flips one bit of `file` at `at`. */
function flip(file: string, at: number): void {
  const b = readFileSync(file)[at]!;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([b ^ 0x01]), 0, 1, at);
  closeSync(fd);
}

/** A source of `size` bytes acquired in `format` (evidence number EV-n) into a fresh folder. */
async function acquired(size: number, extra: Record<string, unknown> = {}) {
  const src = join(w.dir, `src-${n}.img`);
  writeFileSync(src, pseudoRandomBytes(size, 100 + n));
  const r = await acquire({ source: src, outDir: join(w.dir, `out-${n}`), format: 'raw', algorithms: ['md5', 'sha256'], retries: 0, env: fixedEnvironment(), case: { evidenceNumber: `EV-${n}` }, ...extra });
  n++;
  return { src, ...r };
}

test('a match: the verify entry names the evidence, pins the manifest, lists the files and comparisons; outcome ok', async () => {
  const a = await acquired(1 << 20, { windowSize: 256 << 10 });
  const c = await w.newCase();
  const r = await verifyRecorded(a.manifestPath, { source: a.src }, c);
  expect(r.verdict).toBe('match');
  expect(verificationOutcome(r)).toBe('ok');
  const e = ledger(c.caseDir).at(-1)!;
  const image = a.outputs[0]!.path;
  expect(e).toMatchObject({ seq: 1, action: 'verify', evidence: [a.manifest.case.evidenceNumber] });
  expect(e.details).toEqual({
    target: a.manifestPath,
    manifest: { path: a.manifestPath, sha256: digestOf('sha256sum', a.manifestPath) },
    verdict: 'match',
    image: {
      size: 1 << 20,
      files: [image],
      comparisons: [
        { algorithm: 'md5', expected: digestOf('md5sum', a.src), actual: digestOf('md5sum', image), match: true },
        { algorithm: 'sha256', expected: digestOf('sha256sum', a.src), actual: digestOf('sha256sum', image), match: true },
      ],
      windowsDiffering: 0,
    },
    source: { path: a.src, comparisons: r.source!.comparisons, readErrors: { ranges: 0, bytes: 0 } },
  });
  expect(r.source!.comparisons.every((x) => x.match)).toBe(true);
  expect(await ledgerVerify({ caseDir: c.caseDir })).toMatchObject({ outcome: 'ok', entries: 2 });
});

test('without a case: the verification alone, its comparisons those of md5sum and sha256sum', async () => {
  const a = await acquired(65536);
  const r = await verifyRecorded(a.manifestPath, {});
  expect(r.verdict).toBe('match');
  expect(r.image.comparisons.map((x) => [x.algorithm, x.actual, x.match])).toEqual([
    ['md5', digestOf('md5sum', a.src), true],
    ['sha256', digestOf('sha256sum', a.src), true],
  ]);
});

test('one changed byte: mismatch, recorded with both values and the hash window that differs', async () => {
  const a = await acquired(1 << 20, { windowSize: 256 << 10 });
  const image = a.outputs[0]!.path;
  flip(image, 600_000);
  const c = await w.newCase();
  const r = await verifyRecorded(a.manifestPath, {}, c);
  expect(r.verdict).toBe('mismatch');
  expect(verificationOutcome(r)).toBe('mismatch');
  expect(r.image.windows!.differing).toEqual([{ index: 2, offset: 512 << 10, length: 256 << 10 }]);
  const e = ledger(c.caseDir).at(-1)!;
  expect(e.details).toMatchObject({
    verdict: 'mismatch',
    image: {
      comparisons: [
        { algorithm: 'md5', expected: a.hashes.md5, actual: digestOf('md5sum', image), match: false },
        { algorithm: 'sha256', expected: a.hashes.sha256, actual: digestOf('sha256sum', image), match: false },
      ],
      windowsDiffering: 1,
    },
  });
});

test('a split image of 22 segments: files summarised after 20, the changed segment named; the entry stays small', async () => {
  const a = await acquired(22 << 20, { format: 'split', splitSize: 1 << 20, algorithms: ['md5'] });
  const last = a.outputs[21]!.path;
  flip(last, 10);
  const c = await w.newCase();
  const r = await verifyRecorded(a.outputs[0]!.path, {}, c);
  expect(verificationOutcome(r)).toBe('mismatch');
  const e = ledger(c.caseDir).at(-1)!;
  const image = e.details.image as Record<string, unknown>;
  expect(image.files).toEqual({ count: 22, first: a.outputs.slice(0, 20).map((o) => o.path) });
  expect(image.segmentsDiffering).toEqual([basename(last)]);
  expect(basename(last)).toMatch(/^EV-\d+\.022$/);
  expect(e.details.target).toBe(a.outputs[0]!.path);
  expect(Math.max(...entrySizes(c.caseDir))).toBeLessThan(16 * 1024);
});

test('an E01 with a damaged chunk: mismatch, the damage counted and its first ranges recorded', async () => {
  const a = await acquired(1 << 20, { format: 'e01', compression: 'none', algorithms: ['md5'] });
  const e01 = a.outputs[0]!.path;
  // Well inside the chunk data of an uncompressed 1 MiB image (the sections before it take a few KiB).
  flip(e01, 300_000);
  const c = await w.newCase();
  const r = await verifyRecorded(a.manifestPath, {}, c);
  expect(verificationOutcome(r)).toBe('mismatch');
  expect(r.image.damaged!.count).toBe(1);
  const e = ledger(c.caseDir).at(-1)!;
  const image = e.details.image as { damaged: { count: number; first: unknown[] } };
  expect(image.damaged).toEqual({ count: 1, first: JSON.parse(JSON.stringify(r.image.damaged!.ranges)) });
  expect(image.damaged.first[0]).toMatchObject({ file: e01, filledWith: 'stored-bytes' });
});

test('a bare image against given values: the target names the evidence, no manifest in the entry', async () => {
  const a = await acquired(65536);
  const image = a.outputs[0]!.path;
  const bare = join(w.dir, 'bare.dd');
  writeFileSync(bare, readFileSync(image));
  const c = await w.newCase();
  const r = await verifyRecorded(bare, { expectValues: [`md5=${digestOf('md5sum', a.src).toUpperCase()}`] }, c);
  expect(verificationOutcome(r)).toBe('ok');
  const e = ledger(c.caseDir).at(-1)!;
  expect(e.evidence).toEqual([bare]);
  expect('manifest' in e.details).toBe(false);
  expect(e.details).toMatchObject({ target: bare, verdict: 'match', image: { files: [bare], comparisons: [{ algorithm: 'md5', match: true }] } });
});
