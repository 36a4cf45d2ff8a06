import { CustosError } from './errors';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/**
 * Parses a size such as "650MiB", "4GB", "2G" or "1048576": IEC suffixes (KiB, MiB, …) and bare
 * letters (K, M, G, as dd and split read them) are powers of 1024; SI suffixes (KB, MB, GB) of 1000.
 */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new CustosError('USAGE', `${what} '${text}' is not a size`, { hint: 'Write it like 650MiB, 4GB, 2G or 1048576 (bytes).' });
  }
  // 1.4GiB is not a whole number of bytes: a fraction of a unit is rounded down, as ewfacquire does.
  const bytes = unit > 1 ? Math.floor(Number(m[1]) * unit) : Number(m[1]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new CustosError('USAGE', `${what} '${text}' must be a whole number of bytes greater than zero`, { hint: 'Write it like 650MiB or 2GiB.' });
  }
  return bytes;
}
