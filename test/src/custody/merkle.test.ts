/**
 * The RFC 9162 Merkle tree against published known answers (transparency-dev/merkle), against an
 * independent Python implementation of the RFC's recursive definitions, and against coreutils for
 * the leaf of a ledger line; the verifiers against mutated proofs and malformed input.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import { emptyRoot, HASH_BYTES, leafHash, MAX_PROOF_HASHES, MerkleTree, nodeHash, verifyConsistency, verifyInclusion } from '../../../src/custody/merkle';
import { hasTool, makeTempDir, pseudoRandomBytes, ROOT } from '../../helpers';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'merkle');

interface Vectors {
  hasher: { emptyRoot: string; emptyLeaf: string; leaf: { data: string; hash: string }; node: { left: string; right: string; hash: string } };
  tree: {
    leaves: string[];
    roots: string[];
    inclusionProofs: { leaf: number; size: number; proof: string[] | null }[];
    consistencyProofs: { size1: number; size2: number; proof: string[] | null }[];
  };
  testdata: {
    inclusion: { path: string; vector: { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean } }[];
    consistency: { path: string; vector: { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean } }[];
  };
}
const V = JSON.parse(readFileSync(join(FIXTURES, 'transparency-dev-vectors.json'), 'utf8')) as Vectors;

const hex = (h: string) => Buffer.from(h, 'hex');
const b64 = (h: string) => Buffer.from(h, 'base64');
const toHex = (hs: Buffer[]) => hs.map((h) => h.toString('hex'));

/** The classic 8 leaves of the CT tests, as a tree. */
const ctTree = () => MerkleTree.from(V.tree.leaves.map((l) => leafHash(hex(l))));

/**
 * 'true', 'false', or 'invalid' for a CustosError INVALID_INPUT; anything else thrown fails the test.
 * A proof is rejected when it is 'false' or 'invalid'.
 */
function outcome(verify: () => boolean): 'true' | 'false' | 'invalid' {
  try {
    return verify() ? 'true' : 'false';
  } catch (err) {
    if (isCustosError(err) && err.code === 'INVALID_INPUT') return 'invalid';
    throw err;
  }
}

/** xorshift32, for seeded random sizes. */
function rng(seed: number): (below: number) => number {
  let x = seed >>> 0 || 1;
  return (below) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % below;
  };
}

const flipBit = (proof: Buffer[], i: number, mask: number) => proof.map((h, j) => (j === i ? Buffer.from(h.map((b, k) => (k === 0 ? b ^ mask : b))) : h));
const someHash = hex('abacaba000000000000000000000000000000000000000000060061e00123456');

describe('RFC 6962 hashing (transparency-dev/merkle rfc6962_test.go)', () => {
  test('empty root, empty leaf, a leaf and a node have the published hashes', () => {
    expect(emptyRoot().toString('hex')).toBe(V.hasher.emptyRoot);
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(V.hasher.emptyLeaf);
    expect(leafHash('').toString('hex')).toBe(V.hasher.emptyLeaf);
    expect(leafHash(V.hasher.leaf.data).toString('hex')).toBe(V.hasher.leaf.hash);
    expect(leafHash(Buffer.from(V.hasher.leaf.data)).toString('hex')).toBe(V.hasher.leaf.hash);
    expect(nodeHash(Buffer.from(V.hasher.node.left), Buffer.from(V.hasher.node.right)).toString('hex')).toBe(V.hasher.node.hash);
  });

  test('a node of two 32-byte hashes is SHA-256(0x01 ‖ left ‖ right), and order matters', () => {
    const [a, b] = [leafHash('Hello'), leafHash('World')];
    const viaOpenssl = spawnSync('openssl', ['dgst', '-sha256', '-binary'], { input: Buffer.concat([Buffer.from([1]), a, b]) }).stdout;
    expect(nodeHash(a, b).equals(viaOpenssl)).toBe(true);
    expect(nodeHash(a, b).equals(nodeHash(b, a))).toBe(false);
    // Second-preimage resistance: a node is not the leaf of its children's concatenation.
    expect(nodeHash(a, b).equals(leafHash(Buffer.concat([a, b])))).toBe(false);
  });

  test('emptyRoot hands out a copy', () => {
    emptyRoot().fill(0);
    expect(emptyRoot().toString('hex')).toBe(V.hasher.emptyRoot);
  });
});

describe('the CT test tree of 8 leaves (transparency-dev/merkle proof/verify_test.go)', () => {
  test('roots of sizes 0..8', () => {
    const tree = ctTree();
    expect(tree.size).toBe(8);
    expect(tree.root(0).toString('hex')).toBe(V.hasher.emptyRoot);
    for (let n = 1; n <= 8; n++) expect(tree.root(n).toString('hex')).toBe(V.tree.roots[n - 1]);
    expect(tree.root().toString('hex')).toBe(V.tree.roots[7]);
    // Growing one leaf at a time gives each root as soon as the leaf is in.
    const growing = new MerkleTree();
    V.tree.leaves.forEach((l, i) => {
      expect(growing.append(leafHash(hex(l)))).toBe(i);
      expect(growing.root().toString('hex')).toBe(V.tree.roots[i]);
    });
  });

  test.each(V.tree.inclusionProofs.slice(1))('inclusion proof of leaf $leaf (1-based) in a tree of $size', ({ leaf, size, proof }) => {
    const tree = ctTree();
    const index = leaf - 1;
    const expected = proof ?? [];
    expect(toHex(tree.inclusionProof(index, size))).toEqual(expected);
    const leafH = tree.leafHashAt(index);
    const root = hex(V.tree.roots[size - 1]!);
    const p = expected.map(hex);
    expect(verifyInclusion(leafH, index, size, p, root)).toBe(true);

    // The probes of the Go test: each must be rejected (false, or INVALID_INPUT when malformed).
    const probes: [string, () => boolean][] = [
      ['index - 1', () => verifyInclusion(leafH, index - 1, size, p, root)],
      ['index + 1', () => verifyInclusion(leafH, index + 1, size, p, root)],
      ['index ^ 2', () => verifyInclusion(leafH, index ^ 2, size, p, root)],
      ['size * 2', () => verifyInclusion(leafH, index, size * 2, p, root)],
      ['size / 2', () => verifyInclusion(leafH, index, Math.floor(size / 2), p, root)],
      ['wrong leaf', () => verifyInclusion(leafHash('WrongLeaf'), index, size, p, root)],
      ['empty root', () => verifyInclusion(leafH, index, size, p, emptyRoot())],
      ['random root', () => verifyInclusion(leafH, index, size, p, someHash)],
      ['trailing garbage', () => verifyInclusion(leafH, index, size, [...p, Buffer.alloc(0)], root)],
      ['trailing root', () => verifyInclusion(leafH, index, size, [...p, root], root)],
      ['preceding garbage', () => verifyInclusion(leafH, index, size, [Buffer.alloc(0), ...p], root)],
      ['preceding root', () => verifyInclusion(leafH, index, size, [root, ...p], root)],
      ...p.map((_, i): [string, () => boolean] => [`modified proof[${i}] bit 3`, () => verifyInclusion(leafH, index, size, flipBit(p, i, 8), root)]),
      ...(p.length > 0 ? [['removed component', () => verifyInclusion(leafH, index, size, p.slice(0, -1), root)] as [string, () => boolean]] : []),
      ...(p.length > 1 ? [['inserted component', () => verifyInclusion(leafH, index, size, [p[0]!, someHash, ...p.slice(1)], root)] as [string, () => boolean]] : []),
    ];
    for (const [what, probe] of probes) expect([what, outcome(probe)]).not.toEqual([what, 'true']);
  });

  test('the first vector of the Go test (leaf 0 of a tree of 0) is no proof at all', () => {
    expect(outcome(() => verifyInclusion(someHash, 0, 0, [], emptyRoot()))).toBe('invalid');
    expect(() => ctTree().inclusionProof(0, 0)).toThrow(/not in a tree of 0/);
  });

  test.each(V.tree.consistencyProofs)('consistency proof from $size1 to $size2', ({ size1, size2, proof }) => {
    const tree = ctTree();
    const expected = proof ?? [];
    expect(toHex(tree.consistencyProof(size1, size2))).toEqual(expected);
    const [root1, root2] = [hex(V.tree.roots[size1 - 1]!), hex(V.tree.roots[size2 - 1]!)];
    const p = expected.map(hex);
    expect(verifyConsistency(size1, size2, root1, root2, p)).toBe(true);
    if (p.length === 0) return;

    const probes: [string, () => boolean][] = [
      ['size1 - 1', () => verifyConsistency(size1 - 1, size2, root1, root2, p)],
      ['size1 + 1', () => verifyConsistency(size1 + 1, size2, root1, root2, p)],
      ['size1 ^ 2', () => verifyConsistency(size1 ^ 2, size2, root1, root2, p)],
      ['size2 * 2', () => verifyConsistency(size1, size2 * 2, root1, root2, p)],
      ['size2 / 2', () => verifyConsistency(size1, Math.floor(size2 / 2), root1, root2, p)],
      ['wrong root1', () => verifyConsistency(size1, size2, Buffer.from('WrongRoot'), root2, p)],
      ['wrong root2', () => verifyConsistency(size1, size2, root1, Buffer.from('WrongRoot'), p)],
      ['random root1', () => verifyConsistency(size1, size2, someHash, root2, p)],
      ['random root2', () => verifyConsistency(size1, size2, root1, someHash, p)],
      ['swapped roots', () => verifyConsistency(size1, size2, root2, root1, p)],
      ['empty proof', () => verifyConsistency(size1, size2, root1, root2, [])],
      ['trailing garbage', () => verifyConsistency(size1, size2, root1, root2, [...p, Buffer.alloc(0)])],
      ['trailing root1', () => verifyConsistency(size1, size2, root1, root2, [...p, root1])],
      ['trailing root2', () => verifyConsistency(size1, size2, root1, root2, [...p, root2])],
      ['preceding garbage', () => verifyConsistency(size1, size2, root1, root2, [Buffer.alloc(0), ...p])],
      ['preceding root1', () => verifyConsistency(size1, size2, root1, root2, [root1, ...p])],
      ['preceding root2', () => verifyConsistency(size1, size2, root1, root2, [root2, ...p])],
      ['preceding proof[0]', () => verifyConsistency(size1, size2, root1, root2, [p[0]!, ...p])],
      ['truncated proof', () => verifyConsistency(size1, size2, root1, root2, p.slice(0, -1))],
      ...p.map((_, i): [string, () => boolean] => [`modified proof[${i}] bit 4`, () => verifyConsistency(size1, size2, root1, root2, flipBit(p, i, 16))]),
    ];
    for (const [what, probe] of probes) expect([what, outcome(probe)]).not.toEqual([what, 'true']);
  });
});

describe('the recorded vectors of transparency-dev/merkle testdata/', () => {
  test.each(V.testdata.inclusion)('inclusion $path', ({ vector: v }) => {
    const result = outcome(() => verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, (v.proof ?? []).map(b64), b64(v.root)));
    if (v.wantErr) expect(result).not.toBe('true');
    else expect(result).toBe('true');
  });

  test.each(V.testdata.consistency)('consistency $path', ({ vector: v }) => {
    const result = outcome(() => verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), (v.proof ?? []).map(b64)));
    if (v.wantErr) expect(result).not.toBe('true');
    else expect(result).toBe('true');
  });

  test('the happy paths are the proofs custos makes for the CT tree', () => {
    const tree = ctTree();
    for (const { vector: v } of V.testdata.inclusion.filter((c) => !c.vector.wantErr)) {
      expect(tree.inclusionProof(v.leafIdx, v.treeSize).map((h) => h.toString('base64'))).toEqual(v.proof ?? []);
      expect(tree.root(v.treeSize).toString('base64')).toBe(v.root);
    }
    for (const { vector: v } of V.testdata.consistency.filter((c) => !c.vector.wantErr)) {
      expect(tree.consistencyProof(v.size1, v.size2).map((h) => h.toString('base64'))).toEqual(v.proof ?? []);
    }
  });
});

describe('an independent implementation (Python, from the RFC text) agrees', () => {
  const python = hasTool('python3');

  (python ? test : test.skip)('roots, inclusion and consistency proofs for random sizes up to 300 (seeded)', () => {
    const next = rng(0x9162);
    // Leaves of random length 0..199, some of them empty.
    const leaves = Array.from({ length: 300 }, (_, i) => pseudoRandomBytes(next(200), 1 + i));
    const sizes = Array.from({ length: 301 }, (_, n) => n);
    const paths: [number, number][] = [];
    const proofs: [number, number][] = [];
    for (let i = 0; i < 400; i++) {
      const n = 1 + next(300);
      paths.push([next(n), n]);
      proofs.push([1 + next(n), n]);
    }
    // The edges: first and last leaf, old size 1 and old size = new size, powers of two and their neighbours.
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 255, 256, 257, 300]) {
      paths.push([0, n], [n - 1, n]);
      proofs.push([1, n], [n, n]);
      for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256]) if (m < n) proofs.push([m, n], [m + 1, n]);
    }
    const r = spawnSync('python3', [join(FIXTURES, 'rfc9162_reference.py')], {
      input: JSON.stringify({ leaves: leaves.map((l) => l.toString('hex')), roots: sizes, paths, proofs }),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const ref = JSON.parse(r.stdout) as { leafHashes: string[]; roots: string[]; paths: string[][]; proofs: string[][] };

    const tree = MerkleTree.from(leaves.map((l) => leafHash(l)));
    expect(leaves.map((l) => leafHash(l).toString('hex'))).toEqual(ref.leafHashes);
    expect(sizes.map((n) => tree.root(n).toString('hex'))).toEqual(ref.roots);
    expect(paths.map(([m, n]) => toHex(tree.inclusionProof(m, n)))).toEqual(ref.paths);
    expect(proofs.map(([m, n]) => toHex(tree.consistencyProof(m, n)))).toEqual(ref.proofs);

    // custos' verifiers accept the Python proofs, and reject them for another leaf or size.
    paths.forEach(([m, n], i) => {
      const proof = ref.paths[i]!.map(hex);
      const root = hex(ref.roots[n]!);
      expect(verifyInclusion(hex(ref.leafHashes[m]!), m, n, proof, root)).toBe(true);
      if (n > 1) expect(verifyInclusion(hex(ref.leafHashes[(m + 1) % n]!), m, n, proof, root)).toBe(false);
      if ((m ^ 1) < n) expect(verifyInclusion(hex(ref.leafHashes[m]!), m ^ 1, n, proof, root)).toBe(false);
    });
    proofs.forEach(([m, n], i) => {
      const proof = ref.proofs[i]!.map(hex);
      const [oldRoot, newRoot] = [hex(ref.roots[m]!), hex(ref.roots[n]!)];
      expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);
      if (m < n) {
        expect(verifyConsistency(m, n, hex(ref.roots[m - 1]!), newRoot, proof)).toBe(false);
        expect(outcome(() => verifyConsistency(m, n - 1, oldRoot, hex(ref.roots[n - 1]!), proof))).not.toBe('true');
      }
    });
  });
});

describe('every proof of small trees verifies, and fails once any leaf changes', () => {
  test('all leaves and all pairs of sizes up to 33', () => {
    const N = 33;
    const hashes = Array.from({ length: N }, (_, i) => leafHash(`leaf ${i}`));
    const tree = MerkleTree.from(hashes);
    for (let n = 1; n <= N; n++) {
      const root = tree.root(n);
      for (let i = 0; i < n; i++) {
        const proof = tree.inclusionProof(i, n);
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusion(hashes[i]!, i, n, proof, root)).toBe(true);
      }
      for (let m = 0; m <= n; m++) expect(verifyConsistency(m, n, tree.root(m), root, tree.consistencyProof(m, n))).toBe(true);
    }
    // A ledger rewritten at entry j: no proof from the old tree to the new one exists, and the old proofs fail.
    for (let j = 0; j < N; j += 5) {
      const forged = MerkleTree.from(hashes.map((h, i) => (i === j ? leafHash(`forged ${i}`) : h)));
      for (let m = j + 1; m <= N; m += 3) {
        expect(verifyConsistency(m, N, tree.root(m), forged.root(N), forged.consistencyProof(m, N))).toBe(false);
        expect(verifyConsistency(m, N, tree.root(m), forged.root(N), tree.consistencyProof(m, N))).toBe(false);
      }
      expect(verifyInclusion(hashes[j]!, j, N, forged.inclusionProof(j, N), forged.root(N))).toBe(false);
    }
  });

  test('a truncated ledger is not consistent with a checkpoint taken before', () => {
    const hashes = Array.from({ length: 20 }, (_, i) => leafHash(`entry ${i}`));
    const tree = MerkleTree.from(hashes);
    const checkpoint = { size: 20, root: tree.root(20) };
    // Cut back to 15 and grown again by 5 other entries: same size, other root, no proof either way.
    const regrown = MerkleTree.from([...hashes.slice(0, 15), ...Array.from({ length: 5 }, (_, i) => leafHash(`other ${i}`))]);
    expect(regrown.root(20).equals(checkpoint.root)).toBe(false);
    expect(verifyConsistency(20, 20, checkpoint.root, regrown.root(20), [])).toBe(false);
    const truncated = MerkleTree.from(hashes.slice(0, 15));
    expect(() => truncated.consistencyProof(15, 20)).toThrow(/new tree size 20 is larger than the tree, which has 15 leaves/);
    expect(() => truncated.consistencyProof(20)).toThrow(/old size 20 is larger than the new size 15/);
  });
});

describe('the leaf of a ledger line, recomputed with sed and sha256sum', () => {
  (hasTool('sed') && hasTool('sha256sum') ? test : test.skip)('the documented shell line gives the leaf hash of each line', () => {
    const tmp = makeTempDir();
    try {
      const lines = ['{"seq":0,"case":"2026-0314-HARBOUR","text":"Größe – 证据 ✓"}', '{"seq":1,"note":"tab\\there"}', '{"seq":2}'];
      const file = join(tmp.dir, 'custody.jsonl');
      writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
      lines.forEach((line, i) => {
        const r = spawnSync('sh', ['-c', `(printf '\\0'; sed -n "$((${i}+1))p" "$1" | tr -d '\\n') | sha256sum`, 'sh', file], { encoding: 'utf8' });
        expect(r.status).toBe(0);
        expect(r.stdout.split(/\s+/)[0]).toBe(leafHash(line).toString('hex'));
        expect(r.stdout.split(/\s+/)[0]).toBe(leafHash(Buffer.from(line, 'utf8')).toString('hex'));
      });
    } finally {
      tmp.cleanup();
    }
  });
});

describe('malformed input is an INVALID_INPUT, never a crash or a hang', () => {
  const tree = ctTree();
  const root = tree.root();
  const leaf0 = tree.leafHashAt(0);
  const proof0 = tree.inclusionProof(0);

  test.each([
    ['a 31-byte leaf hash', () => verifyInclusion(leaf0.subarray(1), 0, 8, proof0, root), /leaf hash must be a SHA-256 hash of 32 bytes, not 31 bytes/],
    ['a 33-byte root', () => verifyInclusion(leaf0, 0, 8, proof0, Buffer.concat([root, Buffer.alloc(1)])), /root hash must be .* not 33 bytes/],
    ['a string as a root', () => verifyInclusion(leaf0, 0, 8, proof0, root.toString('hex') as unknown as Buffer), /not string/],
    ['a 31-byte proof hash', () => verifyInclusion(leaf0, 0, 8, [proof0[0]!, proof0[1]!.subarray(1), proof0[2]!], root), /hash 1 of the inclusion proof/],
    ['a proof that is not a list', () => verifyInclusion(leaf0, 0, 8, 'abc' as unknown as Buffer[], root), /must be a list/],
    ['index = size', () => verifyInclusion(leaf0, 8, 8, proof0, root), /leaf 8 is not in a tree of 8/],
    ['size 0', () => verifyInclusion(leaf0, 0, 0, [], root), /leaf 0 is not in a tree of 0/],
    ['a negative index', () => verifyInclusion(leaf0, -1, 8, proof0, root), /leaf index must be a whole number/],
    ['a fractional size', () => verifyInclusion(leaf0, 0, 7.5, proof0, root), /tree size must be a whole number/],
    ['NaN', () => verifyInclusion(leaf0, NaN, 8, proof0, root), /not NaN/],
    ['a size above 2^53 - 1', () => verifyInclusion(leaf0, 0, 2 ** 53, proof0, root), /from 0 to 9007199254740991/],
    ['65 proof hashes', () => verifyInclusion(leaf0, 0, 8, Array.from({ length: MAX_PROOF_HASHES + 1 }, () => leaf0), root), /65 hashes, more than the 64/],
    ['old size > new size', () => verifyConsistency(8, 7, root, root, []), /old size 8 is larger than the new size 7/],
    ['a 31-byte old root', () => verifyConsistency(6, 8, root.subarray(1), root, proof0), /old root hash/],
    ['65 consistency hashes', () => verifyConsistency(6, 8, root, root, Array.from({ length: 65 }, () => leaf0)), /65 hashes/],
    ['appending a 31-byte leaf hash', () => new MerkleTree().append(leaf0.subarray(1)), /a leaf hash must be/],
    ['a root of a size beyond the tree', () => tree.root(9), /tree size 9 is larger than the tree, which has 8 leaves/],
    ['an inclusion proof of a leaf beyond the size', () => tree.inclusionProof(5, 5), /leaf 5 is not in a tree of 5/],
    ['a consistency proof from a larger size', () => tree.consistencyProof(6, 5), /old size 6 is larger than the new size 5/],
    ['a leaf beyond the tree', () => tree.leafHashAt(8), /no leaf 8 in a tree of 8/],
  ] as [string, () => unknown, RegExp][])('%s', (_what, call, message) => {
    let caught: unknown;
    try {
      call();
    } catch (err) {
      caught = err;
    }
    expect(isCustosError(caught) && caught.code).toBe('INVALID_INPUT');
    expect((caught as Error).message).toMatch(message);
    expect((caught as { hint?: string }).hint).toBeTruthy();
  });

  test('the largest sizes end quickly with false, whatever the proof', () => {
    const next = rng(53);
    const max = Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < 200; i++) {
      const proof = Array.from({ length: 1 + next(MAX_PROOF_HASHES) }, (_, j) => pseudoRandomBytes(HASH_BYTES, i * 100 + j + 1));
      const index = max - 1 - next(1000);
      expect(verifyInclusion(leaf0, index, max, proof, root)).toBe(false);
      expect(verifyInclusion(leaf0, next(1000), max - next(1000), proof, root)).toBe(false);
      expect(verifyConsistency(max - 1 - next(1000), max, root, root, proof)).toBe(false);
      expect(verifyConsistency(2 ** 52 + next(1000), max, root, root, proof)).toBe(false);
      expect(verifyConsistency(1 + next(1000), 2 ** 52, root, root, proof)).toBe(false);
    }
  });

  test('equal sizes need equal roots and no proof; size 0 the empty root', () => {
    expect(verifyConsistency(8, 8, root, root, [])).toBe(true);
    expect(verifyConsistency(8, 8, root, tree.root(7), [])).toBe(false);
    expect(verifyConsistency(8, 8, root, root, [root])).toBe(false);
    expect(verifyConsistency(0, 8, emptyRoot(), root, [])).toBe(true);
    expect(verifyConsistency(0, 8, someHash, root, [])).toBe(false);
    expect(verifyConsistency(0, 8, emptyRoot(), root, [root])).toBe(false);
    expect(verifyConsistency(0, 0, emptyRoot(), emptyRoot(), [])).toBe(true);
    expect(verifyConsistency(0, 0, emptyRoot(), someHash, [])).toBe(false);
    expect(tree.consistencyProof(0, 8)).toEqual([]);
    expect(tree.consistencyProof(8, 8)).toEqual([]);
  });

  test('proofs and roots are copies: changing them does not change the tree', () => {
    const t = ctTree();
    t.root().fill(0);
    t.inclusionProof(3).forEach((h) => h.fill(0));
    t.consistencyProof(3).forEach((h) => h.fill(0));
    t.leafHashAt(2).fill(0);
    expect(t.root().toString('hex')).toBe(V.tree.roots[7]);
    expect(toHex(t.inclusionProof(5, 8))).toEqual(V.tree.inclusionProofs[3]!.proof);
  });
});

// Speed is measured in the ledger bench (test/bench/ledger-bench.ts), never asserted here.
describe('a large tree', () => {
  test('100,000 ledger lines: leaf hashes, tree, root, a consistency and an inclusion proof, verified', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `{"seq":${i},"case":"2026-0314-HARBOUR","action":"note","details":{"text":"entry ${i} ${'x'.repeat(300)}"}}`);
    const tree = new MerkleTree();
    for (const line of lines) tree.append(leafHash(line));
    const root = tree.root();
    const consistency = tree.consistencyProof(77_777);
    const inclusion = tree.inclusionProof(12_345);
    expect(verifyConsistency(77_777, 100_000, tree.root(77_777), root, consistency)).toBe(true);
    expect(verifyInclusion(leafHash(lines[12_345]!), 12_345, 100_000, inclusion, root)).toBe(true);
    expect(verifyInclusion(leafHash(lines[12_346]!), 12_345, 100_000, inclusion, root)).toBe(false);
  });
});
