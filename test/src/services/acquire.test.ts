/**
 * custos acquire as a service (src/services/acquire.ts), called as the command calls it: a real
 * identity and case; the acquire-start entry before the first read, acquire-complete with a small
 * summary (or acquire-failed) after; and how the acquisition ended: ok, read errors (a source with
 * real unreadable sectors, test/faults, as root), or a verification mismatch (a source that
 * changed before it was read again).
 */
import { openSync, readFileSync, writeFileSync, writeSync, closeSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { acquireRecorded, acquisitionOutcome } from '../../../src/services/acquire';
import { ledgerVerify } from '../../../src/services/custody';
import { readManifest } from '../../../src/manifest/manifest';
import { faultSkipReason, FaultySource, stopAll } from '../../faults/faulty-source';
import { digestOf, fixedEnvironment, pseudoRandomBytes, SAMPLE_IMAGE } from '../../helpers';
import { entrySizes, ledger, serviceWorld } from './support';

const w = serviceWorld();
const coreutils = (f: string) => ({ md5: digestOf('md5sum', f), sha256: digestOf('sha256sum', f) });
let n = 0;
const out = () => join(w.dir, `out-${n++}`);

test('without a case: the acquisition alone, with the hashes coreutils computes; outcome ok', async () => {
  const r = await acquireRecorded({ source: SAMPLE_IMAGE, outDir: out(), format: 'raw', algorithms: ['md5', 'sha256'], retries: 0, env: fixedEnvironment() });
  expect(r.hashes).toEqual(coreutils(SAMPLE_IMAGE));
  expect(r.outputs[0]!.hashes).toEqual(coreutils(r.outputs[0]!.path));
  expect(acquisitionOutcome(r)).toBe('ok');
});

test('acquire-start before, acquire-complete after: evidence number, hashes, outputs, the manifest pinned by its SHA-256; outcome ok', async () => {
  const c = await w.newCase('warrant 26-WR-0419');
  const outDir = out();
  const r = await acquireRecorded(
    { source: SAMPLE_IMAGE, outDir, format: 'raw', algorithms: ['md5', 'sha256'], retries: 1, verify: true, case: { caseNumber: 'C-1', evidenceNumber: 'EV-0001' } },
    c,
  );
  expect(acquisitionOutcome(r)).toBe('ok');
  const [open, start, complete, ...rest] = ledger(c.caseDir);
  expect(open!.action).toBe('case-open');
  expect(rest).toEqual([]);
  expect(start).toMatchObject({
    seq: 1,
    action: 'acquire-start',
    evidence: ['EV-0001'],
    purpose: 'warrant 26-WR-0419',
    details: { source: SAMPLE_IMAGE, outDir, format: 'raw', algorithms: ['md5', 'sha256'], resume: false },
  });
  const image = join(outDir, 'EV-0001.raw');
  const manifest = join(outDir, 'EV-0001.manifest.json');
  expect(complete).toMatchObject({ seq: 2, action: 'acquire-complete', evidence: ['EV-0001'] });
  expect(complete!.details).toEqual({
    source: SAMPLE_IMAGE,
    sourceSize: 8 << 20,
    hashes: coreutils(SAMPLE_IMAGE),
    readErrors: { ranges: 0, sectors: 0 },
    outputs: [{ path: image, size: 8 << 20, hashes: coreutils(image) }],
    manifest: { path: manifest, sha256: digestOf('sha256sum', manifest) },
    verification: { image: JSON.parse(JSON.stringify(readManifest(manifest).verification.image)) },
    writeBlock: { method: 'read-only-open', readOnlyAtEnd: null },
  });
  // The start is recorded before the first byte is read: its time is before the manifest's start.
  expect(Date.parse(start!.time.utc)).toBeLessThanOrEqual(Date.parse(r.manifest.time.start) + 999);
  expect(await ledgerVerify({ caseDir: c.caseDir })).toMatchObject({ outcome: 'ok', entries: 3 });
});

test('without an evidence number the source names the evidence; 22 split segments are summarised, the entry stays small', async () => {
  const c = await w.newCase();
  const src = join(w.dir, 'split-src.img');
  writeFileSync(src, pseudoRandomBytes((22 << 20) - 4096, 6));
  const outDir = out();
  const r = await acquireRecorded({ source: src, outDir, name: 'ev', format: 'split', splitSize: 1 << 20, algorithms: ['md5'], retries: 0 }, c);
  expect(r.outputs).toHaveLength(22);
  const complete = ledger(c.caseDir).at(-1)!;
  expect(complete.evidence).toEqual([src]);
  expect(complete.details.outputs).toEqual({
    count: 22,
    bytes: (22 << 20) - 4096,
    first: r.outputs.slice(0, 20).map((o) => ({ path: o.path, size: o.size, hashes: { md5: digestOf('md5sum', o.path) } })),
  });
  expect(Math.max(...entrySizes(c.caseDir))).toBeLessThan(16 * 1024);
});

test('a resumed acquisition: its sessions and the check of the partial image are recorded', async () => {
  const c = await w.newCase();
  const src = join(w.dir, 'resume-src.img');
  writeFileSync(src, pseudoRandomBytes(4 << 20, 7));
  const controller = new AbortController();
  const o = { source: src, outDir: out(), name: 'ev', format: 'raw' as const, algorithms: ['md5' as const], retries: 0, chunkSize: 65536 };
  await expect(acquireRecorded({ ...o, signal: controller.signal, onProgress: (_ph, _t, p) => p.bytesDone >= 1 << 20 && controller.abort() }, c)).rejects.toMatchObject({ code: 'INTERRUPTED' });
  const r = await acquireRecorded({ ...o, resume: true }, c);
  const actions = ledger(c.caseDir).map((e) => e.action);
  expect(actions).toEqual(['case-open', 'acquire-start', 'acquire-failed', 'acquire-start', 'acquire-complete']);
  const [, , failed, restart, complete] = ledger(c.caseDir);
  expect(failed!.details).toEqual({ source: src, error: { code: 'INTERRUPTED', message: expect.stringMatching(/^acquisition interrupted after \d+ of 4194304 bytes/) } });
  expect(restart!.details).toMatchObject({ resume: true });
  expect(complete!.details).toMatchObject({ sessions: 2, resumeCheck: { matched: true, matchedBytes: r.resumeCheck!.matchedBytes } });
  expect(r.hashes).toEqual({ md5: digestOf('md5sum', src) });
});

describe('acquire-failed', () => {
  test('a source that does not exist: acquire-start, then acquire-failed with the error; the error is thrown as is', async () => {
    const c = await w.newCase();
    const missing = join(w.dir, 'no-such-disk.img');
    const err = await acquireRecorded({ source: missing, outDir: out(), format: 'raw', algorithms: ['md5'], retries: 0, case: { evidenceNumber: 'EV-9' } }, c).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FILE_NOT_FOUND', message: `${missing}: no such file or directory` });
    const [, start, failed] = ledger(c.caseDir);
    expect(start).toMatchObject({ action: 'acquire-start', evidence: ['EV-9'] });
    expect(failed).toMatchObject({ action: 'acquire-failed', evidence: ['EV-9'], details: { source: missing, error: { code: 'FILE_NOT_FOUND', message: (err as Error).message } } });
    expect(await ledgerVerify({ caseDir: c.caseDir })).toMatchObject({ outcome: 'ok' });
  });

  test('an output that exists: OUTPUT_EXISTS recorded, the existing files untouched', async () => {
    const c = await w.newCase();
    const outDir = out();
    mkdirSync(outDir);
    writeFileSync(join(outDir, 'ev.manifest.json'), '{"keep":true}');
    await expect(acquireRecorded({ source: SAMPLE_IMAGE, outDir, name: 'ev', format: 'raw', algorithms: ['md5'], retries: 0 }, c)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(ledger(c.caseDir).map((e) => [e.action, (e.details.error as { code?: string } | undefined)?.code])).toEqual([
      ['case-open', undefined],
      ['acquire-start', undefined],
      ['acquire-failed', 'OUTPUT_EXISTS'],
    ]);
    expect(readdirSync(outDir)).toEqual(['ev.manifest.json']);
    expect(readFileSync(join(outDir, 'ev.manifest.json'), 'utf8')).toBe('{"keep":true}');
  });
});

describe('outcomes', () => {
  test('a source that changed before it was read again (--verify-source): mismatch, and the entry says so', async () => {
    const c = await w.newCase();
    const src = join(w.dir, 'changing.img');
    writeFileSync(src, pseudoRandomBytes(1 << 20, 8));
    const original = coreutils(src);
    const r = await acquireRecorded(
      {
        source: src,
        outDir: out(),
        format: 'raw',
        algorithms: ['md5', 'sha256'],
        retries: 0,
        verify: true,
        verifySource: true,
        // The source changes once the image is complete (a drive remapping a sector, someone writing to it).
        onPhase: (phase) => {
          if (phase !== 'commit') return;
          const fd = openSync(src, 'r+');
          writeSync(fd, Buffer.from('changed'), 0, 7, 4096);
          closeSync(fd);
        },
      },
      c,
    );
    expect(r.hashes).toEqual(original);
    expect(r.verification.image).toMatchObject({ result: 'match' });
    expect(r.verification.source).toMatchObject({ result: 'mismatch', hashes: coreutils(src) });
    expect(acquisitionOutcome(r)).toBe('mismatch');
    const complete = ledger(c.caseDir).at(-1)!;
    expect(complete.details.verification).toMatchObject({ image: { result: 'match' }, source: { result: 'mismatch' } });
  });

  const skip = faultSkipReason();
  if (skip) test.skip(`read-errors outcome skipped: ${skip}`, () => undefined);
  (skip ? test.skip : test)('a source with unreadable sectors (nbdkit, FUSE): read-errors, with the ranges and sectors counted in the entry', async () => {
    const MiB = 1 << 20;
    const f = FaultySource.start({ size: 4 * MiB, content: { kind: 'random', seed: 3 }, bad: [{ offset: MiB, length: 4096 }, { offset: 3 * MiB, length: 8192 }] });
    try {
      const c = await w.newCase();
      const r = await acquireRecorded({ source: f.file, outDir: out(), format: 'raw', algorithms: ['md5', 'sha1', 'sha256'], retries: 0, case: { evidenceNumber: 'EV-BAD' } }, c);
      expect(acquisitionOutcome(r)).toBe('read-errors');
      expect(r.readErrors.map((e) => ({ offset: e.offset, length: e.length }))).toEqual(f.badRanges);
      expect(r.hashes).toEqual(f.expectedHashes(['md5', 'sha1', 'sha256']));
      const complete = ledger(c.caseDir).at(-1)!;
      expect(complete).toMatchObject({ action: 'acquire-complete', evidence: ['EV-BAD'], details: { readErrors: { ranges: 2, sectors: 24 } } });
    } finally {
      f.stop();
      stopAll();
    }
  });
});
