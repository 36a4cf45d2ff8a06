/** Loop devices and mounts for the root tests of src/source: attached and mounted here, detached and unmounted by cleanup(). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hasTool, isRoot } from '../../helpers';

/** Why loop devices cannot be used here (naming what is missing), or undefined when they can. */
export function loopSkipReason(tools: string[] = ['losetup', 'blockdev']): string | undefined {
  if (!isRoot) return 'not root (loop devices need root; CI runs as root)';
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length > 0) return `${missing.join(', ')} missing (apt-get install mount util-linux e2fsprogs)`;
  return undefined;
}

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The loop devices and mounts one test file made, undone in the reverse order of their making (a loop device over a file on a mount is detached before the unmount). */
export class Loops {
  private readonly undo: (() => void)[] = [];

  /** A loop device over `file` (read-only with `readOnly`; `sectorSize` sets its logical sector size). */
  attach(file: string, o: { readOnly?: boolean; sectorSize?: number; partitions?: boolean } = {}): string {
    const dev = sh('losetup', ['-f', '--show', ...(o.readOnly ? ['-r'] : []), ...(o.partitions ? ['-P'] : []), ...(o.sectorSize ? ['--sector-size', String(o.sectorSize)] : []), file]);
    this.undo.push(() => {
      // The kernel keeps a read-only flag across detach: clear it for whoever gets the number next.
      spawnSync('blockdev', ['--setrw', dev]);
      spawnSync('losetup', ['-d', dev]);
    });
    return dev;
  }

  /** The node of partition `n` of a loop device attached with partitions: where no udev creates it, made from the kernel's numbers in sysfs. */
  partitionNode(dev: string, n: number): string {
    const name = `${dev.replace('/dev/', '')}p${n}`;
    const node = `/dev/${name}`;
    // losetup -P asks the kernel to scan the table; some kernels only do it on request (partx -a).
    if (!existsSync(`/sys/class/block/${name}/dev`)) spawnSync('partx', ['-a', dev]);
    for (let i = 0; i < 50 && !existsSync(`/sys/class/block/${name}/dev`); i++) spawnSync('sleep', ['0.1']);
    if (!existsSync(node)) {
      const [major, minor] = readFileSync(`/sys/class/block/${name}/dev`, 'utf8').trim().split(':');
      sh('mknod', [node, 'b', major!, minor!]);
      this.undo.push(() => spawnSync('rm', ['-f', node]));
    }
    return node;
  }

  mount(dev: string, at: string, options?: string): void {
    sh('mount', [...(options ? ['-o', options] : []), dev, at]);
    this.undo.push(() => spawnSync('umount', [at]));
  }

  cleanup(): void {
    for (const u of this.undo.splice(0).reverse()) u();
  }
}
