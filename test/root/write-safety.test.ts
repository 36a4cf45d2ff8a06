/**
 * Root tests of the first rule: nothing custos writes ever lands on the evidence. Outputs and case
 * folders on a file system that lives on the source, on one of its partitions, on a device-mapper
 * device built on it, or on a loop device backed by a file on it are refused, --allow-mounted or
 * not. And the end of an acquisition and the custody ledger survive a full disk.
 * Skips, naming what is missing, without root or util-linux/e2fsprogs/dmsetup.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf, hasTool, isRoot, makeTempDir, pseudoRandomBytes, runCli, SAMPLE_IMAGE } from '../helpers';

const tools = ['losetup', 'blockdev', 'mount', 'mkfs.ext4', 'sfdisk'].filter((t) => !hasTool(t));
const skip = !isRoot ? 'not root (loop devices and mounts need root; CI runs as root)' : tools.length > 0 ? `missing ${tools.join(', ')} (apt-get install util-linux fdisk e2fsprogs mount)` : undefined;
if (skip) test.skip(`write-safety root tests skipped: ${skip}`, () => undefined);

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

let tmp: ReturnType<typeof makeTempDir>;
/** Undo steps, run last-in first-out: a mount on a loop device over a file in another mount comes apart in order. */
const undo: (() => void)[] = [];
const PASS = 'write safety passphrase';

function attach(file: string, partitions = false): string {
  const dev = sh('losetup', ['-f', '--show', ...(partitions ? ['-P'] : []), file]);
  undo.push(() => {
    spawnSync('blockdev', ['--setrw', dev]);
    spawnSync('losetup', ['-d', dev]);
  });
  sh('blockdev', ['--setrw', dev]);
  return dev;
}
/** The node of partition N of a loop device: where no udev creates it, made from the kernel's numbers in sysfs. */
function partitionNode(dev: string, n: number): string {
  const name = `${dev.replace('/dev/', '')}p${n}`;
  const node = `/dev/${name}`;
  // losetup -P asks the kernel to scan the table; some kernels only do it on request (partx -a).
  if (!existsSync(`/sys/class/block/${name}/dev`)) spawnSync('partx', ['-a', dev]);
  for (let i = 0; i < 50 && !existsSync(`/sys/class/block/${name}/dev`); i++) spawnSync('sleep', ['0.1']);
  if (!existsSync(node)) {
    const [major, minor] = readFileSync(`/sys/class/block/${name}/dev`, 'utf8').trim().split(':');
    sh('mknod', [node, 'b', major!, minor!]);
    undo.push(() => spawnSync('rm', ['-f', node]));
  }
  return node;
}
function mountAt(dev: string, name: string, options: string[] = []): string {
  const m = join(tmp.dir, name);
  mkdirSync(m, { recursive: true });
  sh('mount', [...options, dev, m]);
  undo.push(() => spawnSync('umount', [m]));
  return m;
}
function ext4(name: string, size = '16M'): string {
  const img = join(tmp.dir, name);
  sh('truncate', ['-s', size, img]);
  sh('mkfs.ext4', ['-q', '-F', img]);
  return img;
}
const refusedOnto = (r: ReturnType<typeof runCli>, device: RegExp) => {
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(device);
  expect(r.stderr).toMatch(/which is part of the evidence/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
};

beforeAll(() => {
  tmp = makeTempDir('custos-write-safety-');
});
afterAll(() => {
  for (const u of undo.reverse()) u();
  tmp?.cleanup();
});

(skip ? describe.skip : describe)('outputs never land on the evidence', () => {
  test('a file system on the source itself, mounted read-write, with --allow-mounted: refused before anything is written', () => {
    const dev = attach(ext4('self.img'));
    const mnt = mountAt(dev, 'self');
    const r = runCli(['acquire', dev, '--allow-mounted', '-o', join(mnt, 'out'), '--no-progress']);
    refusedOnto(r, new RegExp(`would be written onto ${dev}`));
    expect(readdirSync(mnt).sort()).toEqual(['lost+found']);
    // The running system's writes go on: the read-only flag was not set for a refused acquisition.
    expect(sh('blockdev', ['--getro', dev])).toBe('0');
  });

  test('a case folder on the source: the acquisition is refused before its first ledger entry', () => {
    const dev = attach(ext4('case-on-source.img'));
    const mnt = mountAt(dev, 'case-on-source');
    const home = join(tmp.dir, 'home');
    const env = { CUSTOS_HOME: home, CUSTOS_PASSPHRASE: PASS };
    expect(runCli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner'], { env }).status).toBe(0);
    const caseDir = join(mnt, 'case');
    expect(runCli(['case', 'init', caseDir, '--case', 'WS-1'], { env }).status).toBe(0);
    const before = readFileSync(join(caseDir, 'custody.jsonl'), 'utf8');
    const r = runCli(['acquire', dev, '--allow-mounted', '-o', join(tmp.dir, 'elsewhere'), '--case-dir', caseDir, '--no-progress'], { env });
    refusedOnto(r, /custody\.jsonl would be written onto/);
    expect(readFileSync(join(caseDir, 'custody.jsonl'), 'utf8')).toBe(before);
    expect(existsSync(join(tmp.dir, 'elsewhere'))).toBe(false);
  });

  test('another partition of the same disk, and the whole disk from a partition', () => {
    const img = join(tmp.dir, 'parts.img');
    sh('truncate', ['-s', '40M', img]);
    spawnSync('sfdisk', ['-q', img], { input: 'label: dos\n,16M,L\n,,L\n', encoding: 'utf8' });
    const dev = attach(img, true);
    const p1 = partitionNode(dev, 1);
    const p2 = partitionNode(dev, 2);
    sh('mkfs.ext4', ['-q', '-F', p2]);
    const mnt = mountAt(p2, 'p2');
    refusedOnto(runCli(['acquire', p1, '-o', join(mnt, 'out'), '--no-progress']), new RegExp(`onto ${p2}`));
    refusedOnto(runCli(['acquire', dev, '--allow-mounted', '-o', join(mnt, 'out'), '--no-progress']), new RegExp(`onto ${p2}`));
    expect(readdirSync(mnt).sort()).toEqual(['lost+found']);
  });

  const dm = !hasTool('dmsetup') ? 'dmsetup is missing (apt-get install dmsetup)' : spawnSync('dmsetup', ['version']).status !== 0 ? 'the kernel has no device-mapper driver here (dmsetup version fails)' : undefined;
  if (dm) test.skip(`device-mapper test skipped: ${dm}`, () => undefined);
  (dm ? test.skip : test)('a device-mapper device built on the source', () => {
    const backing = join(tmp.dir, 'dm-leg.img');
    sh('truncate', ['-s', '16M', backing]);
    const dev = attach(backing);
    const name = `custos-ws-${process.pid}`;
    sh('dmsetup', ['create', name, '--table', `0 ${(16 << 20) / 512} linear ${dev} 0`]);
    undo.push(() => spawnSync('dmsetup', ['remove', name]));
    sh('mkfs.ext4', ['-q', '-F', `/dev/mapper/${name}`]);
    const mnt = mountAt(`/dev/mapper/${name}`, 'dm');
    refusedOnto(runCli(['acquire', dev, '--allow-mounted', '-o', join(mnt, 'out'), '--no-progress']), /onto \/dev\/dm-\d+/);
  });

  test('a loop device backed by a file that lives on the source', () => {
    const dev = attach(ext4('outer.img', '48M'));
    const outer = mountAt(dev, 'outer');
    const inner = join(outer, 'inner.img');
    sh('truncate', ['-s', '16M', inner]);
    sh('mkfs.ext4', ['-q', '-F', inner]);
    const innerDev = attach(inner);
    const mnt = mountAt(innerDev, 'inner');
    refusedOnto(runCli(['acquire', dev, '--allow-mounted', '-o', join(mnt, 'out'), '--no-progress']), new RegExp(`onto ${innerDev}`));
  });

  test('a loop device source: its backing file is never a write target, --force or not', () => {
    const backing = join(tmp.dir, 'backing.img');
    writeFileSync(backing, pseudoRandomBytes(4 << 20, 5));
    const before = digestOf('sha256sum', backing);
    const dev = attach(backing);
    const out = join(tmp.dir, 'backing-out');
    expect(runCli(['acquire', dev, '-o', out, '--name', 'b', '--no-progress']).status).toBe(0);
    // Verifying against the source makes the loop device and its backing file evidence of this run.
    const r = runCli(['report', 'verification', join(out, 'b.manifest.json'), '--source', dev, '--out', backing, '--force']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/backing\.img is evidence being read/);
    spawnSync('blockdev', ['--setrw', dev]);
    expect(digestOf('sha256sum', backing)).toBe(before);
  });
});

(skip ? describe.skip : describe)('a full disk loses nothing already recorded', () => {
  test('room for the image but not the manifest: exit 5 with a resumable state; --resume completes once there is space', () => {
    const dir = join(tmp.dir, 'tight');
    mkdirSync(dir);
    // 8 MiB of image and one page for the journal: the manifest does not fit.
    sh('mount', ['-t', 'tmpfs', '-o', `size=${(8 << 20) + 4096}`, 'tmpfs', dir]);
    undo.push(() => spawnSync('umount', [dir]));
    const r = runCli(['acquire', SAMPLE_IMAGE, '-o', dir, '--name', 'full', '--no-progress']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/the image is complete, but its manifest could not be written/);
    expect(r.stderr).toMatch(/--resume/);
    expect(readdirSync(dir).sort()).toEqual(['full.raw.partial', 'full.resume.json']);
    sh('mount', ['-o', 'remount,size=32m', dir]);
    const again = runCli(['acquire', SAMPLE_IMAGE, '-o', dir, '--name', 'full', '--no-progress', '--resume', '--json']);
    expect(again.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['full.manifest.json', 'full.raw']);
    expect(digestOf('sha256sum', join(dir, 'full.raw'))).toBe(digestOf('sha256sum', SAMPLE_IMAGE));
    expect(runCli(['verify', join(dir, 'full.manifest.json'), '--no-progress']).status).toBe(0);
  });

  test('a ledger entry that does not fit is not half-written: exit 5, the ledger still verifies and takes entries later', () => {
    const dir = join(tmp.dir, 'tiny-case');
    mkdirSync(dir);
    sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    undo.push(() => spawnSync('umount', [dir]));
    const home = join(tmp.dir, 'home2');
    const env = { CUSTOS_HOME: home, CUSTOS_PASSPHRASE: PASS };
    expect(runCli(['identity', 'create', '--name', 'Sam Lee', '--role', 'examiner'], { env }).status).toBe(0);
    const caseDir = join(dir, 'case');
    expect(runCli(['case', 'init', caseDir, '--case', 'WS-2'], { env }).status).toBe(0);
    spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4096'], { encoding: 'utf8' });
    const before = readFileSync(join(caseDir, 'custody.jsonl'));
    const note = runCli(['ledger', 'note', 'x'.repeat(6000), '--case-dir', caseDir], { env });
    expect(note.status).toBe(5);
    expect(note.stderr).toMatch(/the note entry could not be recorded .*the ledger is unchanged/);
    expect(readFileSync(join(caseDir, 'custody.jsonl')).equals(before)).toBe(true);
    const v = runCli(['ledger', 'verify', '--case-dir', caseDir]);
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('verdict: INTACT');
    sh('rm', [join(dir, 'filler')]);
    expect(runCli(['ledger', 'note', 'after the disk was freed', '--case-dir', caseDir], { env }).status).toBe(0);
    expect(runCli(['ledger', 'verify', '--case-dir', caseDir]).stdout).toContain('2 entries verified');
  });
});
