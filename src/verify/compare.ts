/** Comparing expected and computed hashes, algorithm by algorithm. */
import { CustosBug } from '../errors';
import { type Algorithm, ALGORITHMS } from '../hash/algorithms';
import type { HashSet } from '../hash/hashset';

/** One algorithm's expected and computed value. */
export interface HashComparison {
  algorithm: Algorithm;
  expected: string;
  actual: string;
  match: boolean;
}

/** Compares every algorithm present in both sets; an algorithm missing from `actual` is a bug. */
export function compareHashes(expected: HashSet, actual: HashSet): HashComparison[] {
  return ALGORITHMS.filter((a) => expected[a] !== undefined).map((algorithm) => {
    const e = expected[algorithm]!.toLowerCase();
    const a = actual[algorithm];
    if (a === undefined) throw new CustosBug(`compareHashes: ${algorithm} was not computed`);
    return { algorithm, expected: e, actual: a, match: e === a };
  });
}

export const allMatch = (c: readonly HashComparison[]) => c.length > 0 && c.every((x) => x.match);
