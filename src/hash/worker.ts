/**
 * A hash worker thread: digests byte ranges of shared memory for its share of the algorithms,
 * keeping the whole-stream digest and, when asked, per-segment and per-window digests.
 * Messages are small ({offset, length}); the bytes are never copied between threads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type Algorithm, createDigester, type Digester } from './algorithms';
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol';

const init = workerData as WorkerInit;
const memory = new Uint8Array(init.buffer);
const algorithms = init.algorithms;

/** Digests of consecutive pieces of the stream, cut every `size` bytes (0: never cut). */
class Pieces {
  readonly done: Record<string, string>[] = [];
  private current: Digester[] | undefined;
  private filled = 0;
  constructor(private readonly size: number) {}

  update(data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      this.current ??= algorithms.map(createDigester);
      const take = this.size > 0 ? Math.min(this.size - this.filled, data.length - at) : data.length - at;
      const part = data.subarray(at, at + take);
      for (const d of this.current) d.update(part);
      this.filled += take;
      at += take;
      if (this.size > 0 && this.filled === this.size) this.close();
    }
  }

  /** Ends the open piece; an empty stream still gets one (empty) piece so its digest exists. */
  finish(): Record<string, string>[] {
    if (this.current || this.done.length === 0) this.close();
    return this.done;
  }

  private close(): void {
    const ds = this.current ?? algorithms.map(createDigester);
    const out: Record<string, string> = {};
    algorithms.forEach((a: Algorithm, i) => {
      out[a] = ds[i]!.digestHex();
    });
    this.done.push(out);
    this.current = undefined;
    this.filled = 0;
  }
}

const stream = new Pieces(0);
const segments = init.segmentSize > 0 ? new Pieces(init.segmentSize) : undefined;
const windows = init.windowSize > 0 ? new Pieces(init.windowSize) : undefined;

parentPort!.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'chunk') {
    const data = memory.subarray(msg.offset, msg.offset + msg.length);
    stream.update(data);
    segments?.update(data);
    windows?.update(data);
    parentPort!.postMessage({ type: 'done', id: msg.id } satisfies WorkerReply);
  } else {
    const reply: WorkerReply = {
      type: 'result',
      stream: stream.finish()[0]!,
      segments: segments?.finish() ?? [],
      windows: windows?.finish() ?? [],
    };
    parentPort!.postMessage(reply);
  }
});
