/**
 * Nothing custos writes may land on evidence: not on a source or image file (or a hard link to
 * one), not through a symbolic link, not on the source's device or anything mounted from it. The
 * fsutil helpers themselves are tested in fsutil.test.ts, the families of devices in
 * source/evidence.test.ts, and the same rules through the CLI in commands/write-safety.test.ts.
 */
import { linkSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, openExistingForWrite, writeFileAtomic, writeNewFile } from '../../src/fsutil';
import { assertWritable, devNumber, forgetProtectedEvidence, protectDevice, protectedEvidence, protectFile } from '../../src/protect';
import { digestOf, makeTempDir, pseudoRandomBytes, tool } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());
afterEach(() => forgetProtectedEvidence());

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

  test('nothing is written into a folder on a protected device, nor a folder created there', () => {
    protectDevice(devNumber(statSync(tmp.dir).dev), '/dev/test-evidence', '/dev/test-evidence');
    expect(() => writeNewFile(join(tmp.dir, 'on-evidence.txt'), 'x')).toThrow(/would be written onto \/dev\/test-evidence/);
    expect(() => ensureDir(join(tmp.dir, 'a', 'b'))).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    expect(existsSync(join(tmp.dir, 'on-evidence.txt'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'a'))).toBe(false);
    expect(() => assertWritable(join(tmp.dir, 'x'))).toThrow(expect.objectContaining({ hint: expect.stringContaining('--allow-mounted never lifts this') }));
  });
});


describe('device numbers and what is protected', () => {
  test('devNumber splits st_rdev and st_dev as coreutils stat does', () => {
    expect(devNumber(statSync('/dev/null').rdev)).toBe(tool('stat', ['-c', '%Hr:%Lr', '/dev/null']).trim());
    expect(devNumber(statSync(tmp.dir).dev)).toBe(tool('stat', ['-c', '%Hd:%Ld', tmp.dir]).trim());
  });

  test('devNumber decodes the glibc encoding up to the kernel\'s 12-bit majors and 20-bit minors (known values)', () => {
    expect(devNumber(259 << 8)).toBe('259:0'); // an NVMe namespace
    expect(devNumber(0x10_0000)).toBe('0:256');
    expect(devNumber((8 << 8) | 17)).toBe('8:17');
    expect(devNumber(0xffff_ffff)).toBe('4095:1048575');
    expect(devNumber(BigInt(0x0f_ff00 | 0x12) | (0xabcn << 20n))).toBe('4095:703506');
  });

  test('protections are listed, kept once per device or inode, and forgotten together', () => {
    const f = join(tmp.dir, 'listed.bin');
    writeFileSync(f, 'x');
    protectFile(f);
    protectFile(f);
    protectDevice('8:0', '/dev/sda', '/dev/sda1');
    protectDevice('8:0', '/dev/other', '/dev/other');
    const st = statSync(f);
    expect(protectedEvidence()).toEqual({ devices: [{ dev: '8:0', what: '/dev/sda', evidence: '/dev/sda1' }], files: [{ key: `${st.dev}:${st.ino}`, path: f }] });
    forgetProtectedEvidence();
    expect(protectedEvidence()).toEqual({ devices: [], files: [] });
    writeFileAtomic(f, 'y', { replace: true });
    expect(readFileSync(f, 'utf8')).toBe('y');
  });

  test('a folder whose mount names a protected device (btrfs and overlay report anonymous st_dev) is refused, via the mount', () => {
    const dir = join(tmp.dir, 'on-mount');
    mkdirSync(dir);
    // mountinfo(5) line: the folder is the mount point of a file system on 250:7 (/dev/fake-evidence).
    const mountinfo = join(tmp.dir, 'mountinfo');
    writeFileSync(mountinfo, `36 35 250:7 / ${dir} rw,relatime shared:1 - btrfs /dev/fake-evidence rw\n`);
    protectDevice('250:7', '/dev/fake-evidence', '/dev/fake-evidence');
    expect(() => assertWritable(join(dir, 'image.raw'), { mountinfo })).toThrow(
      expect.objectContaining({ code: 'UNSAFE_OUTPUT', message: `${join(dir, 'image.raw')} would be written onto /dev/fake-evidence (device 250:7, via the mount ${dir}), which is part of the evidence /dev/fake-evidence` }),
    );
    // Without that mount, the same folder is not on the evidence.
    const elsewhere = join(tmp.dir, 'mountinfo-empty');
    writeFileSync(elsewhere, '');
    expect(() => assertWritable(join(dir, 'image.raw'), { mountinfo: elsewhere })).not.toThrow();
  });

  test('ownRecord: a protected file custos appends to itself (the ledger) is writable as such, never otherwise', () => {
    const ledger = join(tmp.dir, 'custody.jsonl');
    writeFileSync(ledger, '{}\n');
    protectFile(ledger);
    expect(() => assertWritable(ledger)).toThrow(/is evidence being read/);
    expect(() => assertWritable(ledger, { ownRecord: true })).not.toThrow();
    const twin = join(tmp.dir, 'custody-twin.jsonl');
    linkSync(ledger, twin);
    expect(() => openExistingForWrite(twin)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    expect(readFileSync(ledger, 'utf8')).toBe('{}\n');
  });
});
