import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Algorithm, ALGORITHMS } from './algorithms';
import type { HashSet } from './hashset';
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol';
import { workerScript } from '../workers';
import { CustosBug } from '../errors';

/**
 * Relative cost per byte on one core (NOTES.md speed table: MD5 ~470 MiB/s, SHA-1 ~1250,
 * SHA-256 ~1150 with SHA-NI, SHA-512 ~750, SHA3-256 ~450, BLAKE3 in JavaScript ~19).
 */
const COST: Record<Algorithm, number> = { md5: 2.1, sha1: 0.8, sha256: 0.87, sha512: 1.3, 'sha3-256': 2.2, blake3: 50 };

/**
 * Splits algorithms into at most `workers` groups of about equal cost (longest first, each to
 * the least loaded group): with two cores, MD5 alone on one and SHA-1 + SHA-256 on the other.
 */
export function planWorkers(algorithms: readonly Algorithm[], workers: number): Algorithm[][] {
  const n = Math.max(1, Math.min(workers, algorithms.length));
  const groups: { algs: Algorithm[]; load: number }[] = Array.from({ length: n }, () => ({ algs: [], load: 0 }));
  for (const alg of [...algorithms].sort((a, b) => COST[b] - COST[a])) {
    const g = groups.reduce((min, x) => (x.load < min.load ? x : min));
    g.algs.push(alg);
    g.load += COST[alg];
  }
  for (const g of groups) g.algs.sort((a, b) => ALGORITHMS.indexOf(a) - ALGORITHMS.indexOf(b));
  return groups.map((g) => g.algs).filter((a) => a.length > 0);
}

/** Digests of the whole stream, and of its segments and windows when those were asked for. */
export interface StreamDigests {
  hashes: HashSet;
  /** One entry per segment of `segmentSize` bytes (the last may be shorter). */
  segments: HashSet[];
  /** One entry per window of `windowSize` bytes (the last may be shorter). */
  windows: HashSet[];
}

export interface ParallelHasherOptions {
  segmentSize?: number;
  windowSize?: number;
  /** Upper bound on worker threads; default: the number of cores. */
  maxWorkers?: number;
}

/**
 * Hashes a stream that arrives as ranges of shared memory, with the algorithms spread over
 * worker threads so that each core runs its share in parallel (one read, many digests).
 */
export class ParallelHasher {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { remaining: number; resolve: () => void }>();
  private nextId = 0;
  private stopping = false;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;

  constructor(
    buffer: SharedArrayBuffer,
    readonly algorithms: readonly Algorithm[],
    options: ParallelHasherOptions = {},
  ) {
    const { file, execArgv } = workerScript(__dirname, 'worker');
    const groups = planWorkers(algorithms, options.maxWorkers ?? availableParallelism());
    let reject!: (e: Error) => void;
    this.failed = new Promise<never>((_, r) => {
      reject = r;
    });
    this.failed.catch(() => undefined);
    this.workers = groups.map((algs) => {
      const init: WorkerInit = {
        buffer,
        algorithms: algs,
        segmentSize: options.segmentSize ?? 0,
        windowSize: options.windowSize ?? 0,
      };
      const w = new Worker(file, { workerData: init, execArgv });
      w.on('message', (m: WorkerReply) => {
        if (m.type !== 'done') return;
        const p = this.pending.get(m.id);
        if (p && --p.remaining === 0) {
          this.pending.delete(m.id);
          p.resolve();
        }
      });
      const fail = (e: Error) => {
        this.failure ??= e;
        reject(e);
      };
      w.on('error', fail);
      // A worker that dies without an error event (killed, out of memory) must not leave the pipeline waiting forever.
      w.on('exit', (code) => {
        if (!this.stopping) fail(new CustosBug(`hash worker for ${algs.join(', ')} exited unexpectedly (code ${code})`));
      });
      return w;
    });
  }

  /** Feeds `length` bytes at `offset` of the shared buffer; resolves when every worker is done with them. */
  update(offset: number, length: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const done = new Promise<void>((resolve) => {
      this.pending.set(id, { remaining: this.workers.length, resolve });
    });
    const msg: WorkerRequest = { type: 'chunk', id, offset, length };
    for (const w of this.workers) w.postMessage(msg);
    return Promise.race([done, this.failed]);
  }

  /** Collects every digest and stops the workers. Call after the last update has resolved. */
  async finish(): Promise<StreamDigests> {
    const results = await Promise.race([
      Promise.all(
        this.workers.map(
          (w) =>
            new Promise<Extract<WorkerReply, { type: 'result' }>>((resolve) => {
              const onMessage = (m: WorkerReply) => {
                if (m.type === 'result') {
                  w.off('message', onMessage);
                  resolve(m);
                }
              };
              w.on('message', onMessage);
              w.postMessage({ type: 'finish' } satisfies WorkerRequest);
            }),
        ),
      ),
      this.failed,
    ]);
    await this.terminate();
    const merge = (pick: (r: (typeof results)[number]) => Record<string, string>[]): HashSet[] => {
      const count = Math.max(0, ...results.map((r) => pick(r).length));
      return Array.from({ length: count }, (_, i) => ordered(Object.assign({}, ...results.map((r) => pick(r)[i]))));
    };
    return {
      hashes: ordered(Object.assign({}, ...results.map((r) => r.stream))),
      segments: merge((r) => r.segments),
      windows: merge((r) => r.windows),
    };
  }

  /** Stops the workers at once (after a failure or an interruption). */
  async terminate(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The same digests with keys in the canonical algorithm order. */
function ordered(h: Record<string, string>): HashSet {
  const out: HashSet = {};
  for (const a of ALGORITHMS) if (h[a] !== undefined) out[a] = h[a];
  return out;
}
