import type { Algorithm } from './algorithms';

/** Digests keyed by algorithm, lowercase hex. */
export type HashSet = Partial<Record<Algorithm, string>>;
