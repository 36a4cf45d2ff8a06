/**
 * Which devices and files belong to a piece of evidence (sysfs, src/source/evidence.ts), and
 * protectSource, which registers them so that no write lands on them: a regular file and every
 * hard link to it; a block device with its family, the files behind loop devices in it, and the
 * file systems mounted from any of them. Fake sysfs trees for the walk; real loop devices as root.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeNewFile } from '../../../src/fsutil';
import { assertWritable, devNumber, forgetProtectedEvidence, protectedEvidence } from '../../../src/protect';
import { deviceFamily, protectSource } from '../../../src/source/evidence';
import { digestOf, makeTempDir, pseudoRandomBytes, SAMPLE_IMAGE } from '../../helpers';
import { Loops, loopSkipReason, sh } from './loop-support';

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

  test('the dm device: both legs, the disk of the partition leg and its sibling partition', () => {
    const f = deviceFamily('253:99', sys);
    expect([...f.devices.entries()].sort()).toEqual([
      ['253:99', 'dm-0'],
      ['8:0', 'sda'],
      ['8:1', 'sda1'],
      ['8:2', 'sda2'],
      [hostDev, 'vdz'],
      ['7:7', 'loop7'],
    ].sort());
  });
});

describe('protectSource on a regular file', () => {
  test('the file and a hard link to it are refused by assertWritable; a new file beside it is not; the file is unchanged', () => {
    const dir = join(tmp.dir, 'regular');
    mkdirSync(dir);
    const ev = join(dir, 'usb.dd');
    writeFileSync(ev, pseudoRandomBytes(64 << 10, 7));
    const before = digestOf('sha256sum', ev);
    protectSource(ev);
    const st = statSync(ev);
    expect(protectedEvidence()).toEqual({ devices: [], files: [{ key: `${st.dev}:${st.ino}`, path: ev }] });
    const hard = join(dir, 'report.pdf');
    linkSync(ev, hard);
    expect(() => assertWritable(ev)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: `${ev} is evidence being read; it is never a write target` }));
    expect(() => assertWritable(hard)).toThrow(
      expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: `${hard} is evidence being read (the same file as ${ev}, through a hard link); it is never a write target` }),
    );
    expect(() => writeFileAtomic(hard, 'report', { replace: true })).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    // A file is protected by its inode, not its device: the folder it lies in stays usable.
    writeNewFile(join(dir, 'usb.manifest.json'), '{}');
    expect(readFileSync(join(dir, 'usb.manifest.json'), 'utf8')).toBe('{}');
    expect(digestOf('sha256sum', ev)).toBe(before);
  });

  test('a missing path, a folder or a character device protects nothing (opening it reports what is wrong)', () => {
    protectSource(join(tmp.dir, 'no-such-source'));
    protectSource(tmp.dir);
    protectSource('/dev/null');
    expect(protectedEvidence()).toEqual({ devices: [], files: [] });
  });
});

const skipLoop = loopSkipReason(['losetup', 'blockdev', 'mount', 'mkfs.ext4']);
if (skipLoop) test.skip(`loop-device evidence tests skipped: ${skipLoop}`, () => undefined);

(skipLoop ? describe.skip : describe)('protectSource on a real loop device (root)', () => {
  const loops = new Loops();
  afterAll(() => loops.cleanup());

  test('the device and its backing file (and a hard link to it) are refused; the backing file is unchanged', () => {
    const backing = join(tmp.dir, 'loop-backing.img');
    copyFileSync(SAMPLE_IMAGE, backing);
    const before = digestOf('sha256sum', backing);
    const dev = loops.attach(backing, { readOnly: true });
    const number = devNumber(statSync(dev).rdev);
    expect(number).toBe(sh('cat', [`/sys/class/block/${dev.slice(5)}/dev`]));
    protectSource(dev);
    const p = protectedEvidence();
    expect(p.devices).toEqual([{ dev: number, what: dev, evidence: dev }]);
    const st = statSync(backing);
    expect(p.files).toEqual([{ key: `${st.dev}:${st.ino}`, path: backing }]);
    expect(() => assertWritable(dev)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: `${dev} is ${dev}, part of the evidence ${dev}; it is never a write target` }));
    expect(() => assertWritable(backing)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: `${backing} is evidence being read; it is never a write target` }));
    const hard = join(tmp.dir, 'backing-twin.img');
    linkSync(backing, hard);
    expect(() => writeFileAtomic(hard, 'x', { replace: true })).toThrow(/through a hard link/);
    expect(digestOf('sha256sum', backing)).toBe(before);
  });

  test('a file system mounted from the device is never written; a loop device over a file inside it joins the family', () => {
    const backing = join(tmp.dir, 'ext4-backing.img');
    sh('truncate', ['-s', '16M', backing]);
    sh('mkfs.ext4', ['-q', '-F', backing]);
    const dev = loops.attach(backing);
    const mnt = join(tmp.dir, 'ext4-mnt');
    mkdirSync(mnt);
    loops.mount(dev, mnt);
    // An image file on the evidence's file system, attached as a loop device of its own.
    const inner = join(mnt, 'inner.img');
    writeFileSync(inner, Buffer.alloc(1 << 20));
    const innerDev = loops.attach(inner, { readOnly: true });
    const number = devNumber(statSync(dev).rdev);
    const innerNumber = devNumber(statSync(innerDev).rdev);

    const f = deviceFamily(number);
    expect([...f.devices.entries()].sort()).toEqual([
      [number, dev.slice(5)],
      [innerNumber, innerDev.slice(5)],
    ].sort());
    expect(f.backingFiles).toEqual([backing]);

    protectSource(dev);
    expect(() => writeNewFile(join(mnt, 'planted.txt'), 'x')).toThrow(
      expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: expect.stringMatching(new RegExp(`planted\\.txt would be written onto ${dev} \\(device ${number}, via .*\\), which is part of the evidence ${dev}$`)) }),
    );
    expect(existsSync(join(mnt, 'planted.txt'))).toBe(false);
    expect(() => assertWritable(innerDev)).toThrow(expect.objectContaining({ message: `${innerDev} is ${innerDev}, part of the evidence ${dev}; it is never a write target` }));
    // Outside the evidence, writing goes on.
    writeNewFile(join(tmp.dir, 'outside.txt'), 'ok');
  });
});
