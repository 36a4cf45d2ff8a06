import type { Algorithm } from '../hash/algorithms';
import { ParallelHasher, type StreamDigests } from '../hash/parallel';
import { MAX_ALIGNMENT, SlotRing } from './ring';
import { CustosError } from '../errors';
import { addRange, type ByteRange, type ByteSource } from '../formats/types';
import type { ImageWriter } from '../formats/types';

/** Where a streaming pass stands, as reported to progress displays and checkpoints. */
export interface PipelineProgress {
  /** Bytes read from the source so far (absolute offset). */
  bytesRead: number;
  /** Bytes hashed and, when there is a writer, written, with nothing missing before them. */
  bytesDone: number;
  readErrors: readonly ByteRange[];
}

export interface PipelineOptions {
  source: ByteSource;
  /** Offset to start at (resume) and offset to stop before. */
  start?: number;
  end: number;
  ring: SlotRing;
  hasher: ParallelHasher;
  writer?: ImageWriter;
  /** Checks each chunk after it is read and before it is used; false stops the pass before that chunk (resume re-validation). */
  inspect?: (chunk: Uint8Array, offset: number) => Promise<boolean>;
  /** Unreadable ranges already known (from before a resume); new ones are merged in. */
  readErrors?: ByteRange[];
  onProgress?: (p: PipelineProgress) => void;
  /** Called with the unreadable ranges of each chunk that had any. */
  onReadErrors?: (ranges: readonly ByteRange[]) => void;
  /** Polled between chunks: true stops the pass cleanly after the chunks in flight. */
  shouldStop?: () => boolean;
  /** Upper bound on the average read rate in bytes per second (ddrescue's --max-read-rate). */
  maxRate?: number;
}

export interface PipelineResult extends PipelineProgress {
  /** True when shouldStop ended the pass before `end`. */
  stopped: boolean;
}

/**
 * Streams [start, end) of a source through a ring of shared buffers: the main thread reads
 * into a free slot, hands it to the hash workers and the writer at once, and reads on while
 * they work; a slot returns to the ring when every consumer is done with it.
 */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const { ring, hasher, writer } = o;
  const readErrors = o.readErrors ?? [];
  const free: number[] = Array.from({ length: ring.slots }, (_, i) => i);
  const waiting: (() => void)[] = [];
  let position = o.start ?? 0;
  let failure: unknown;
  let writeChain: Promise<void> = Promise.resolve();
  // Chunks finish out of order (hashing and writing overlap); bytesDone only moves past finished prefixes.
  const finished = new Map<number, number>();
  let bytesDone = position;
  const inflight = new Set<Promise<void>>();

  const release = (slot: number) => {
    free.push(slot);
    waiting.shift()?.();
  };
  const report = () => o.onProgress?.({ bytesRead: position, bytesDone, readErrors });
  const startedAt = Date.now();
  const startedFrom = position;

  while (position < o.end && failure === undefined && !o.shouldStop?.()) {
    if (free.length === 0) await new Promise<void>((r) => waiting.push(r));
    if (failure !== undefined) break;
    const slot = free.shift()!;
    const length = Math.min(ring.slotSize, o.end - position);
    const view = ring.view(slot, length);
    const offset = position;
    let bad: ByteRange[];
    let accepted = true;
    try {
      bad = await o.source.readFully(view, offset);
      if (o.inspect) accepted = await o.inspect(view, offset);
    } catch (err) {
      failure = err;
      release(slot);
      break;
    }
    if (!accepted) {
      release(slot);
      break;
    }
    for (const r of bad) addRange(readErrors, r.offset, r.length);
    if (bad.length > 0) o.onReadErrors?.(bad);
    const hashed = hasher.update(ring.offsetOf(slot), length);
    // After a failure no chunk counts as done unless it was written: the journal must not run ahead of the image.
    if (writer) writeChain = writeChain.then(() => (failure === undefined ? writer.write(view, offset) : Promise.reject(failure)));
    const written = writer ? writeChain : Promise.resolve();
    const job: Promise<void> = Promise.all([hashed, written]).then(
      () => {
        finished.set(offset, length);
        while (finished.has(bytesDone)) {
          const n = finished.get(bytesDone)!;
          finished.delete(bytesDone);
          bytesDone += n;
        }
        release(slot);
        inflight.delete(job);
        report();
      },
      (err: unknown) => {
        failure ??= err;
        release(slot);
        inflight.delete(job);
      },
    );
    inflight.add(job);
    position += length;
    if (o.maxRate) {
      const ahead = ((position - startedFrom) / o.maxRate) * 1000 - (Date.now() - startedAt);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
  }
  while (inflight.size > 0) await Promise.all([...inflight]);
  if (failure !== undefined) throw failure;
  report();
  return { bytesRead: position, bytesDone, readErrors, stopped: position < o.end };
}

/** Size of the reads that stream evidence: 4 MiB measured fastest here (NOTES.md: beats 1 and 16 MiB). */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

/** Slots in the ring for a hashing-only pass (no writer to keep busy). */
const HASH_SLOTS = 4;

export interface HashStreamOptions {
  start?: number;
  end: number;
  chunkSize: number;
  slots?: number;
  segmentSize?: number;
  windowSize?: number;
  onProgress?: (p: PipelineProgress) => void;
  shouldStop?: () => boolean;
  /** Upper bound on the read rate in bytes per second (a failing or hot drive read again). */
  maxRate?: number;
}

/** Opens a source's aligned ring and hash workers, streams it once, and returns the digests. */
export async function hashStream(
  source: ByteSource,
  algorithms: readonly Algorithm[],
  o: HashStreamOptions,
): Promise<StreamDigests & PipelineResult> {
  const ring = new SlotRing(o.slots ?? HASH_SLOTS, o.chunkSize);
  if (source.directFds.length > 0 && !ring.alignFor(source.directFds)) {
    throw alignmentError(source.path);
  }
  const hasher = new ParallelHasher(ring.buffer, algorithms, { segmentSize: o.segmentSize, windowSize: o.windowSize });
  try {
    const result = await runPipeline({ source, ring, hasher, start: o.start, end: o.end, onProgress: o.onProgress, shouldStop: o.shouldStop, maxRate: o.maxRate });
    return { ...result, ...(await hasher.finish()) };
  } finally {
    await hasher.terminate();
  }
}

/** No offset in the ring satisfied O_DIRECT: the file system or driver asks for an alignment beyond a page. */
export function alignmentError(path: string): CustosError {
  return new CustosError('IO_ERROR', `${path}: no buffer alignment up to ${MAX_ALIGNMENT} bytes is accepted for direct I/O (O_DIRECT)`, {
    path,
    hint: 'The device or file system refuses direct I/O from page-aligned memory; check the kernel log (dmesg) and report it.',
  });
}
