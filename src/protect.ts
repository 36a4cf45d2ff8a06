/**
 * The evidence custos is reading, kept for the life of the process, and the one check every write
 * makes against it: nothing custos writes may land on a source device (or anything stacked on or
 * under it), on a source or image file, on a hard link to one, or go through a symbolic link.
 */
import { existsSync, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CustosError } from './errors';
import { currentMounts } from './source/mounts';

/** Splits a stat dev/rdev into Linux major and minor numbers (the glibc encoding), as "major:minor". */
export function devNumber(rdev: number | bigint): string {
  const r = BigInt(rdev);
  const major = ((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn);
  const minor = (r & 0xffn) | ((r >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** Why a device or file is protected: the device or file itself, and the evidence it belongs to. */
interface Reason {
  what: string;
  evidence: string;
}

const devices = new Map<string, Reason>();
const files = new Map<string, Reason>();
const fileKey = (st: Pick<Stats, 'dev' | 'ino'>) => `${st.dev}:${st.ino}`;

/** Marks a block device ("major:minor") as part of the evidence `evidence`: no file system on it is ever written. */
export function protectDevice(dev: string, what: string, evidence: string): void {
  if (!devices.has(dev)) devices.set(dev, { what, evidence });
}

/** Marks a file (by device and inode, so every hard link to it too) as evidence that is never written. */
export function protectFile(path: string, st: Pick<Stats, 'dev' | 'ino'> = statSync(path)): void {
  const key = fileKey(st);
  if (!files.has(key)) files.set(key, { what: path, evidence: path });
}

/** What is protected now (for `custos` diagnostics and tests). */
export function protectedEvidence(): { devices: { dev: string; what: string; evidence: string }[]; files: { key: string; path: string }[] } {
  return {
    devices: [...devices].map(([dev, r]) => ({ dev, ...r })),
    files: [...files].map(([key, r]) => ({ key, path: r.what })),
  };
}

/** Forgets every protection: for long-lived library users between unrelated jobs, never during one. */
export function forgetProtectedEvidence(): void {
  devices.clear();
  files.clear();
}

function unsafe(message: string, path: string, hint: string): CustosError {
  return new CustosError('UNSAFE_OUTPUT', message, { path, hint });
}

/** The devices a folder's contents are stored on: the folder's own st_dev and its mount's source device. */
function devicesUnder(dir: string, mountinfo?: string): { dev: string; via: string }[] {
  const out: { dev: string; via: string }[] = [];
  let real = dir;
  // A folder still to be created lands where its nearest existing ancestor is.
  while (!existsSync(real) && dirname(real) !== real) real = dirname(real);
  try {
    real = realpathSync(real);
    out.push({ dev: devNumber(statSync(real).dev), via: real });
  } catch {
    return out;
  }
  // btrfs and overlay report anonymous device numbers: the mount's source names the real device.
  const { mounts } = currentMounts(mountinfo);
  let best: (typeof mounts)[number] | undefined;
  for (const m of mounts) {
    const inside = real === m.mountPoint || real.startsWith(m.mountPoint.endsWith('/') ? m.mountPoint : `${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  if (best) {
    out.push({ dev: best.devNumber, via: `the mount ${best.mountPoint}` });
    if (best.source.startsWith('/dev/')) {
      try {
        const st = statSync(best.source);
        if (st.isBlockDevice()) out.push({ dev: devNumber(st.rdev), via: best.source });
      } catch {
        // a vanished device node: the st_dev check above still applies
      }
    }
  }
  return out;
}

/**
 * Refuses to write `path` when it is (or links to, or is a hard link of) protected evidence, when
 * it is a symbolic link, or when its folder lies on a protected device. Called by every function
 * that creates, replaces or opens a file for writing (src/fsutil.ts), so no caller can forget it.
 * `ownRecord`: the file is a record custos itself keeps appending to (the ledger), protected
 * from every other write.
 */
export function assertWritable(path: string, o: { mountinfo?: string; ownRecord?: boolean } = {}): void {
  const abs = resolve(path);
  let l: Stats | undefined;
  try {
    l = lstatSync(abs);
  } catch {
    l = undefined;
  }
  if (l?.isSymbolicLink()) {
    throw unsafe(`${path} is a symbolic link; custos never writes through a link`, path, 'Remove the link, or choose another output name.');
  }
  if (l) {
    // The custody ledger is protected from every other write, but custos appends to it.
    const r = o.ownRecord ? undefined : files.get(fileKey(l));
    if (r) {
      const same = resolve(r.what) === abs;
      throw unsafe(
        same ? `${path} is evidence being read; it is never a write target` : `${path} is evidence being read (the same file as ${r.what}, through a hard link); it is never a write target`,
        path,
        'Choose an output outside the evidence.',
      );
    }
    if (l.isBlockDevice()) {
      const r2 = devices.get(devNumber(l.rdev));
      if (r2) throw unsafe(`${path} is ${r2.what}, part of the evidence ${r2.evidence}; it is never a write target`, path, 'Choose an output outside the evidence.');
    }
  }
  if (devices.size === 0) return;
  for (const d of devicesUnder(dirname(abs), o.mountinfo)) {
    const r = devices.get(d.dev);
    if (r) {
      throw unsafe(
        `${path} would be written onto ${r.what} (device ${d.dev}, via ${d.via}), which is part of the evidence ${r.evidence}`,
        path,
        'Write images, records and reports to a different disk than the evidence; --allow-mounted never lifts this.',
      );
    }
  }
}
