/**
 * Compresses E01 chunks off the main thread. A batch names a range of shared memory; each
 * 32 KiB chunk comes back compressed, or marked to be stored raw with its Adler-32.
 * deflateSync in a worker avoids the per-call cost of zlib's asynchronous API on the libuv
 * thread pool (measured here: several seconds of system time per GiB).
 */
import { parentPort } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import { adler32 } from './sections';

export interface CompressRequest {
  id: number;
  /** The memory the chunks are in (shared) or a copy of them (transferred). */
  buffer: SharedArrayBuffer | ArrayBuffer;
  offset: number;
  length: number;
  chunkSize: number;
  level: number;
}
export interface CompressReply {
  id: number;
  /** Per chunk: compressed bytes, or null with the Adler-32 to store it raw. */
  chunks: ({ data: Uint8Array; adler?: undefined } | { data: null; adler: number })[];
}

const PROBE = 4096;

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

let zero: Uint8Array | undefined;
let zeroKey = '';

parentPort?.on('message', (m: CompressRequest) => {
  const all = new Uint8Array(m.buffer, m.offset, m.length);
  const out: CompressReply['chunks'] = [];
  const options = { level: m.level, memLevel: 9 };
  for (let at = 0; at < all.length; at += m.chunkSize) {
    const chunk = all.subarray(at, Math.min(at + m.chunkSize, all.length));
    if (m.level > 0) {
      if (chunk.length === m.chunkSize && isZero(chunk)) {
        const key = `${m.chunkSize}/${m.level}`;
        if (zeroKey !== key) {
          zero = deflateSync(new Uint8Array(m.chunkSize), options);
          zeroKey = key;
        }
        out.push({ data: zero! });
        continue;
      }
      // Random-looking data (encrypted, already compressed) is stored raw without a full deflate.
      const probe = chunk.length > PROBE * 2 ? deflateSync(chunk.subarray(0, PROBE), options) : undefined;
      if (!probe || probe.length < PROBE * 0.97) {
        const z = deflateSync(chunk, options);
        if (z.length < chunk.length) {
          out.push({ data: z });
          continue;
        }
      }
    }
    out.push({ data: null, adler: adler32(chunk) });
  }
  parentPort!.postMessage({ id: m.id, chunks: out } satisfies CompressReply);
});
