/** --expect values (src/verify/records/resolve.ts): ALG=HEX and record files merged, conflicts and malformed values refused. */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveExpected } from '../../../../src/verify/records';
import { SAMPLE_IMAGE } from '../../../helpers';
import { failure, fx, type SampleDigests, sample, sampleDigests, SAMPLE_SIZE, tempFiles } from './support';

const tmp = tempFiles();
afterAll(() => tmp.cleanup());
let SAMPLE: SampleDigests;
beforeAll(() => {
  SAMPLE = sampleDigests();
});

describe('resolveExpected', () => {
  test('ALG=HEX values and record files, merged', () => {
    const r = resolveExpected([`MD5=${SAMPLE.md5.toUpperCase()}`, fx('sums/SHA256SUMS'), fx('dc3dd/dc3dd.log')], SAMPLE_IMAGE);
    expect(r.expected).toEqual(sample('md5', 'sha1', 'sha256', 'sha512'));
    expect(r.sources).toEqual([
      { file: fx('sums/SHA256SUMS'), tool: 'sha256sum', subject: 'fat-disk.img', notes: [] },
      { file: fx('dc3dd/dc3dd.log'), tool: 'dc3dd', version: '7.2.646', subject: 'fat-disk.img', size: SAMPLE_SIZE, notes: [] },
    ]);
  });

  test('every tool record about the sample agrees with every other', () => {
    const all = ['dc3dd/dc3dd.log', 'dcfldd/dcfldd.hashlog', 'ewf/ewfverify.log', 'guymager/guymager-adapted-fat-disk.info', 'ftk/ftk-adapted-fat-disk.txt', 'sums/cksum-tagged.txt', 'sums/openssl-sha3-256.txt'];
    const r = resolveExpected(all.map(fx), SAMPLE_IMAGE);
    expect(r.sources.map((s) => s.tool)).toEqual(['dc3dd', 'dcfldd', 'ewfverify', 'Guymager', 'FTK Imager', 'cksum', 'openssl dgst']);
    expect(Object.keys(r.expected).sort()).toEqual(['md5', 'sha1', 'sha256', 'sha3-256', 'sha512']);
  });

  test('conflicting values are refused, naming both origins', () => {
    const wrong = `md5=${'0'.repeat(32)}`;
    const e = failure(() => resolveExpected([wrong, fx('sums/MD5SUMS')], SAMPLE_IMAGE));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`--expect: MD5 ${'0'.repeat(32)} (from --expect ${wrong}) differs from ${SAMPLE.md5} (from md5sum record ${fx('sums/MD5SUMS')})`);
    const twoFiles = failure(() => resolveExpected([fx('guymager/guymager-0.7.3-evidence1.info'), fx('sums/MD5SUMS')], SAMPLE_IMAGE));
    expect(twoFiles.message).toContain('Guymager record');
  });

  test('a malformed ALG=HEX is a usage error, not a missing file', () => {
    expect(failure(() => resolveExpected(['md5=xyz'], SAMPLE_IMAGE)).code).toBe('USAGE');
    expect(failure(() => resolveExpected(['sha256=abc'], SAMPLE_IMAGE)).code).toBe('USAGE');
    expect(failure(() => resolveExpected([join(tmp.dir(), 'no-such.log')], SAMPLE_IMAGE)).code).toBe('FILE_NOT_FOUND');
    expect(resolveExpected([], SAMPLE_IMAGE)).toEqual({ expected: {}, sources: [] });
  });

  test('a record file whose name looks like a value is still read when it exists', () => {
    copyFileSync(fx('sums/MD5SUMS'), join(tmp.dir(), 'md5=sums'));
    const cwd = process.cwd();
    process.chdir(tmp.dir());
    try {
      expect(resolveExpected(['md5=sums'], SAMPLE_IMAGE).expected).toEqual(sample('md5'));
    } finally {
      process.chdir(cwd);
    }
  });
});

