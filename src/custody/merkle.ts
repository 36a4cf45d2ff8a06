/**
 * The Merkle tree of a custody ledger: RFC 9162 §2.1 (identical to RFC 6962 §2.1), SHA-256.
 *
 * - Leaf hash: SHA-256(0x00 ‖ leaf bytes). Node hash: SHA-256(0x01 ‖ left ‖ right). The root of
 *   the empty tree is SHA-256 of nothing. A tree of n > 1 leaves splits at k, the largest power
 *   of two smaller than n (never by duplicating an odd node).
 * - The leaves of a custody ledger are its lines exactly as stored in CASE/custody.jsonl, without
 *   the trailing newline, in file order: leaf i (0-based) is line i+1. Anyone can recompute its
 *   bytes with `sed -n "$((i+1))p" custody.jsonl | tr -d '\n'` and its leaf hash with
 *   `(printf '\0'; sed -n "$((i+1))p" custody.jsonl | tr -d '\n') | sha256sum`.
 *
 * `MerkleTree` keeps every leaf hash and the root of every complete power-of-two subtree, filled
 * in as leaves are appended (2n hashes of memory, one node hash per append on average), so a root
 * at any earlier size or a proof costs O(log² n) hashes, never a pass over the tree. The verifiers
 * are the bit-shifting algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 and need no tree at all.
 */
import { hash as oneShotHash } from 'node:crypto';
import { CustosBug, CustosError } from '../errors';

/** Bytes of a SHA-256 hash: every leaf hash, node hash, root and proof element. */
export const HASH_BYTES = 32;
/** Most hashes a proof custos accepts: a proof in a tree of up to 2^53 - 1 leaves has at most 54. */
export const MAX_PROOF_HASHES = 64;
/** Most leaves a `MerkleTree` holds in memory (2^26 ≈ 67 million ledger entries, 4 GiB of hashes). */
export const MAX_TREE_LEAVES = 2 ** 26;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/**
 * SHA-256 (FIPS 180-4) by OpenSSL in one call: crypto.hash (Node ≥ 20.12) skips the Hash object
 * of createHash, which makes the 2n hashes of a tree about 1.5 times faster.
 */
const sha256 = (data: Uint8Array): Buffer => oneShotHash('sha256', data, 'buffer');

const EMPTY_ROOT = sha256(Buffer.alloc(0));

/** The root of the empty tree, SHA-256("") (RFC 9162 §2.1.1). A fresh copy each call. */
export function emptyRoot(): Buffer {
  return Buffer.from(EMPTY_ROOT);
}

/** The leaf hash SHA-256(0x00 ‖ data) (RFC 9162 §2.1.1); a string is taken as its UTF-8 bytes. */
export function leafHash(data: Uint8Array | string): Buffer {
  const length = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
  const input = Buffer.allocUnsafe(1 + length);
  input[0] = LEAF_PREFIX;
  if (typeof data === 'string') input.write(data, 1, 'utf8');
  else input.set(data, 1);
  return sha256(input);
}

// One buffer for the 65 bytes of every node hash of two SHA-256 hashes, the hot path.
const nodeInput = Buffer.alloc(1 + 2 * HASH_BYTES);
nodeInput[0] = NODE_PREFIX;

/** The interior node hash SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1), for inputs of any length. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) return sha256(Buffer.concat([Buffer.from([NODE_PREFIX]), left, right]));
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_BYTES);
  return sha256(nodeInput);
}

function invalid(message: string, hint: string): CustosError {
  return new CustosError('INVALID_INPUT', message, { hint });
}

/** Throws unless `value` is a whole number in 0..max (and so exact in a JavaScript number). */
function checkCount(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw invalid(`Merkle tree: ${what} must be a whole number from 0 to ${max}, not ${String(value).slice(0, 40)}`, 'Give the size or index as recorded in the checkpoint.');
  }
}

/** Throws unless `hash` is 32 bytes. */
function checkHash(hash: unknown, what: string): asserts hash is Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) {
    const got = hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash;
    throw invalid(`Merkle tree: ${what} must be a SHA-256 hash of ${HASH_BYTES} bytes, not ${got}`, 'Decode the hash from its base64 or hex form before passing it.');
  }
}

/** Throws unless `proof` is an array of at most MAX_PROOF_HASHES hashes of 32 bytes. */
function checkProof(proof: unknown, what: string): asserts proof is readonly Uint8Array[] {
  if (!Array.isArray(proof)) throw invalid(`Merkle tree: the ${what} proof must be a list of hashes`, 'Give the proof as a list of 32-byte hashes.');
  if (proof.length > MAX_PROOF_HASHES) {
    throw invalid(`Merkle tree: the ${what} proof has ${proof.length} hashes, more than the ${MAX_PROOF_HASHES} any tree custos can hold needs`, 'The proof is not a proof of this tree; get it again from its source.');
  }
  proof.forEach((h, i) => checkHash(h, `hash ${i} of the ${what} proof`));
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** The largest power of two smaller than n, for n ≥ 2 (the split point k of RFC 9162 §2.1.1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The height of the largest power of two not above n, for 1 ≤ n < 2^53. */
function floorLog2(n: number): number {
  return n < 2 ** 32 ? 31 - Math.clz32(n) : 32 + floorLog2(Math.floor(n / 2 ** 32));
}

/**
 * An append-only RFC 9162 Merkle tree over leaf hashes (§2.1.1), with the roots of its earlier
 * sizes, inclusion proofs (§2.1.3.1) and consistency proofs (§2.1.4.1).
 */
export class MerkleTree {
  /**
   * levels[h] holds, back to back, the roots of the complete subtrees of 2^h leaves, left to
   * right: levels[0] the leaf hashes, levels[1] the hashes of leaf pairs, and so on.
   */
  private readonly levels: Buffer[] = [];
  private leaves = 0;

  /** A tree of these leaf hashes, in order. */
  static from(leafHashes: Iterable<Uint8Array>): MerkleTree {
    const tree = new MerkleTree();
    for (const h of leafHashes) tree.append(h);
    return tree;
  }

  /** The number of leaves. */
  get size(): number {
    return this.leaves;
  }

  /** Appends the next leaf by its leaf hash (see `leafHash`); returns its index. */
  append(hash: Uint8Array): number {
    checkHash(hash, 'a leaf hash');
    if (this.leaves >= MAX_TREE_LEAVES) {
      throw invalid(`Merkle tree: more than ${MAX_TREE_LEAVES} leaves`, 'Split the ledger; custos keeps the whole tree in memory.');
    }
    const index = this.leaves++;
    this.store(0, index, hash);
    // Every completed pair makes a parent, up to where the new leaf is a left child. The two
    // children lie side by side in their level: one copy makes the node hash's input.
    let i = index;
    for (let h = 0; i % 2 === 1; h++, i = (i - 1) / 2) {
      this.levels[h]!.copy(nodeInput, 1, (i - 1) * HASH_BYTES, (i + 1) * HASH_BYTES);
      this.store(h + 1, (i - 1) / 2, sha256(nodeInput));
    }
    return index;
  }

  /** The hash of leaf `index`. */
  leafHashAt(index: number): Buffer {
    checkCount(index, 'the leaf index');
    if (index >= this.leaves) throw invalid(`Merkle tree: no leaf ${index} in a tree of ${this.leaves}`, 'Ask for a leaf before the tree size.');
    return Buffer.from(this.node(0, index));
  }

  /** MTH of the first `size` leaves (RFC 9162 §2.1.1): the root a checkpoint of that size records. */
  root(size: number = this.leaves): Buffer {
    this.checkSize(size, 'the tree size');
    return size === 0 ? emptyRoot() : Buffer.from(this.rangeHash(0, size));
  }

  /** PATH(index, D[size]) (RFC 9162 §2.1.3.1): the hashes that lead from leaf `index` to the root at `size`. */
  inclusionProof(index: number, size: number = this.leaves): Buffer[] {
    this.checkSize(size, 'the tree size');
    checkCount(index, 'the leaf index');
    if (index >= size) throw invalid(`Merkle tree: leaf ${index} is not in a tree of ${size}`, 'The leaf index must be smaller than the tree size.');
    const out: Buffer[] = [];
    this.path(index, 0, size, out);
    return out.map((h) => Buffer.from(h));
  }

  /** PROOF(oldSize, D[newSize]) (RFC 9162 §2.1.4.1): the hashes that show the tree at `oldSize` is a prefix of the tree at `newSize`. */
  consistencyProof(oldSize: number, newSize: number = this.leaves): Buffer[] {
    this.checkSize(newSize, 'the new tree size');
    checkCount(oldSize, 'the old tree size');
    if (oldSize > newSize) throw invalid(`Merkle tree: the old size ${oldSize} is larger than the new size ${newSize}`, 'Give the earlier checkpoint first.');
    const out: Buffer[] = [];
    // Every tree extends the empty tree, and itself, with nothing to show.
    if (oldSize > 0 && oldSize < newSize) this.subproof(oldSize, 0, newSize, true, out);
    return out.map((h) => Buffer.from(h));
  }

  private checkSize(size: unknown, what: string): asserts size is number {
    checkCount(size, what);
    if (size > this.leaves) throw invalid(`Merkle tree: ${what} ${size} is larger than the tree, which has ${this.leaves} leaves`, 'The ledger holds fewer entries than the checkpoint says: entries were removed.');
  }

  /** Writes the root of subtree `index` at height h; levels grow by doubling. */
  private store(h: number, index: number, hash: Uint8Array): void {
    let level = this.levels[h];
    const end = (index + 1) * HASH_BYTES;
    if (!level || level.length < end) {
      const grown = Buffer.alloc(Math.max(end, Math.min(2 * (level?.length ?? 0), MAX_TREE_LEAVES * HASH_BYTES), 64 * HASH_BYTES));
      level?.copy(grown);
      this.levels[h] = level = grown;
    }
    level.set(hash, index * HASH_BYTES);
  }

  /** The root of complete subtree `index` at height h (a view: never handed out). */
  private node(h: number, index: number): Buffer {
    const level = this.levels[h];
    if (!level || (index + 1) * HASH_BYTES > level.length) throw new CustosBug(`MerkleTree: no subtree ${index} at height ${h}`);
    return level.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }

  /**
   * MTH(D[start:end]) for the ranges the RFC recursion produces: `start` is a multiple of the
   * largest power of two not above the length, so the range is complete subtrees, largest first.
   */
  private rangeHash(start: number, end: number): Buffer {
    const parts: Buffer[] = [];
    for (let pos = start; pos < end; ) {
      const h = floorLog2(end - pos);
      const width = 2 ** h;
      if (pos % width !== 0) throw new CustosBug(`MerkleTree: range ${start}..${end} is not aligned at ${pos}`);
      parts.push(this.node(h, pos / width));
      pos += width;
    }
    let acc = parts[parts.length - 1]!;
    for (let i = parts.length - 2; i >= 0; i--) acc = nodeHash(parts[i]!, acc);
    return acc;
  }

  /** PATH(m, D[start:end]) appended to out, deepest hash first. */
  private path(m: number, start: number, end: number, out: Buffer[]): void {
    const n = end - start;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      this.path(m, start, start + k, out);
      out.push(this.rangeHash(start + k, end));
    } else {
      this.path(m - k, start + k, end, out);
      out.push(this.rangeHash(start, start + k));
    }
  }

  /** SUBPROOF(m, D[start:end], b) appended to out. */
  private subproof(m: number, start: number, end: number, complete: boolean, out: Buffer[]): void {
    const n = end - start;
    if (m === n) {
      if (!complete) out.push(this.rangeHash(start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      this.subproof(m, start, start + k, complete, out);
      out.push(this.rangeHash(start + k, end));
    } else {
      this.subproof(m - k, start + k, end, false, out);
      out.push(this.rangeHash(start, start + k));
    }
  }
}

// The verifiers shift with arithmetic, not JavaScript's 32-bit bit operators, so that any size up
// to 2^53 - 1 is exact.
const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * Verifies that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves whose root is
 * `root`, by the algorithm of RFC 9162 §2.1.3.2. False when the proof does not lead to the root;
 * INVALID_INPUT when the inputs are malformed (a hash not 32 bytes, index ≥ size, proof longer
 * than MAX_PROOF_HASHES).
 */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  checkHash(leaf, 'the leaf hash');
  checkHash(root, 'the root hash');
  checkProof(proof, 'inclusion');
  checkCount(size, 'the tree size');
  checkCount(index, 'the leaf index');
  if (index >= size) throw invalid(`Merkle tree: leaf ${index} is not in a tree of ${size}`, 'The leaf index must be smaller than the tree size.');
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(r, root);
}

/**
 * Verifies that the tree of `oldSize` leaves with root `oldRoot` is a prefix of the tree of
 * `newSize` leaves with root `newRoot`, by the algorithm of RFC 9162 §2.1.4.2. Equal sizes need
 * an empty proof and equal roots; old size 0 needs an empty proof and the empty-tree root. False
 * when the proof does not match; INVALID_INPUT when the inputs are malformed (a hash not 32
 * bytes, oldSize > newSize, proof longer than MAX_PROOF_HASHES).
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  checkHash(oldRoot, 'the old root hash');
  checkHash(newRoot, 'the new root hash');
  checkProof(proof, 'consistency');
  checkCount(oldSize, 'the old tree size');
  checkCount(newSize, 'the new tree size');
  if (oldSize > newSize) throw invalid(`Merkle tree: the old size ${oldSize} is larger than the new size ${newSize}`, 'Give the earlier checkpoint first.');
  if (oldSize === 0) return proof.length === 0 && equal(oldRoot, EMPTY_ROOT) && (newSize > 0 || equal(newRoot, EMPTY_ROOT));
  if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // Step 2: when the old tree is a complete subtree, its root is the proof's implicit first hash.
  const path: readonly Uint8Array[] = 2 ** floorLog2(oldSize) === oldSize ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
}
