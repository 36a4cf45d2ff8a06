import { readFileSync } from 'node:fs';

/** One mount of a file system, from /proc/self/mountinfo (proc(5)). */
export interface MountEntry {
  /** "major:minor" of the mounted device. */
  devNumber: string;
  /** The device or source as given to mount (e.g. /dev/sdb1). */
  source: string;
  mountPoint: string;
  fsType: string;
  /** True when the mount or its superblock is read-write. */
  readWrite: boolean;
  options: string;
}

/** Decodes the octal escapes (\040 for a space) that mountinfo uses in paths. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses mountinfo text; malformed lines are skipped rather than trusted. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6 || fields.length < dash + 4) continue;
    const mountOptions = fields[5]!.split(',');
    const superOptions = fields[dash + 3]!.split(',');
    out.push({
      devNumber: fields[2]!,
      source: unescape(fields[dash + 2]!),
      mountPoint: unescape(fields[4]!),
      fsType: fields[dash + 1]!,
      readWrite: mountOptions.includes('rw') && !superOptions.includes('ro'),
      options: fields[5]!,
    });
  }
  return out;
}

/** Active swap areas from /proc/swaps: a swap partition is written to like a read-write mount. */
export function parseSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((p) => p.startsWith('/'))
    .map(unescape);
}

/** The mounts and swaps of this system, read now (paths injectable for tests). */
export function currentMounts(mountinfo = '/proc/self/mountinfo', swaps = '/proc/swaps'): { mounts: MountEntry[]; swaps: string[] } {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { mounts: parseMountInfo(read(mountinfo)), swaps: parseSwaps(read(swaps)) };
}
