import type { Algorithm } from './algorithms';

/** What a hash worker is started with. */
export interface WorkerInit {
  buffer: SharedArrayBuffer;
  algorithms: Algorithm[];
  /** Cut per-segment digests every this many bytes (0: none). */
  segmentSize: number;
  /** Cut piecewise (window) digests every this many bytes (0: none). */
  windowSize: number;
}

export type WorkerRequest = { type: 'chunk'; id: number; offset: number; length: number } | { type: 'finish' };

export type WorkerReply =
  | { type: 'done'; id: number }
  | {
      type: 'result';
      stream: Record<string, string>;
      segments: Record<string, string>[];
      windows: Record<string, string>[];
    };
