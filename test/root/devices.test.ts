/**
 * Tests that need root: loop devices, mounts, a full tmpfs, and sources with real EIO sectors
 * (the repository's fault-injection harness, test/faults: nbdkit + nbdfuse + a loop device).
 * They skip, saying why, where root or the tools are missing; CI runs as root.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { faultSkipReason, FaultySource, stopAll } from '../faults/faulty-source';
import { digestOf, hasTool, isRoot, makeTempDir, runCli, sameBytes, SAMPLE_IMAGE } from '../helpers';

const loopTools = ['losetup', 'blockdev', 'mount', 'mkfs.ext4'].every(hasTool);

function why(need: string): string | undefined {
  if (!isRoot) return `not root (${need} needs root; CI runs as root)`;
  return undefined;
}
const skipLoop = why('a loop device') ?? (loopTools ? undefined : 'losetup, blockdev, mount or mkfs.ext4 missing');
const skipFaulty = skipLoop ?? faultSkipReason({ loop: true });
if (skipLoop) test.skip(`loop-device tests skipped: ${skipLoop}`, () => undefined);
if (skipFaulty && !skipLoop) test.skip(`bad-sector tests skipped: ${skipFaulty}`, () => undefined);

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

let tmp: ReturnType<typeof makeTempDir>;
const loops: string[] = [];
const mounts: string[] = [];
let n = 0;
const outDir = () => {
  const d = join(tmp.dir, `o${n++}`);
  mkdirSync(d);
  return d;
};
/** A loop device over `file`; the read-only flag is cleared first, since the kernel keeps it across detach. */
function attach(file: string, readOnly = false): string {
  const dev = sh('losetup', ['-f', '--show', ...(readOnly ? ['-r'] : []), file]);
  loops.push(dev);
  if (!readOnly) sh('blockdev', ['--setrw', dev]);
  return dev;
}

beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  for (const l of loops) {
    spawnSync('blockdev', ['--setrw', l]);
    spawnSync('losetup', ['-d', l]);
  }
  tmp?.cleanup();
});

(skipLoop ? describe.skip : describe)('block devices (loop)', () => {
  test.each([false, true])('losetup (read-only: %s): acquired with O_DIRECT, the flag is set afterwards, the source unchanged', (ro) => {
    const backing = join(tmp.dir, `disk-${ro}.img`);
    copyFileSync(SAMPLE_IMAGE, backing);
    const before = digestOf('sha256sum', backing);
    const dev = attach(backing, ro);
    expect(sh('blockdev', ['--getro', dev])).toBe(ro ? '1' : '0');
    const out = outDir();
    const r = runCli(['acquire', dev, '-o', out, '--name', 'loop', '--json', '--verify-source']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.hashes.sha256).toBe(before);
    expect(sameBytes(backing, join(out, 'loop.raw'))).toBe(true);
    expect(sh('blockdev', ['--getro', dev])).toBe('1');
    expect(digestOf('sha256sum', backing)).toBe(before);
    const m = JSON.parse(readFileSync(j.manifestPath, 'utf8'));
    expect(m.writeBlock).toMatchObject({ method: 'kernel-read-only-flag', readOnlyBefore: ro, readOnlyAfterSet: true, readOnlyAtEnd: true });
    expect(m.writeBlock.openFlags).toEqual(['O_RDONLY', 'O_DIRECT']);
    expect(m.acquisition.directIo).toBe(true);
    expect(m.source).toMatchObject({ kind: 'block-device', sizeBytes: 8 << 20, device: { loopBackingFile: backing } });
    expect(m.verification.source.result).toBe('match');

    const info = JSON.parse(runCli(['info', '--json', dev]).stdout);
    expect(info).toMatchObject({ kind: 'block-device', readOnly: true, sizeBytes: 8 << 20, device: { name: dev.replace('/dev/', '') } });
  });

  test('a device mounted read-write is refused; --allow-mounted acquires it live and says so', () => {
    const img = join(tmp.dir, 'ext4.img');
    sh('truncate', ['-s', '16M', img]);
    sh('mkfs.ext4', ['-q', '-F', img]);
    const dev = attach(img);
    const mnt = join(tmp.dir, 'mnt');
    mkdirSync(mnt);
    sh('mount', [dev, mnt]);
    mounts.push(mnt);
    const out = outDir();
    const refused = runCli(['acquire', dev, '-o', out]);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain(`is mounted read-write (${dev} on ${mnt})`);
    expect(refused.stderr).toContain('--allow-mounted');
    expect(readdirSync(out)).toEqual([]);
    expect(sh('blockdev', ['--getro', dev])).toBe('0');

    const live = runCli(['acquire', dev, '-o', out, '--allow-mounted', '--json', '--name', 'live']);
    expect(live.status).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'live.manifest.json'), 'utf8'));
    expect(m.writeBlock).toMatchObject({ method: 'not-set-mounted-read-write', allowMounted: true });
    expect(m.writeBlock.mountsAtStart).toEqual([{ device: dev, mountPoint: mnt, fsType: 'ext4', readWrite: true }]);
    // The running file system can still write: the flag was left alone.
    expect(sh('blockdev', ['--getro', dev])).toBe('0');
  });

  test('a full destination fails with a clear I/O error and leaves nothing that claims to be complete', () => {
    const small = join(tmp.dir, 'small');
    mkdirSync(small);
    sh('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small]);
    mounts.push(small);
    const r = runCli(['acquire', SAMPLE_IMAGE, '-o', small, '--name', 'full']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/no space left on the destination/);
    expect(r.stderr).toContain('--resume');
    const files = readdirSync(small).sort();
    expect(files).not.toContain('full.raw');
    expect(files).not.toContain('full.manifest.json');
    expect(files.filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

const MiB = 1024 * 1024;

/** Test-friendly "start:length" lists (lengths may say 4K) as byte ranges. */
function ranges(spec: string): { offset: number; length: number }[] {
  const bytes = (v: string) => (v.endsWith('K') ? Number(v.slice(0, -1)) * 1024 : Number(v));
  return spec.split(',').map((p) => {
    const [o, l] = p.split(':') as [string, string];
    return { offset: bytes(o), length: bytes(l) };
  });
}

(skipFaulty ? describe.skip : describe)('bad sectors (test/faults harness)', () => {
  const patterns: [string, string][] = [
    ['one sector', `${3 * MiB + 512}:512`],
    ['a run crossing a 4 MiB read-buffer boundary', `${4 * MiB - 3 * 512}:${6 * 512}`],
    ['a range at the very end', `${16 * MiB - 8 * 512}:${8 * 512}`],
    ['several ranges, one of them 2057 sectors long', `${MiB}:4K,${5 * MiB}:${2057 * 512},${12 * MiB + 512}:1024`],
  ];
  afterAll(stopAll);

  test.each(patterns)('%s: exact ranges, hashes of the source with them zeroed', (_label, bad) => {
    const f = FaultySource.start({ size: 16 * MiB, content: { kind: 'random', seed: 1 }, bad: ranges(bad), loop: true });
    try {
      const want = f.expectedHashes(['md5', 'sha1', 'sha256']);
      for (const [kind, source] of [
        ['loop device (O_DIRECT)', f.loop!],
        ['FUSE file (buffered, O_DIRECT recovery)', f.file],
      ] as const) {
        const out = outDir();
        const r = runCli(['acquire', source, '-o', out, '--name', 'bad', '--json', '--retries', '1']);
        expect({ kind, status: r.status }).toEqual({ kind, status: 6 });
        const j = JSON.parse(r.stdout);
        expect({ kind, hashes: j.hashes }).toEqual({ kind, hashes: want });
        expect({ kind, ranges: j.readErrors.map((e: { offset: number; length: number }) => ({ offset: e.offset, length: e.length })) }).toEqual({
          kind,
          ranges: f.badRanges,
        });
        for (const e of j.readErrors) {
          expect(e.firstSector).toBe(e.offset / 512);
          expect(e.sectorCount).toBe(e.length / 512);
        }
        expect(r.stderr).toMatch(/READ ERROR: sector/);
        expect(digestOf('md5sum', join(out, 'bad.raw'))).toBe(want.md5);
      }
    } finally {
      f.stop();
    }
  });

  (hasTool('ewfverify') ? test : test.skip)('E01 of a source with bad sectors: ewfverify succeeds and ewfinfo lists the unreadable sectors', () => {
    const f = FaultySource.start({ size: 16 * MiB, content: { kind: 'random', seed: 1 }, bad: ranges(`${MiB}:512,${5 * MiB}:4K`), loop: true });
    try {
      const want = f.expectedHashes(['md5', 'sha1']);
      const out = outDir();
      const r = runCli(['acquire', f.loop!, '-o', out, '--name', 'bad', '--format', 'e01', '--json', '--retries', '0']);
      expect(r.status).toBe(6);
      expect(JSON.parse(r.stdout).hashes).toMatchObject({ md5: want.md5, sha1: want.sha1 });
      const v = spawnSync('ewfverify', [join(out, 'bad.E01')], { encoding: 'utf8' });
      expect(v.status).toBe(0);
      expect(v.stdout).toContain(`MD5 hash calculated over data:\t\t${want.md5}`);
      const info = sh('ewfinfo', [join(out, 'bad.E01')]);
      expect(info).toContain('Read errors during acquiry');
      expect(info).toMatch(/at sector\(s\): 2048 - 2048 number: 1/);
      expect(info).toMatch(/at sector\(s\): 10240 - 10247 number: 8/);
    } finally {
      f.stop();
    }
  });
});
