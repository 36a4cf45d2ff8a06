import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquire, type AcquireOptions } from '../../../src/acquire/acquire';
import { CustosError } from '../../../src/errors';
import { readManifest } from '../../../src/manifest/manifest';
import { schemaProblems } from '../../../src/schema';
import { DEFAULT_CHUNK_SIZE } from '../../../src/stream/pipeline';
import { digestOf, fixedEnvironment, makeTempDir, pseudoRandomBytes, sameBytes, SAMPLE_IMAGE, tool } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

let n = 0;
const freshDir = () => {
  const d = join(tmp.dir, `out-${n++}`);
  require('node:fs').mkdirSync(d);
  return d;
};
const base = (source: string, extra: Partial<AcquireOptions> = {}): AcquireOptions => ({
  source,
  outDir: freshDir(),
  format: 'raw',
  algorithms: ['md5', 'sha1', 'sha256'],
  retries: 2,
  env: fixedEnvironment(),
  ...extra,
});
const coreutils = (file: string) => ({ md5: digestOf('md5sum', file), sha1: digestOf('sha1sum', file), sha256: digestOf('sha256sum', file) });

describe('raw acquisition is bit-for-bit, with the hashes coreutils computes', () => {
  const chunk = DEFAULT_CHUNK_SIZE;
  test.each([0, 1, 511, 512, chunk - 1, chunk, chunk + 1, 3 * chunk + 4096 + 17].map((s) => [s]))('%i bytes', async (size) => {
    const src = join(tmp.dir, `src-${size}`);
    writeFileSync(src, pseudoRandomBytes(size, size + 11));
    const r = await acquire(base(src));
    expect(r.outputs).toHaveLength(1);
    expect(sameBytes(src, r.outputs[0]!.path)).toBe(true);
    expect(r.hashes).toEqual(coreutils(src));
    expect(r.outputs[0]!.hashes).toEqual(r.hashes);
    expect(r.readErrors).toEqual([]);
    expect(schemaProblems('acquisition-manifest', readManifest(r.manifestPath))).toEqual([]);
  });

  test('a few hundred MiB', async () => {
    const src = join(tmp.dir, 'big');
    // Mixed content as on real disks: random, zeros and text.
    const parts = [pseudoRandomBytes(96 << 20, 3), Buffer.alloc(96 << 20), Buffer.from('custos evidence text\n'.repeat(5_000_000))];
    writeFileSync(src, Buffer.concat(parts));
    const r = await acquire(base(src, { algorithms: ['md5', 'sha1', 'sha256', 'sha512'] }));
    expect(sameBytes(src, r.outputs[0]!.path)).toBe(true);
    expect(r.hashes).toEqual({ ...coreutils(src), sha512: digestOf('sha512sum', src) });
  });
});

test('the sample acquires to the hashes recorded in samples/*SUMS, and the manifest records the case', async () => {
  const r = await acquire(
    base(SAMPLE_IMAGE, {
      case: { caseNumber: '2026-0314-HARBOUR', evidenceNumber: 'EV-0001', examiner: 'Alex Morgan' },
      verify: true,
      verifySource: true,
    }),
  );
  const sums = (f: string) => readFileSync(join(SAMPLE_IMAGE, '..', f), 'utf8').split(/\s+/)[0];
  expect(r.hashes).toEqual({ md5: sums('MD5SUMS'), sha1: sums('SHA1SUMS'), sha256: sums('SHA256SUMS') });
  expect(r.outputs[0]!.path).toMatch(/EV-0001\.raw$/);
  const m = readManifest(r.manifestPath);
  expect(m.case).toEqual({ caseNumber: '2026-0314-HARBOUR', evidenceNumber: 'EV-0001', examiner: 'Alex Morgan' });
  expect(m.verification.image).toMatchObject({ result: 'match', hashes: r.hashes });
  expect(m.verification.source).toMatchObject({ result: 'match', hashes: r.hashes, readErrors: [] });
  // The clock, host and zone come from the injected environment.
  expect(m.time.start).toBe('2026-03-14T09:26:54Z');
  expect(m.time.timeZone).toBe('Europe/Berlin');
  expect(m.time.startLocal).toBe('2026-03-14T10:26:54+01:00');
  expect(m.host.hostname).toBe('lab-ws-07');
  expect(m.writeBlock).toMatchObject({ method: 'read-only-open', readOnlyBefore: null });
  expect(m.source).toMatchObject({ kind: 'file', sizeBytes: 8 << 20, sectors: 16384 });
});

test('split images: segments of the chosen size that concatenate to the source, each with its own hashes', async () => {
  const src = join(tmp.dir, 'split-src');
  writeFileSync(src, pseudoRandomBytes(10 * 1024 * 1024 + 1000, 77));
  const r = await acquire(base(src, { format: 'split', splitSize: 3 * 1024 * 1024, name: 'ev' }));
  expect(r.outputs.map((o) => o.path.replace(/.*\//, ''))).toEqual(['ev.001', 'ev.002', 'ev.003', 'ev.004']);
  expect(r.outputs.map((o) => o.size)).toEqual([3 << 20, 3 << 20, 3 << 20, (1 << 20) + 1000]);
  const joined = join(tmp.dir, 'joined');
  spawnSync('sh', ['-c', `cat ${r.outputs.map((o) => o.path).join(' ')} > ${joined}`]);
  expect(sameBytes(src, joined)).toBe(true);
  expect(r.hashes).toEqual(coreutils(src));
  for (const o of r.outputs) expect(o.hashes).toEqual(coreutils(o.path));
});

test('hash windows equal the hashes of each slice, as dd | md5sum computes them', async () => {
  const src = join(tmp.dir, 'win-src');
  writeFileSync(src, pseudoRandomBytes(5 * 1024 * 1024 + 512, 5));
  const r = await acquire(base(src, { windowSize: 2 * 1024 * 1024 }));
  const w = JSON.parse(readFileSync(r.windowsPath!, 'utf8'));
  expect(w.windows.map((x: { offset: number; length: number }) => [x.offset, x.length])).toEqual([
    [0, 2 << 20],
    [2 << 20, 2 << 20],
    [4 << 20, (1 << 20) + 512],
  ]);
  for (const x of w.windows) {
    const slice = tool('sh', ['-c', `dd if=${src} bs=1M skip=${x.offset >> 20} count=2 status=none | md5sum`]).split(' ')[0];
    expect(x.hashes.md5).toBe(slice);
  }
  const m = readManifest(r.manifestPath);
  expect(m.hashWindows).toMatchObject({ windowSize: 2 << 20, count: 3, sha256: digestOf('sha256sum', r.windowsPath!) });
});

describe('never overwrites, never claims an incomplete image', () => {
  test('an existing image or manifest is refused before anything is written', async () => {
    const o = base(SAMPLE_IMAGE, { name: 'dup' });
    await acquire(o);
    const before = readdirSync(o.outDir).sort();
    await expect(acquire({ ...o, env: fixedEnvironment() })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(readdirSync(o.outDir).sort()).toEqual(before);
  });

  test('an interrupted acquisition leaves .partial files and a journal, no manifest; it is not started over by accident', async () => {
    const src = join(tmp.dir, 'int-src');
    writeFileSync(src, pseudoRandomBytes(24 << 20, 8));
    const controller = new AbortController();
    // Small chunks, so the ring (8 slots) cannot read ahead to the end before the abort lands.
    const o = base(src, { name: 'int', chunkSize: 65536, signal: controller.signal, onProgress: (_ph, _t, p) => p.bytesDone >= 8 << 20 && controller.abort() });
    const err = await acquire(o).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CustosError);
    expect((err as CustosError).code).toBe('INTERRUPTED');
    expect((err as CustosError).exitCode).toBe(130);
    expect(readdirSync(o.outDir).sort()).toEqual(['int.raw.partial', 'int.resume.json']);
    await expect(acquire({ ...o, signal: undefined, onProgress: undefined })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });

    // --resume continues and ends with exactly the image and hashes of an uninterrupted run.
    const resumed = await acquire({ ...o, signal: undefined, onProgress: undefined, resume: true, env: fixedEnvironment() });
    expect(sameBytes(src, resumed.outputs[0]!.path)).toBe(true);
    expect(resumed.hashes).toEqual(coreutils(src));
    const m = readManifest(resumed.manifestPath);
    expect(m.acquisition.resumed).toBe(true);
    expect(m.time.sessions.map((s) => s.outcome)).toEqual(['interrupted', 'complete']);
    expect(m.time.sessions[1]!.fromOffset).toBeGreaterThanOrEqual(8 << 20);
    expect(existsSync(join(o.outDir, 'int.resume.json'))).toBe(false);
  });

  test('resume never trusts the partial image: a changed byte is re-acquired from the source', async () => {
    const src = join(tmp.dir, 'tamper-src');
    writeFileSync(src, pseudoRandomBytes(20 << 20, 9));
    const controller = new AbortController();
    const events: string[] = [];
    const o = base(src, { name: 't', chunkSize: 65536, signal: controller.signal, onProgress: (_ph, _t, p) => p.bytesDone >= 12 << 20 && controller.abort() });
    await acquire(o).catch(() => undefined);
    const partial = join(o.outDir, 't.raw.partial');
    const fd = require('node:fs').openSync(partial, 'r+');
    require('node:fs').writeSync(fd, Buffer.from([0xff ^ readFileSync(src)[5_000_000]!]), 0, 1, 5_000_000);
    require('node:fs').closeSync(fd);
    const r = await acquire({ ...o, signal: undefined, onProgress: undefined, resume: true, onEvent: (m) => events.push(m) });
    expect(events.join('\n')).toMatch(/WARNING: the partial image differs from the source from byte 5000000/);
    expect(r.manifest.time.sessions[1]!.resumeCheck).toEqual({ partialBytes: r.manifest.time.sessions[1]!.resumeCheck!.partialBytes, matchedBytes: 4980736, matched: false, mismatchAt: 4980736, reason: 'source-changed' });
    expect(r.resumeCheck?.matched).toBe(false);
    expect(sameBytes(src, r.outputs[0]!.path)).toBe(true);
    expect(r.hashes).toEqual(coreutils(src));
  });

  test('resume with other settings is refused', async () => {
    const src = join(tmp.dir, 'set-src');
    writeFileSync(src, pseudoRandomBytes(12 << 20, 10));
    const controller = new AbortController();
    const o = base(src, { name: 's', chunkSize: 65536, signal: controller.signal, onProgress: () => controller.abort() });
    await acquire(o).catch(() => undefined);
    await expect(acquire({ ...o, signal: undefined, resume: true, algorithms: ['md5'] })).rejects.toMatchObject({ code: 'RESUME_MISMATCH', message: expect.stringContaining('--hash md5') });
    await expect(acquire({ ...base(src), resume: true })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('nothing to resume') });
  });
});
