import { type Algorithm, createDigester, type Digester } from './algorithms';

/** Digests keyed by algorithm, lowercase hex. */
export type HashSet = Partial<Record<Algorithm, string>>;

/** Several algorithms fed from one pass over the bytes: each chunk is read once and given to every digester. */
export class MultiHasher {
  readonly algorithms: readonly Algorithm[];
  private readonly digesters: Digester[];
  private finished = false;
  private count = 0;

  constructor(algorithms: readonly Algorithm[]) {
    this.algorithms = [...algorithms];
    this.digesters = this.algorithms.map(createDigester);
  }

  /** Bytes fed so far. */
  get bytes(): number {
    return this.count;
  }

  update(data: Uint8Array): void {
    if (this.finished) throw new Error('MultiHasher.update after digest');
    for (const d of this.digesters) d.update(data);
    this.count += data.length;
  }

  digest(): HashSet {
    if (this.finished) throw new Error('MultiHasher.digest called twice');
    this.finished = true;
    const out: HashSet = {};
    this.algorithms.forEach((alg, i) => {
      out[alg] = this.digesters[i]!.digestHex();
    });
    return out;
  }
}

/** Hashes a whole in-memory buffer with every algorithm given. */
export function hashBytes(data: Uint8Array, algorithms: readonly Algorithm[]): HashSet {
  const h = new MultiHasher(algorithms);
  h.update(data);
  return h.digest();
}
