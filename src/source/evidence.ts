/**
 * Which block devices belong to a piece of evidence: the device itself, everything under it (the
 * whole disk of a partition, the devices a dm/md/LVM device is built from), and everything on top
 * of any of those (partitions, dm/md/LVM holders, loop devices backed by files on them), found in
 * sysfs. Nothing custos writes may land on any of them (src/protect.ts).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { devNumber, protectDevice, protectFile } from '../protect';

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1').replace(/\0/g, '').trim() || undefined;
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** One block device as sysfs shows it. */
interface SysBlock {
  name: string;
  dev: string;
  /** Resolved /sys/devices/… folder. */
  path: string;
}

class SysfsBlocks {
  constructor(private readonly sysRoot: string) {}

  byName(name: string): SysBlock | undefined {
    const link = join(this.sysRoot, 'class', 'block', name);
    try {
      const path = realpathSync(link);
      const dev = readText(join(path, 'dev'));
      return dev ? { name, dev, path } : undefined;
    } catch {
      return undefined;
    }
  }

  byDev(dev: string): SysBlock | undefined {
    try {
      const path = realpathSync(join(this.sysRoot, 'dev', 'block', dev));
      return { name: basename(path), dev, path };
    } catch {
      return undefined;
    }
  }

  all(): string[] {
    return list(join(this.sysRoot, 'class', 'block'));
  }

  /** The whole disk of a partition, and the devices a dm/md device is built from. */
  below(b: SysBlock): SysBlock[] {
    const out: SysBlock[] = [];
    if (existsSync(join(b.path, 'partition'))) {
      const parent = this.byName(basename(dirname(b.path)));
      if (parent) out.push(parent);
    }
    for (const s of list(join(b.path, 'slaves'))) {
      const x = this.byName(s);
      if (x) out.push(x);
    }
    return out;
  }

  /** A disk's partitions, and the devices stacked on it. */
  above(b: SysBlock): SysBlock[] {
    const out: SysBlock[] = [];
    for (const e of list(b.path)) {
      if (existsSync(join(b.path, e, 'partition'))) {
        const x = this.byName(e);
        if (x) out.push(x);
      }
    }
    for (const h of list(join(b.path, 'holders'))) {
      const x = this.byName(h);
      if (x) out.push(x);
    }
    return out;
  }

  loopBackingFile(b: SysBlock): string | undefined {
    return readText(join(b.path, 'loop', 'backing_file'));
  }
}

/** Everything that must never be written for evidence on block device `dev` ("major:minor"). */
export interface DeviceFamily {
  /** The devices by "major:minor", with their names. */
  devices: Map<string, string>;
  /** Files behind loop devices at or under the evidence: writing them changes the evidence. */
  backingFiles: string[];
}

/** Walks sysfs from `dev` down to the physical devices, then up to everything built on them. */
export function deviceFamily(dev: string, sysRoot = '/sys'): DeviceFamily {
  const sys = new SysfsBlocks(sysRoot);
  const start = sys.byDev(dev);
  const devices = new Map<string, string>([[dev, start?.name ?? dev]]);
  if (!start) return { devices, backingFiles: [] };
  const roots = new Map<string, SysBlock>();
  const down = [start];
  while (down.length > 0) {
    const b = down.pop()!;
    if (roots.has(b.dev)) continue;
    roots.set(b.dev, b);
    down.push(...sys.below(b));
  }
  const backingFiles = [...roots.values()].map((b) => sys.loopBackingFile(b)).filter((f): f is string => Boolean(f));
  const seen = new Map<string, SysBlock>();
  const up = [...roots.values()];
  const climb = () => {
    while (up.length > 0) {
      const b = up.pop()!;
      if (seen.has(b.dev)) continue;
      seen.set(b.dev, b);
      up.push(...sys.above(b));
    }
  };
  climb();
  // A loop device whose backing file lives on the family is part of it too; repeat until nothing new joins.
  for (let grew = true; grew; ) {
    grew = false;
    for (const name of sys.all()) {
      const b = sys.byName(name);
      if (!b || seen.has(b.dev)) continue;
      const file = sys.loopBackingFile(b);
      if (!file) continue;
      let on: string;
      try {
        on = devNumber(statSync(file.replace(/ \(deleted\)$/, '')).dev);
      } catch {
        continue;
      }
      if (seen.has(on)) {
        up.push(b);
        climb();
        grew = true;
      }
    }
  }
  for (const [d, b] of seen) devices.set(d, b.name);
  return { devices, backingFiles };
}

/**
 * Registers a source as evidence that nothing may be written onto: a regular file by device and
 * inode (so hard links to it too); a block device with its whole family (deviceFamily) and the
 * files behind any loop device in it. Called before anything is read or recorded.
 */
export function protectSource(path: string, sysRoot = '/sys'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return; // opening it will report what is wrong
  }
  if (st.isFile()) {
    protectFile(path, st);
    return;
  }
  if (!st.isBlockDevice()) return;
  const family = deviceFamily(devNumber(st.rdev), sysRoot);
  for (const [dev, name] of family.devices) protectDevice(dev, `/dev/${name}`, path);
  for (const f of family.backingFiles) {
    try {
      protectFile(f, statSync(f));
    } catch {
      // a deleted backing file cannot be written by name either
    }
  }
}
