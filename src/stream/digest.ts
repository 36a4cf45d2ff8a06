/**
 * The one "hash, then close" entry point of the engine: hash, verify, acquire (reading back) and
 * convert open what they read (a source through src/source, an image through the format registry)
 * and hand it here; it is streamed once through the ring and the hash workers, then closed.
 */
import type { Algorithm } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';
import type { ByteRange, ByteSource } from '../formats/types';
import { DEFAULT_CHUNK_SIZE, hashStream, type PipelineProgress } from './pipeline';

export interface DigestOptions {
  chunkSize?: number;
  /** Digests per segment of this size too (split images). */
  segmentSize?: number;
  /** Digests per window of this size too (hash windows). */
  windowSize?: number;
  /** Upper bound on the read rate, bytes per second. */
  maxRate?: number;
  onProgress?: (p: PipelineProgress) => void;
  shouldStop?: () => boolean;
  now?: () => number;
}

/** What one pass over a source gave. */
export interface Digest {
  hashes: HashSet;
  segments: HashSet[];
  windows: HashSet[];
  /** Ranges the source returned zero-filled or damaged (bad sectors; E01 chunks read with tolerateDamage). */
  readErrors: ByteRange[];
  /** Bytes hashed. */
  bytes: number;
  durationSeconds: number;
  /** True when shouldStop ended the pass early. */
  stopped: boolean;
}

/** Streams [0, size) of `source` once through every algorithm, then closes it (also on failure). */
export async function digest(source: ByteSource, size: number, algorithms: readonly Algorithm[], o: DigestOptions = {}): Promise<Digest> {
  const now = o.now ?? Date.now;
  const t0 = now();
  try {
    const r = await hashStream(source, algorithms, {
      end: size,
      chunkSize: o.chunkSize ?? DEFAULT_CHUNK_SIZE,
      segmentSize: o.segmentSize,
      windowSize: o.windowSize,
      maxRate: o.maxRate,
      onProgress: o.onProgress,
      shouldStop: o.shouldStop,
    });
    return {
      hashes: r.hashes,
      segments: r.segments,
      windows: r.windows,
      readErrors: r.readErrors.map((x) => ({ ...x })),
      bytes: r.bytesDone,
      durationSeconds: (now() - t0) / 1000,
      stopped: r.stopped,
    };
  } finally {
    source.close();
  }
}
