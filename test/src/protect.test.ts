/**
 * Nothing custos writes may land on evidence: not on a source or image file (or a hard link to
 * one), not through a symbolic link, not on the source's device or anything built on it; and
 * records are read only from regular files of bounded size.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, openExistingForWrite, readBoundedFile, writeFileAtomic, writeNewFile } from '../../src/fsutil';
import { assertWritable, devNumber, forgetProtectedEvidence, protectDevice, protectFile } from '../../src/protect';
import { deviceFamily } from '../../src/source/evidence';
import { digestOf, makeTempDir, pseudoRandomBytes, runCli, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());
afterEach(() => forgetProtectedEvidence());

/**
 * A sysfs tree laid out as the kernel lays it out: /sys/class/block/NAME and /sys/dev/block/MAJ:MIN
 * are links into /sys/devices/…/block/DISK[/PART], with holders/ and slaves/ links between them.
 */
function fakeSysfs(root: string, hostDev: string): void {
  const dev = (p: string, n: string) => {
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'dev'), `${n}\n`);
  };
  const sda = join(root, 'devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda');
  dev(sda, '8:0');
  for (const [part, n] of [['sda1', '8:1'], ['sda2', '8:2']] as const) {
    dev(join(sda, part), n);
    writeFileSync(join(sda, part, 'partition'), '1\n');
  }
  const dm = join(root, 'devices/virtual/block/dm-0');
  dev(dm, '253:99');
  const loop = join(root, 'devices/virtual/block/loop7');
  dev(loop, '7:7');
  mkdirSync(join(loop, 'loop'));
  writeFileSync(join(loop, 'loop', 'backing_file'), `${join(tmp.dir, 'on-the-evidence.img')}\n`);
  const other = join(root, 'devices/virtual/block/loop8');
  dev(other, '7:8');
  mkdirSync(join(other, 'loop'));
  writeFileSync(join(other, 'loop', 'backing_file'), '/nonexistent/elsewhere.img\n');
  // The disk holding this test's temporary folder is, in this fake tree, the dm device's second leg.
  const host = join(root, 'devices/virtual/block/vdz');
  dev(host, hostDev);
  mkdirSync(join(root, 'class/block'), { recursive: true });
  mkdirSync(join(root, 'dev/block'), { recursive: true });
  for (const [name, p, n] of [
    ['sda', sda, '8:0'],
    ['sda1', join(sda, 'sda1'), '8:1'],
    ['sda2', join(sda, 'sda2'), '8:2'],
    ['dm-0', dm, '253:99'],
    ['loop7', loop, '7:7'],
    ['loop8', other, '7:8'],
    ['vdz', host, hostDev],
  ] as const) {
    symlinkSync(p, join(root, 'class/block', name));
    symlinkSync(p, join(root, 'dev/block', n));
  }
  // dm-0 is built on sda2 and vdz (an LVM volume spanning two disks).
  for (const leg of ['sda2', 'vdz']) {
    mkdirSync(join(dm, 'slaves'), { recursive: true });
    symlinkSync(join(root, 'class/block', leg), join(dm, 'slaves', leg));
  }
  mkdirSync(join(sda, 'sda2', 'holders'));
  symlinkSync(dm, join(sda, 'sda2', 'holders', 'dm-0'));
  mkdirSync(join(host, 'holders'));
  symlinkSync(dm, join(host, 'holders', 'dm-0'));
}

describe('the family of an evidence device (sysfs)', () => {
  let sys: string;
  let hostDev: string;
  beforeAll(() => {
    sys = join(tmp.dir, 'sys');
    hostDev = devNumber(statSync(tmp.dir).dev);
    writeFileSync(join(tmp.dir, 'on-the-evidence.img'), 'x');
    fakeSysfs(sys, hostDev);
  });

  test('a partition: its disk, the sibling partitions and the dm device built on one of them; not the dm device\'s other leg', () => {
    const f = deviceFamily('8:1', sys);
    expect([...f.devices.values()].sort()).toEqual(['dm-0', 'sda', 'sda1', 'sda2']);
    expect(f.backingFiles).toEqual([]);
  });

  test('a disk holding a file that backs a loop device: the loop device joins the family', () => {
    // Here the disk under this test's temporary folder plays the evidence, and loop7 is backed by a file in it.
    const f = deviceFamily(hostDev, sys);
    expect([...f.devices.values()].sort()).toEqual(['dm-0', 'loop7', 'vdz']);
    expect(f.devices.get(hostDev)).toBe('vdz');
  });

  test('a loop device: what is under it is its backing file, which is protected as a file', () => {
    const f = deviceFamily('7:8', sys);
    expect([...f.devices.values()]).toEqual(['loop8']);
    expect(f.backingFiles).toEqual(['/nonexistent/elsewhere.img']);
  });

  test('an unknown device number is its own family', () => {
    expect([...deviceFamily('250:9', sys).devices]).toEqual([['250:9', '250:9']]);
  });
});

describe('every write is checked against the evidence', () => {
  test('a file being read as evidence, and any hard link to it, is never a write target', () => {
    const ev = join(tmp.dir, 'evidence.bin');
    writeFileSync(ev, pseudoRandomBytes(4096, 1));
    const before = digestOf('sha256sum', ev);
    protectFile(ev);
    const hard = join(tmp.dir, 'innocent-name');
    linkSync(ev, hard);
    expect(() => writeFileAtomic(ev, 'x', { replace: true })).toThrow(/is evidence being read/);
    expect(() => writeFileAtomic(hard, 'x', { replace: true })).toThrow(/the same file as .*evidence\.bin, through a hard link/);
    expect(() => openExistingForWrite(hard)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    expect(digestOf('sha256sum', ev)).toBe(before);
  });

  test('no write goes through a symbolic link, dangling or not', () => {
    const target = join(tmp.dir, 'target.txt');
    writeFileSync(target, 'keep me');
    const link = join(tmp.dir, 'link.txt');
    symlinkSync(target, link);
    const dangling = join(tmp.dir, 'dangling.txt');
    symlinkSync(join(tmp.dir, 'nowhere'), dangling);
    for (const p of [link, dangling]) {
      expect(() => writeNewFile(p, 'x')).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: expect.stringContaining('is a symbolic link') }));
      expect(() => writeFileAtomic(p, 'x')).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
      expect(() => writeFileAtomic(p, 'x', { replace: true })).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
      expect(() => openExistingForWrite(p)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    }
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(existsSync(join(tmp.dir, 'nowhere'))).toBe(false);
  });

  test('files are created new: an existing name is refused unless replacing was asked for', () => {
    const p = join(tmp.dir, 'exists.json');
    writeFileSync(p, 'old');
    expect(() => writeNewFile(p, 'new')).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(() => writeFileAtomic(p, 'new')).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(readFileSync(p, 'utf8')).toBe('old');
    writeFileAtomic(p, 'new', { replace: true });
    expect(readFileSync(p, 'utf8')).toBe('new');
  });

  test('a file that custos goes on writing must have a single link', () => {
    const p = join(tmp.dir, 'partial');
    writeFileSync(p, 'data');
    linkSync(p, join(tmp.dir, 'partial-twin'));
    expect(() => openExistingForWrite(p)).toThrow(/a file with 2 hard links/);
  });

  test('nothing is written into a folder on a protected device, nor a folder created there', () => {
    protectDevice(devNumber(statSync(tmp.dir).dev), '/dev/test-evidence', '/dev/test-evidence');
    expect(() => writeNewFile(join(tmp.dir, 'on-evidence.txt'), 'x')).toThrow(/would be written onto \/dev\/test-evidence/);
    expect(() => ensureDir(join(tmp.dir, 'a', 'b'))).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    expect(existsSync(join(tmp.dir, 'on-evidence.txt'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'a'))).toBe(false);
    expect(() => assertWritable(join(tmp.dir, 'x'))).toThrow(expect.objectContaining({ hint: expect.stringContaining('--allow-mounted never lifts this') }));
  });

  test('ensureDir creates missing parents and says which', () => {
    const d = join(tmp.dir, 'new1', 'new2', 'new3');
    expect(ensureDir(d)).toEqual([join(tmp.dir, 'new1'), join(tmp.dir, 'new1', 'new2'), d]);
    expect(ensureDir(d)).toEqual([]);
  });
});

describe('records are read only from regular files of bounded size', () => {
  test('a FIFO is refused at once instead of blocking the open', () => {
    const fifo = join(tmp.dir, 'fifo.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => readBoundedFile(fifo, 'manifest')).toThrow(/is a pipe \(FIFO\); a manifest is read only from a regular file/);
  });

  test('/dev/zero, directly or through a link, is refused without reading it', () => {
    const link = join(tmp.dir, 'zero.json');
    symlinkSync('/dev/zero', link);
    for (const p of ['/dev/zero', link]) expect(() => readBoundedFile(p, 'manifest')).toThrow(/is a character device/);
  });

  test('a file larger than the bound is refused; one within it is read whole', () => {
    const p = join(tmp.dir, 'big.json');
    writeFileSync(p, Buffer.alloc(2049, 0x20));
    expect(() => readBoundedFile(p, 'case file', 2048)).toThrow(/larger than 2048 bytes, too large for a case file/);
    expect(readBoundedFile(p, 'case file', 4096)).toHaveLength(2049);
  });

  test('through the CLI: verify given a FIFO or /dev/zero as its manifest fails in one line, at once', () => {
    const fifo = join(tmp.dir, 'cli-fifo.manifest.json');
    spawnSync('mkfifo', [fifo]);
    const link = join(tmp.dir, 'cli-zero.manifest.json');
    symlinkSync('/dev/zero', link);
    for (const p of [fifo, link]) {
      const r = runCli(['verify', p, '--no-progress']);
      expect(r.status).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/read only from a regular file/);
    }
  });
});

describe('the CLI never writes through a planted link or onto evidence', () => {
  const partialRun = (out: string, src: string) => {
    // An interrupted acquisition (Ctrl-C right away) leaves a journal and a partial image.
    const r = spawnSync(process.execPath, [join(__dirname, '../../bin/run.js'), 'acquire', src, '-o', out, '--name', 'ev', '--no-progress', '--max-rate', '1MB'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' },
      timeout: 1500,
      killSignal: 'SIGINT',
    });
    return r;
  };

  test('a symbolic link planted at NAME.raw.partial before --resume: refused in one line, the source untouched', () => {
    const src = join(tmp.dir, 'src-resume.img');
    writeFileSync(src, pseudoRandomBytes(8 << 20, 2));
    const before = digestOf('sha256sum', src);
    const out = join(tmp.dir, 'out-resume');
    partialRun(out, src);
    expect(existsSync(join(out, 'ev.resume.json'))).toBe(true);
    const partial = join(out, 'ev.raw.partial');
    for (const target of [src, join(tmp.dir, 'does-not-exist')]) {
      spawnSync('rm', ['-f', partial]);
      symlinkSync(target, partial);
      const r = runCli(['acquire', src, '-o', out, '--name', 'ev', '--no-progress', '--resume']);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/ev\.raw\.partial is a symbolic link, not the partial image custos wrote/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(digestOf('sha256sum', src)).toBe(before);
    }
  });

  test('an output name that is the source file itself is refused; the source is untouched', () => {
    const dir = join(tmp.dir, 'same-dir');
    mkdirSync(dir);
    const src = join(dir, 'ev.raw');
    writeFileSync(src, pseudoRandomBytes(1 << 20, 3));
    const before = digestOf('sha256sum', src);
    const r = runCli(['acquire', src, '-o', dir, '--name', 'ev', '--no-progress']);
    expect(r.status).toBe(3);
    expect(digestOf('sha256sum', src)).toBe(before);
    // And a report with --force never replaces the image it verifies.
    const acq = runCli(['acquire', SAMPLE_IMAGE, '-o', join(tmp.dir, 'for-report'), '--name', 'r', '--no-progress']);
    expect(acq.status).toBe(0);
    const img = join(tmp.dir, 'for-report', 'r.raw');
    const rep = runCli(['report', 'verification', join(tmp.dir, 'for-report', 'r.manifest.json'), '--out', img, '--force']);
    expect(rep.status).toBe(3);
    expect(rep.stderr).toMatch(/is evidence being read/);
    expect(digestOf('md5sum', img)).toBe(digestOf('md5sum', SAMPLE_IMAGE));
  });
});

test('a hash-windows file or manifest name cannot be pre-planted as a link to the source', () => {
  const src = join(tmp.dir, 'src-planted.img');
  writeFileSync(src, pseudoRandomBytes(2 << 20, 4));
  const before = digestOf('sha256sum', src);
  const out = join(tmp.dir, 'out-planted');
  mkdirSync(out);
  symlinkSync(src, join(out, 'p.windows.json'));
  const r = runCli(['acquire', src, '-o', out, '--name', 'p', '--hash-window', '1MiB', '--no-progress']);
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(/p\.windows\.json is a symbolic link/);
  expect(digestOf('sha256sum', src)).toBe(before);
  const fd = openSync(src, 'r');
  closeSync(fd);
});

test('ledger head --out: never over an existing file without --force, and never over the case\'s evidence or ledger even with it', () => {
  const env = { CUSTOS_HOME: join(tmp.dir, 'head-home'), CUSTOS_PASSPHRASE: 'head passphrase', CUSTOS_CASE_DIR: join(tmp.dir, 'head-case') };
  expect(runCli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner'], { env }).status).toBe(0);
  expect(runCli(['case', 'init', env.CUSTOS_CASE_DIR, '--case', 'HEAD-1'], { env }).status).toBe(0);
  const out = join(tmp.dir, 'head-out', 'nested');
  const a = runCli(['acquire', SAMPLE_IMAGE, '-o', out, '--name', 'h', '--no-progress'], { env });
  expect(a.status).toBe(0);
  // --out is created when missing, with its parents, and custos says so.
  expect(a.stderr).toContain(`created output folder ${join(tmp.dir, 'head-out')}`);
  const image = join(out, 'h.raw');
  const before = digestOf('sha256sum', image);
  // The acquisition was recorded in the case: its image is evidence the case names.
  for (const [target, force] of [[image, false], [image, true], [join(env.CUSTOS_CASE_DIR, 'custody.jsonl'), true]] as const) {
    const forced = runCli(['ledger', 'head', '--out', target, ...(force ? ['--force'] : [])], { env });
    expect(forced.status).toBe(3);
    expect(forced.stderr).toMatch(/is evidence being read; it is never a write target/);
  }
  expect(digestOf('sha256sum', image)).toBe(before);
  expect(runCli(['ledger', 'verify'], { env }).status).toBe(0);
  // An ordinary file is replaced with --force, atomically.
  const headFile = join(tmp.dir, 'head.json');
  expect(runCli(['ledger', 'head', '--out', headFile], { env }).status).toBe(0);
  const again = runCli(['ledger', 'head', '--out', headFile], { env });
  expect(again.status).toBe(3);
  expect(again.stderr).toMatch(/head\.json already exists/);
  expect(runCli(['ledger', 'head', '--out', headFile, '--force'], { env }).status).toBe(0);
  expect(JSON.parse(readFileSync(headFile, 'utf8')).case).toBe('HEAD-1');
});
