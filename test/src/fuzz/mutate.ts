/**
 * Seeded mutations of records (JSON documents, text lines, PEM files), for the fuzz tests of the
 * parsers of outside data: the same seed gives the same mutants on every run.
 */

/** xorshift32: a small seeded generator, so every failure reproduces. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  next(): number {
    this.state ^= this.state << 13;
    this.state >>>= 0;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    this.state >>>= 0;
    return this.state / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values that break naive code: huge strings and numbers, wrong types, control characters, deep nesting. */
function hostileValue(r: Rng): Json {
  switch (r.int(16)) {
    case 0:
      return 'A'.repeat(71_000 + r.int(100_000));
    case 1:
      return '/'.repeat(5000) + 'x'.repeat(5000);
    case 2:
      return 1e300;
    case 3:
      return -1;
    case 4:
      return 2 ** 53 + 2;
    case 5:
      return null;
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return '\u0000\u001b[2J\u202e\ud800 \n\r\t';
    case 9:
      return 0.5;
    case 10:
      return Array.from({ length: 1 + r.int(5000) }, (_, i) => ({ seconds: i, bytes: i * 1e6, offset: i * 512, length: 512, firstSector: i, sectorCount: 1 }));
    case 11: {
      let deep: Json = 'bottom';
      for (let i = 0; i < 2000; i++) deep = [deep];
      return deep;
    }
    case 12:
      return '2026-13-45T99:99:99Z';
    case 13:
      return true;
    case 14:
      return 'é'.repeat(20_000);
    default:
      return '';
  }
}

/** Every path to a node of the document (bounded). */
function paths(doc: Json, out: (string | number)[][] = [], at: (string | number)[] = []): (string | number)[][] {
  if (out.length > 5000) return out;
  out.push(at);
  if (Array.isArray(doc)) doc.slice(0, 50).forEach((v, i) => paths(v, out, [...at, i]));
  else if (doc && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) paths(v, out, [...at, k]);
  return out;
}

/** A structural mutation: a node replaced, removed, duplicated or grown; keeps the document JSON. */
export function mutateJson(doc: Json, r: Rng): Json {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  const all = paths(copy).filter((p) => p.length > 0);
  const edits = 1 + r.int(3);
  for (let e = 0; e < edits && all.length > 0; e++) {
    const p = r.pick(all);
    let parent: Json = copy;
    for (const k of p.slice(0, -1)) parent = (parent as Record<string | number, Json>)[k] ?? null;
    if (parent === null || typeof parent !== 'object') continue;
    const key = p[p.length - 1]!;
    const obj = parent as Record<string | number, Json>;
    switch (r.int(5)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete obj[key];
        break;
      case 1:
        if (Array.isArray(obj[key])) {
          const arr = obj[key] as Json[];
          const item = arr[0] ?? 0;
          // Big arrays of small items (a million rate samples); items that are objects stay fewer, so the mutant itself fits in memory.
          const small = item === null || typeof item !== 'object';
          const n = small ? r.pick([10, 1000, 100_000, 1_000_000]) : r.pick([10, 1000, 20_000]);
          (obj as Record<string | number, Json>)[key] = Array.from({ length: n }, () => item);
        } else obj[key] = hostileValue(r);
        break;
      case 2:
        obj[`${String(key)}_extra`] = hostileValue(r);
        break;
      default:
        obj[key] = hostileValue(r);
    }
  }
  return copy;
}

/** A byte-level mutation of text: flips, cuts, inserted junk, duplicated spans. */
export function mutateBytes(data: Buffer, r: Rng): Buffer {
  const b = Buffer.from(data);
  switch (r.int(6)) {
    case 0: {
      for (let i = 0, n = 1 + r.int(8); i < n && b.length > 0; i++) b[r.int(b.length)] ^= 1 << r.int(8);
      return b;
    }
    case 1:
      return b.subarray(0, r.int(b.length + 1));
    case 2: {
      const at = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(r.pick(['\u0000', '\n', '}', '"', '\\u', '{"a":', '\uFFFF', '\r\n', ',,'])), b.subarray(at)]);
    }
    case 3: {
      const from = r.int(b.length + 1);
      const to = Math.min(b.length, from + r.int(4096));
      return Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]);
    }
    case 4:
      return Buffer.concat([b, Buffer.alloc(r.pick([1, 4096, 2 << 20]), r.pick([0x20, 0x41, 0x00, 0x0a]))]);
    default: {
      const at = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + r.int(64) }, () => r.int(256))), b.subarray(at)]);
    }
  }
}
