import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CustosBug } from '../errors';

/**
 * The canonical bytes of a JSON value: RFC 8785 (JSON Canonicalization Scheme), UTF-8 —
 * keys sorted by UTF-16 code units, ECMAScript number form, minimal string escapes, no
 * whitespace. Any verifier that implements the RFC gets the same bytes.
 */
export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new CustosBug('canonicalBytes: value cannot be represented in JSON');
  return Buffer.from(text, 'utf8');
}

/** Lowercase hex SHA-256 (FIPS 180-4). */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
