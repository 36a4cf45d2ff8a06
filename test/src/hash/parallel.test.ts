import { ALGORITHMS, type Algorithm, createDigester } from '../../../src/hash/algorithms';
import { ParallelHasher, planWorkers } from '../../../src/hash/parallel';
import { pseudoRandomBytes } from '../../helpers';

const alone = (alg: Algorithm, data: Uint8Array) => {
  const d = createDigester(alg);
  d.update(data);
  return d.digestHex();
};

/** Feeds `data` through shared memory in `chunk`-sized pieces, as the pipeline does. */
async function viaWorkers(data: Buffer, algorithms: readonly Algorithm[], chunk: number, o: { segmentSize?: number; windowSize?: number } = {}) {
  const shared = new SharedArrayBuffer(chunk * 2);
  const view = new Uint8Array(shared);
  const h = new ParallelHasher(shared, algorithms, o);
  for (let off = 0, slot = 0; off < data.length; off += chunk, slot ^= 1) {
    const piece = data.subarray(off, off + chunk);
    view.set(piece, slot * chunk);
    await h.update(slot * chunk, piece.length);
  }
  return h.finish();
}

test('planWorkers puts MD5 alone and the cheaper SHA family together on two cores', () => {
  expect(planWorkers(['md5', 'sha1', 'sha256'], 2)).toEqual([['md5'], ['sha1', 'sha256']]);
  expect(planWorkers(['md5', 'sha1', 'sha256', 'blake3'], 2)).toEqual([['blake3'], ['md5', 'sha1', 'sha256']]);
  expect(planWorkers(['md5', 'sha256'], 1)).toEqual([['md5', 'sha256']]);
  expect(planWorkers(['sha256'], 8)).toEqual([['sha256']]);
});

test('worker threads give every algorithm the digest it computes alone, in canonical order', async () => {
  const data = pseudoRandomBytes(1_000_003, 12);
  const r = await viaWorkers(data, ALGORITHMS, 65536);
  expect(Object.keys(r.hashes)).toEqual([...ALGORITHMS]);
  for (const a of ALGORITHMS) expect(r.hashes[a]).toBe(alone(a, data));
});

test('segments and windows are cut at their own boundaries, whatever the chunk size', async () => {
  const data = pseudoRandomBytes(300_000, 13);
  const r = await viaWorkers(data, ['md5', 'sha256'], 4096 * 5, { segmentSize: 100_000, windowSize: 64 * 1024 });
  expect(r.segments.map((s) => s.md5)).toEqual([0, 100_000, 200_000].map((o) => alone('md5', data.subarray(o, o + 100_000))));
  expect(r.windows).toHaveLength(5);
  expect(r.windows[4]!.sha256).toBe(alone('sha256', data.subarray(4 * 65536)));
});

test('an empty stream still has its digests (of zero bytes)', async () => {
  const r = await viaWorkers(Buffer.alloc(0), ['md5'], 4096, { segmentSize: 1024 });
  expect(r.hashes.md5).toBe('d41d8cd98f00b204e9800998ecf8427e');
  expect(r.segments).toEqual([{ md5: 'd41d8cd98f00b204e9800998ecf8427e' }]);
});
