import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaProblems } from '../../src/schema';
import { digestOf, hasTool, ROOT, SAMPLE_IMAGE, tool } from '../helpers';

const samples = join(ROOT, 'samples');

test('samples/case.json is a valid case description', () => {
  const data = JSON.parse(readFileSync(join(samples, 'case.json'), 'utf8'));
  expect(schemaProblems('case', data)).toEqual([]);
  expect(schemaProblems('case', { ...data, examiner: '' })).not.toEqual([]);
  expect(schemaProblems('case', { ...data, extra: 1 })).not.toEqual([]);
});

test('the committed checksum files match the committed image (coreutils -c)', () => {
  for (const [cmd, file] of [
    ['md5sum', 'MD5SUMS'],
    ['sha1sum', 'SHA1SUMS'],
    ['sha256sum', 'SHA256SUMS'],
  ]) {
    expect(tool(cmd!, ['--strict', '-c', file!], samples)).toBe('fat-disk.img: OK\n');
  }
});

test('the sample is a disk with an MBR and a FAT16 partition', () => {
  const img = readFileSync(SAMPLE_IMAGE);
  expect(img.length).toBe(8 * 1024 * 1024);
  expect(img.readUInt16LE(510)).toBe(0xaa55); // MBR boot signature
  expect(img[0x1be + 4]).toBe(0x0e); // partition 1: FAT16 (LBA)
  const start = img.readUInt32LE(0x1be + 8) * 512;
  expect(start).toBe(1024 * 1024);
  expect(img.subarray(start + 54, start + 62).toString('latin1')).toBe('FAT16   ');
  // The deleted file's text is still in unallocated space: what examiners look for.
  expect(img.includes('DELETE AFTER READING')).toBe(true);
});

const canRebuild = ['sfdisk', 'mkfs.fat', 'mcopy', 'faketime', 'python3'].every(hasTool);
(canRebuild ? test : test.skip)('samples/make-sample.sh rebuilds the committed image byte for byte', () => {
  const out = tool('mktemp', ['-d']).trim();
  try {
    tool('bash', [join(samples, 'make-sample.sh'), out]);
    expect(digestOf('sha256sum', join(out, 'fat-disk.img'))).toBe(digestOf('sha256sum', SAMPLE_IMAGE));
  } finally {
    tool('rm', ['-rf', out]);
  }
});
