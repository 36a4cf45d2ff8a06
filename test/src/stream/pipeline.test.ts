/**
 * runPipeline and hashStream: the real ring and hash workers, driven by sources and writers that
 * record what the engine asked of them. Digests are judged by coreutils over the same bytes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError, isCustosError } from '../../../src/errors';
import { ImageSource } from '../../../src/formats/image-source';
import type { ByteRange } from '../../../src/formats/types';
import { ParallelHasher } from '../../../src/hash/parallel';
import { SourceReader } from '../../../src/source/reader';
import { alignmentError, hashStream, type PipelineOptions, type PipelineProgress, runPipeline } from '../../../src/stream/pipeline';
import { SlotRing } from '../../../src/stream/ring';
import { makeTempDir, pseudoRandomBytes } from '../../helpers';
import { bytesDigest, MemorySource, MemoryWriter, pieceDigests, rangeDigest, thrown } from '../image-support';

const SLOT = 4096;

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-pipeline-');
});
afterAll(() => tmp.cleanup());

/**
 * The real hasher, whose n-th update is reported done `delayFor(n)` ms late: the digests are
 * computed as always, but chunks finish out of order, as they may when consumers overlap.
 */
class LateHasher extends ParallelHasher {
  private calls = 0;
  constructor(buffer: SharedArrayBuffer, private readonly delayFor: (n: number) => number) {
    super(buffer, ['md5', 'sha256'], { maxWorkers: 1 });
  }

  override update(offset: number, length: number): Promise<void> {
    const ms = this.delayFor(this.calls++);
    const done = super.update(offset, length);
    return ms > 0 ? done.then(() => new Promise<void>((r) => setTimeout(r, ms))) : done;
  }
}

/** Runs one pass with a fresh ring and hasher (MD5 and SHA-256 on one worker), always stopping the workers. */
async function pass(o: Omit<PipelineOptions, 'ring' | 'hasher'> & { slots?: number; slotSize?: number; lateBy?: (n: number) => number }) {
  const ring = new SlotRing(o.slots ?? 4, o.slotSize ?? SLOT);
  const hasher = o.lateBy ? new LateHasher(ring.buffer, o.lateBy) : new ParallelHasher(ring.buffer, ['md5', 'sha256'], { maxWorkers: 1 });
  const progress: (PipelineProgress & { written: number })[] = [];
  try {
    const result = await runPipeline({
      ...o,
      ring,
      hasher,
      onProgress: (p) => {
        progress.push({ ...p, readErrors: [...p.readErrors.map((r) => ({ ...r }))], written: o.writer instanceof MemoryWriter ? o.writer.completed : -1 });
        o.onProgress?.(p);
      },
    });
    return { result, progress, hashes: (await hasher.finish()).hashes };
  } finally {
    await hasher.terminate();
  }
}

describe('runPipeline', () => {
  test('a writer slower than hashing: writes come in order, one at a time; bytesDone never passes what is written', async () => {
    const data = pseudoRandomBytes(10 * SLOT + 100, 21);
    // The first write takes long, so later chunks are hashed before it finishes.
    const writer = new MemoryWriter(data.length, { delayFor: (offset) => (offset === 0 ? 150 : offset === 5 * SLOT ? 60 : 0) });
    const source = new MemorySource(data);
    const { result, progress, hashes } = await pass({ source, end: data.length, writer });
    expect(writer.writes).toEqual([...Array.from({ length: 10 }, (_, i) => ({ offset: i * SLOT, length: SLOT })), { offset: 10 * SLOT, length: 100 }]);
    expect(writer.overlapping).toBe(0);
    expect(writer.media.equals(data)).toBe(true);
    expect(result).toEqual({ bytesRead: data.length, bytesDone: data.length, readErrors: [], stopped: false });
    expect(hashes).toEqual({ md5: bytesDigest('md5sum', data), sha256: bytesDigest('sha256sum', data) });
    // Every report: a finished prefix, never ahead of the bytes the writer completed, never going back.
    let last = 0;
    for (const p of progress) {
      expect(p.bytesDone).toBeGreaterThanOrEqual(last);
      expect(p.bytesDone).toBeLessThanOrEqual(p.written);
      expect(p.bytesDone).toBeLessThanOrEqual(p.bytesRead);
      expect(p.bytesDone % SLOT === 0 || p.bytesDone === data.length).toBe(true);
      last = p.bytesDone;
    }
    // While the first write was pending, the reader went on: some report saw bytes read well past bytes done.
    expect(progress.some((p) => p.bytesRead - p.bytesDone >= 2 * SLOT)).toBe(true);
    expect(progress[progress.length - 1]!.bytesDone).toBe(data.length);
  });

  test('chunks that finish out of order: bytesDone waits for the missing one, then moves over those finished meanwhile', async () => {
    const data = pseudoRandomBytes(8 * SLOT, 29);
    const writer = new MemoryWriter(data.length);
    // Chunk 0's hashing is reported 200 ms late; chunks 1-3 finish first.
    const { result, progress, hashes } = await pass({ source: new MemorySource(data), end: data.length, writer, slots: 4, lateBy: (n) => (n === 0 ? 200 : 0) });
    const firstMove = progress.findIndex((p) => p.bytesDone > 0);
    // Chunks 1-3 (at least) were reported finished while chunk 0 was not: bytesDone stayed 0…
    expect(firstMove).toBeGreaterThanOrEqual(3);
    for (const p of progress.slice(0, firstMove)) expect(p.bytesDone).toBe(0);
    // …then moved over all of them at once, never onto a gap.
    expect(progress[firstMove]!.bytesDone).toBeGreaterThanOrEqual(4 * SLOT);
    expect(progress[firstMove]!.bytesDone % SLOT).toBe(0);
    expect(result).toEqual({ bytesRead: data.length, bytesDone: data.length, readErrors: [], stopped: false });
    expect(writer.media.equals(data)).toBe(true);
    expect(hashes.md5).toBe(bytesDigest('md5sum', data));
  });

  test('the ring bounds what is in flight: with 2 slots the reader is never more than 2 chunks ahead of bytes done', async () => {
    const data = pseudoRandomBytes(8 * SLOT, 22);
    const writer = new MemoryWriter(data.length, { delayFor: () => 20 });
    const source = new MemorySource(data);
    const seen: { read: number; done: number }[] = [];
    let done = 0;
    const { result } = await pass({
      source,
      end: data.length,
      writer,
      slots: 2,
      onProgress: (p) => {
        done = p.bytesDone;
      },
      inspect: async (_chunk, offset) => {
        seen.push({ read: offset, done });
        return true;
      },
    });
    expect(result.bytesDone).toBe(data.length);
    for (const s of seen) expect(s.read - s.done).toBeLessThanOrEqual(2 * SLOT);
  });

  test('read errors from the source are merged with the known ones, reported per chunk, and hashed as zeros', async () => {
    const data = pseudoRandomBytes(6 * SLOT, 23);
    // From a resume at chunk 1: one range known from before, one straddling chunks 0|1 (only its part from 1 on is read), one straddling 1|2, one inside chunk 5.
    const bad: ByteRange[] = [
      { offset: 4000, length: 200 },
      { offset: 2 * SLOT - 12, length: 30 },
      { offset: 5 * SLOT + 7, length: 1 },
    ];
    const source = new MemorySource(data, { bad });
    const perChunk: ByteRange[][] = [];
    const known = [{ offset: 100, length: 50 }];
    const { result, hashes } = await pass({ source, start: SLOT, end: data.length, readErrors: known, onReadErrors: (r) => perChunk.push(r.map((x) => ({ ...x }))) });
    expect(result.readErrors).toEqual([
      { offset: 100, length: 50 },
      { offset: SLOT, length: 104 },
      { offset: 2 * SLOT - 12, length: 30 },
      { offset: 5 * SLOT + 7, length: 1 },
    ]);
    expect(perChunk).toEqual([
      [
        { offset: SLOT, length: 104 },
        { offset: 2 * SLOT - 12, length: 12 },
      ],
      [{ offset: 2 * SLOT, length: 18 }],
      [{ offset: 5 * SLOT + 7, length: 1 }]]);
    expect(result.bytesRead).toBe(data.length);
    expect(result.bytesDone).toBe(data.length);
    const expected = Buffer.from(data.subarray(SLOT));
    for (const r of result.readErrors) if (r.offset >= SLOT) expected.fill(0, r.offset - SLOT, r.offset - SLOT + r.length);
    expect(hashes.md5).toBe(bytesDigest('md5sum', expected));
    expect(source.reads.map((r) => r.position)).toEqual([1, 2, 3, 4, 5].map((i) => i * SLOT));
  });

  test('inspect returning false stops before that chunk: it is neither hashed, written nor counted', async () => {
    const data = pseudoRandomBytes(8 * SLOT, 24);
    const writer = new MemoryWriter(data.length);
    const inspected: number[] = [];
    const { result, hashes } = await pass({
      source: new MemorySource(data),
      end: data.length,
      writer,
      inspect: async (chunk, offset) => {
        inspected.push(offset);
        // It sees the chunk as read.
        expect(Buffer.from(chunk).equals(data.subarray(offset, offset + chunk.length))).toBe(true);
        return offset < 3 * SLOT;
      },
    });
    expect(inspected).toEqual([0, SLOT, 2 * SLOT, 3 * SLOT]);
    expect(result).toEqual({ bytesRead: 3 * SLOT, bytesDone: 3 * SLOT, readErrors: [], stopped: true });
    expect(writer.writes.map((w) => w.offset)).toEqual([0, SLOT, 2 * SLOT]);
    expect(hashes.md5).toBe(bytesDigest('md5sum', data.subarray(0, 3 * SLOT)));
  });

  test('shouldStop ends the pass cleanly between chunks; what was read before is done', async () => {
    const data = pseudoRandomBytes(8 * SLOT, 25);
    const source = new MemorySource(data);
    let polls = 0;
    const { result, hashes } = await pass({ source, end: data.length, shouldStop: () => ++polls > 5 });
    expect(result).toEqual({ bytesRead: 5 * SLOT, bytesDone: 5 * SLOT, readErrors: [], stopped: true });
    expect(source.reads.length).toBe(5);
    expect(hashes.sha256).toBe(bytesDigest('sha256sum', data.subarray(0, 5 * SLOT)));
  });

  test('maxRate is honoured: the k-th read starts no earlier than k chunks at that rate', async () => {
    const slotSize = 64 * 1024;
    const data = pseudoRandomBytes(4 * slotSize, 26);
    const source = new MemorySource(data);
    const rate = 1024 * 1024; // 1 MiB/s: 62.5 ms per chunk, 250 ms for the whole
    const t0 = Date.now();
    const { result } = await pass({ source, end: data.length, maxRate: rate, slotSize });
    const elapsed = Date.now() - t0;
    expect(result.bytesDone).toBe(data.length);
    expect(elapsed).toBeGreaterThanOrEqual(245);
    source.reads.forEach((r, k) => expect(r.at - source.reads[0]!.at).toBeGreaterThanOrEqual(k * 62.5 - 3));
  });

  test('a writer failure stops the pass with that error; nothing is written after it and no later chunk counts as done', async () => {
    const data = pseudoRandomBytes(10 * SLOT, 27);
    // The failing write takes a while, so later chunks are read and hashed meanwhile.
    const writer = new MemoryWriter(data.length, { failAt: 3 * SLOT, delayFor: (o) => (o === 3 * SLOT ? 80 : 0) });
    const done: number[] = [];
    const err = await thrown(() => pass({ source: new MemorySource(data), end: data.length, writer, onProgress: (p) => done.push(p.bytesDone) }));
    expect(err.message).toBe(`write failed at ${3 * SLOT}`);
    expect(writer.writes.map((w) => w.offset)).toEqual([0, SLOT, 2 * SLOT, 3 * SLOT]);
    expect(writer.completed).toBe(3 * SLOT);
    expect(Math.max(0, ...done)).toBeLessThanOrEqual(3 * SLOT);
  });

  test('a source failure stops the pass with that error', async () => {
    const data = pseudoRandomBytes(6 * SLOT, 28);
    const writer = new MemoryWriter(data.length);
    const source = new MemorySource(data, { failAt: 4 * SLOT + 5 });
    const err = await thrown(() => pass({ source, end: data.length, writer }));
    expect(err.message).toBe(`read failed at ${4 * SLOT + 5}`);
    expect(writer.writes.every((w) => w.offset < 4 * SLOT)).toBe(true);
    expect(source.reads.map((r) => r.position)).toEqual([0, 1, 2, 3, 4].map((i) => i * SLOT));
  });
});

describe('hashStream against coreutils', () => {
  const SIZE = 3 * 1024 * 1024 + 12345;
  let file: string;
  beforeAll(() => {
    file = join(tmp.dir, 'generated.bin');
    writeFileSync(file, pseudoRandomBytes(SIZE, 29));
  });

  test('an image file: whole, segments and windows cut at their own sizes, as md5sum/sha1sum/sha256sum give them', async () => {
    const source = ImageSource.ofFiles(file, [file], 'raw');
    try {
      const r = await hashStream(source, ['md5', 'sha1', 'sha256'], { end: SIZE, chunkSize: 1 << 20, segmentSize: 1_000_000, windowSize: 700_000 });
      expect(r.hashes).toEqual({ md5: rangeDigest('md5sum', file, 0, SIZE), sha1: rangeDigest('sha1sum', file, 0, SIZE), sha256: rangeDigest('sha256sum', file, 0, SIZE) });
      expect(r.segments.map((s) => s.md5)).toEqual(pieceDigests('md5sum', file, SIZE, 1_000_000));
      expect(r.windows.map((s) => s.sha256)).toEqual(pieceDigests('sha256sum', file, SIZE, 700_000));
      expect(r.windows.map((s) => s.sha1)).toEqual(pieceDigests('sha1sum', file, SIZE, 700_000));
      expect(r).toMatchObject({ bytesRead: SIZE, bytesDone: SIZE, readErrors: [], stopped: false });
    } finally {
      source.close();
    }
  });

  test('a source read through its O_DIRECT recovery descriptor (an aligned ring), from an offset to an end inside the file', async () => {
    const reader = SourceReader.open(file, { retries: 0, sectorSize: 512, resumable: false });
    try {
      expect(reader.directFds.length).toBeGreaterThan(0);
      const start = 3 * 65536;
      const end = SIZE - 100;
      const r = await hashStream(reader, ['md5', 'sha512'], { start, end, chunkSize: 65536 });
      expect(r.hashes).toEqual({ md5: rangeDigest('md5sum', file, start, end - start), sha512: rangeDigest('sha512sum', file, start, end - start) });
      expect(r.bytesDone).toBe(end);
    } finally {
      reader.close();
    }
  });
});

test('alignmentError is a one-line IO_ERROR naming the path, with a hint (exit code 5)', () => {
  const e = alignmentError('/dev/sdz');
  expect(e).toBeInstanceOf(CustosError);
  expect(isCustosError(e)).toBe(true);
  expect(e.code).toBe('IO_ERROR');
  expect(e.exitCode).toBe(5);
  expect(e.path).toBe('/dev/sdz');
  expect(e.message).toBe('/dev/sdz: no buffer alignment up to 4096 bytes is accepted for direct I/O (O_DIRECT)');
  expect(e.message).not.toContain('\n');
  expect(e.hint).toMatch(/^[^\n]+$/);
});
