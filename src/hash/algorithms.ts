import { createHash } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { CustosError } from '../errors';

/** Every hash algorithm custos computes, in the order they are reported. */
export const ALGORITHMS = ['md5', 'sha1', 'sha256', 'sha512', 'sha3-256', 'blake3'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** What `--hash` means when it is not given: the set courts and peers (dc3dd, ewfacquire) expect. */
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = ['md5', 'sha1', 'sha256'];

export interface AlgorithmInfo {
  /** Name as printed for people, e.g. "SHA-256". */
  label: string;
  /** Tag of the BSD-style line that coreutils `cksum -c` reads, e.g. "SHA256". */
  tag: string;
  /** Digest length in bytes. */
  bytes: number;
  /** Where the algorithm is defined. */
  spec: string;
}

export const ALGORITHM_INFO: Record<Algorithm, AlgorithmInfo> = {
  md5: { label: 'MD5', tag: 'MD5', bytes: 16, spec: 'RFC 1321' },
  sha1: { label: 'SHA-1', tag: 'SHA1', bytes: 20, spec: 'FIPS 180-4' },
  sha256: { label: 'SHA-256', tag: 'SHA256', bytes: 32, spec: 'FIPS 180-4' },
  sha512: { label: 'SHA-512', tag: 'SHA512', bytes: 64, spec: 'FIPS 180-4' },
  'sha3-256': { label: 'SHA3-256', tag: 'SHA3-256', bytes: 32, spec: 'FIPS 202' },
  blake3: { label: 'BLAKE3', tag: 'BLAKE3', bytes: 32, spec: 'BLAKE3 specification (2020)' },
};

/** An incremental hash: feed bytes in order, then read the digest once. */
export interface Digester {
  update(data: Uint8Array): void;
  /** Lowercase hexadecimal digest; the digester cannot be used afterwards. */
  digestHex(): string;
}

/**
 * Creates a digester for one algorithm: OpenSSL through node:crypto for everything it has
 * (about ten times faster than JavaScript), @noble/hashes for BLAKE3, which OpenSSL lacks.
 */
export function createDigester(algorithm: Algorithm): Digester {
  if (algorithm === 'blake3') {
    const h = blake3.create();
    return {
      update: (data) => void h.update(data),
      digestHex: () => Buffer.from(h.digest()).toString('hex'),
    };
  }
  const h = createHash(algorithm);
  return {
    update: (data) => void h.update(data),
    digestHex: () => h.digest('hex'),
  };
}

const ALIASES: Record<string, Algorithm> = {
  md5: 'md5',
  sha1: 'sha1',
  'sha-1': 'sha1',
  sha256: 'sha256',
  'sha-256': 'sha256',
  sha512: 'sha512',
  'sha-512': 'sha512',
  'sha3-256': 'sha3-256',
  sha3_256: 'sha3-256',
  sha3256: 'sha3-256',
  blake3: 'blake3',
};

/** True when `name` is one of the canonical algorithm names. */
export function isAlgorithm(name: string): name is Algorithm {
  return (ALGORITHMS as readonly string[]).includes(name);
}

/**
 * Parses a comma-separated algorithm list such as "md5,SHA-256"; case and dashes are forgiven,
 * duplicates dropped, and the result is in the canonical order of {@link ALGORITHMS}.
 */
export function parseAlgorithms(list: string | readonly string[]): Algorithm[] {
  const names = (typeof list === 'string' ? list.split(',') : list.flatMap((l) => l.split(',')))
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  if (names.length === 0) {
    throw new CustosError('NO_ALGORITHM', 'no hash algorithm was given', {
      hint: `Name at least one of: ${ALGORITHMS.join(', ')}.`,
    });
  }
  const chosen = new Set<Algorithm>();
  for (const name of names) {
    const alg = ALIASES[name.toLowerCase()];
    if (!alg) {
      throw new CustosError('UNKNOWN_ALGORITHM', `unknown hash algorithm '${name}'`, {
        hint: `Use a comma-separated list of: ${ALGORITHMS.join(', ')}.`,
      });
    }
    chosen.add(alg);
  }
  return ALGORITHMS.filter((a) => chosen.has(a));
}
