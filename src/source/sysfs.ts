/**
 * Reading sysfs attributes as untrusted input: a fake or hostile tree (tests, a planted FIFO, a
 * link loop, an attribute of megabytes) must neither hang nor flood custos. Each attribute is
 * opened without following links and without blocking, read up to a page, and cleaned of padding
 * and control characters (they would reach the terminal from `custos info`).
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, realpathSync } from 'node:fs';

/** sysfs attributes are at most a page; nothing custos reads from it is longer. */
export const SYSFS_READ_LIMIT = 4096;

/** Reads at most `limit` bytes of a sysfs attribute; undefined when it is missing or not a regular file. */
export function readBounded(file: string, limit = SYSFS_READ_LIMIT): Buffer | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted in a fake tree must not hang the read.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(limit);
    let n = 0;
    while (n < limit) {
      const r = readSync(fd, buf, n, limit - n, n);
      if (r <= 0) break;
      n += r;
    }
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The text of an attribute: NULs and padding trimmed, control characters (which would reach the
 * terminal from `custos info`) shown as "?". Undefined when missing or empty.
 */
export function readText(file: string): string | undefined {
  const b = readBounded(file);
  if (!b) return undefined;
  return cleanText(b.toString('latin1'));
}

/** Trims padding (spaces, NULs, newlines) and replaces control characters. */
export function cleanText(raw: string): string | undefined {
  const t = raw
    .replace(/\0/g, ' ')
    .trim()
    .replace(/[\x00-\x1f\x7f]/g, '?');
  return t.length > 0 ? t : undefined;
}

/** An attribute holding a decimal count; undefined when missing or not one. */
export function readInt(file: string): number | undefined {
  const t = readText(file);
  if (t === undefined || !/^\d{1,15}$/.test(t)) return undefined;
  return Number(t);
}

/** The real path of `p`, or undefined when it does not resolve. */
export function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** The entries of a folder, or none when it cannot be listed. */
export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** `{ key: value }`, or nothing when the value is undefined: attributes that are missing stay absent. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
