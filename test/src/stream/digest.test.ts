/**
 * digest(): one pass, then the source is closed, whether the pass succeeded or not; its hashes,
 * segments and windows agree with coreutils, openssl and b3sum over the same byte ranges.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageSource } from '../../../src/formats/image-source';
import { digest } from '../../../src/stream/digest';
import { hasTool, makeTempDir, pseudoRandomBytes, tool } from '../../helpers';
import { bytesDigest, MemorySource, pieceDigests, rangeDigest, thrown } from '../image-support';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-digest-');
});
afterAll(() => tmp.cleanup());

/** A raw image source over a file that counts its closes (the real ImageSource, observed). */
function countingSource(file: string): { source: ImageSource; closes: () => number } {
  const source = ImageSource.ofFiles(file, [file], 'raw');
  let n = 0;
  const close = source.close.bind(source);
  source.close = () => {
    n++;
    close();
  };
  return { source, closes: () => n };
}

describe('the source is closed exactly once', () => {
  test('after a pass that succeeds', async () => {
    const s = new MemorySource(pseudoRandomBytes(100_000, 31));
    const d = await digest(s, 100_000, ['md5'], { chunkSize: 32768 });
    expect(d.bytes).toBe(100_000);
    expect(s.closed).toBe(1);
  });

  test('after a pass whose read fails, with the read error passed on', async () => {
    const s = new MemorySource(pseudoRandomBytes(100_000, 32), { failAt: 70_000 });
    const err = await thrown(() => digest(s, 100_000, ['md5', 'sha1'], { chunkSize: 32768 }));
    expect(err.message).toBe('read failed at 70000');
    expect(s.closed).toBe(1);
  });

  test('an ImageSource whose file was truncated after opening: IO_ERROR, and its descriptors closed', async () => {
    const file = join(tmp.dir, 'shrinks.bin');
    writeFileSync(file, pseudoRandomBytes(200_000, 33));
    const { source, closes } = countingSource(file);
    tool('truncate', ['-s', '150000', file]);
    const err = await thrown(() => digest(source, 200_000, ['md5'], { chunkSize: 65536 }));
    expect(err.code).toBe('IO_ERROR');
    expect(err.message).toBe(`${file}: shorter than when it was opened (ends at byte 150000)`);
    expect(closes()).toBe(1);
  });
});

describe('agreement with independent tools over the same byte ranges', () => {
  const SIZE = 2.5 * 1024 * 1024 + 3;
  let file: string;
  beforeAll(() => {
    file = join(tmp.dir, 'data.bin');
    writeFileSync(file, pseudoRandomBytes(SIZE, 34));
  });

  test('hashes of the whole (coreutils, openssl SHA3-256, b3sum), per segment and per window (coreutils)', async () => {
    const { source, closes } = countingSource(file);
    const d = await digest(source, SIZE, ['md5', 'sha1', 'sha256', 'sha512', 'sha3-256', 'blake3'], { chunkSize: 256 * 1024, segmentSize: 1024 * 1024, windowSize: 512 * 1024 + 1 });
    expect(closes()).toBe(1);
    expect(d.hashes.md5).toBe(rangeDigest('md5sum', file, 0, SIZE));
    expect(d.hashes.sha1).toBe(rangeDigest('sha1sum', file, 0, SIZE));
    expect(d.hashes.sha256).toBe(rangeDigest('sha256sum', file, 0, SIZE));
    expect(d.hashes.sha512).toBe(rangeDigest('sha512sum', file, 0, SIZE));
    expect(d.hashes['sha3-256']).toBe(/= ([0-9a-f]{64})$/m.exec(tool('openssl', ['dgst', '-sha3-256', file]))![1]);
    if (hasTool('b3sum')) expect(d.hashes.blake3).toBe(tool('b3sum', ['--no-names', file]).trim());
    expect(d.segments.length).toBe(3);
    expect(d.segments.map((s) => s.sha256)).toEqual(pieceDigests('sha256sum', file, SIZE, 1024 * 1024));
    expect(d.segments.map((s) => s.md5)).toEqual(pieceDigests('md5sum', file, SIZE, 1024 * 1024));
    expect(d.windows.length).toBe(5);
    expect(d.windows.map((s) => s.sha1)).toEqual(pieceDigests('sha1sum', file, SIZE, 512 * 1024 + 1));
    expect(d).toMatchObject({ bytes: SIZE, readErrors: [], stopped: false });
  });

  test('an empty source: the digests of no bytes, one (empty) segment', async () => {
    const empty = join(tmp.dir, 'empty.bin');
    writeFileSync(empty, '');
    const d = await digest(ImageSource.ofFiles(empty, [empty], 'raw'), 0, ['md5', 'sha256'], { segmentSize: 1 << 20 });
    expect(d.hashes).toEqual({ md5: rangeDigest('md5sum', '/dev/null', 0, 0), sha256: rangeDigest('sha256sum', '/dev/null', 0, 0) });
    expect(d.segments).toEqual([d.hashes]);
    expect(d.bytes).toBe(0);
  });

  test('ranges a source zero-filled are merged into readErrors and hashed as zeros', async () => {
    const data = pseudoRandomBytes(300_000, 35);
    const bad = [
      { offset: 65536 - 512, length: 1024 },
      { offset: 200_000, length: 4096 },
    ];
    const s = new MemorySource(data, { bad });
    const d = await digest(s, data.length, ['md5'], { chunkSize: 65536 });
    expect(d.readErrors).toEqual(bad);
    const zeroed = Buffer.from(data);
    for (const b of bad) zeroed.fill(0, b.offset, b.offset + b.length);
    expect(d.hashes.md5).toBe(bytesDigest('md5sum', zeroed));
    expect(d.hashes.md5).not.toBe(bytesDigest('md5sum', data));
  });

  test('shouldStop: stopped, and the bytes hashed are the chunks read before it', async () => {
    const data = pseudoRandomBytes(10 * 65536, 36);
    let polls = 0;
    const d = await digest(new MemorySource(data), data.length, ['sha256'], { chunkSize: 65536, shouldStop: () => ++polls > 4 });
    expect(d.stopped).toBe(true);
    expect(d.bytes).toBe(4 * 65536);
    expect(d.hashes.sha256).toBe(bytesDigest('sha256sum', data.subarray(0, 4 * 65536)));
  });

  test('durationSeconds is measured with the clock given', async () => {
    const ticks = [1000, 3500];
    const d = await digest(new MemorySource(Buffer.alloc(4096)), 4096, ['md5'], { chunkSize: 4096, now: () => ticks.shift()! });
    expect(d.durationSeconds).toBe(2.5);
    expect(d.hashes.md5).toBe(spawnSync('md5sum', ['-'], { input: Buffer.alloc(4096), encoding: 'utf8' }).stdout.split(' ')[0]);
  });
});
