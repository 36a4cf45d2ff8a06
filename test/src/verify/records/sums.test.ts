/**
 * Sums files (src/verify/records/sums.ts): md5sum/sha*sum (GNU and --tag), cksum and openssl dgst
 * output about the sample, checked against coreutils and openssl; picking the line of the image.
 */
import { join } from 'node:path';
import { readExpectFile } from '../../../../src/verify/records';
import { hasTool, SAMPLE_IMAGE, tool } from '../../../helpers';
import { expectKnownAnswer, failure, FIX, fx, sample, sampleDigests, sliceDigest, tempFiles } from './support';

const tmp = tempFiles();
afterAll(() => tmp.cleanup());

describe('records about the sample give the digests coreutils computes', () => {
  const cases: [string, ('md5' | 'sha1' | 'sha256' | 'sha512')[], string, string | undefined][] = [
    ['sums/MD5SUMS', ['md5'], 'md5sum', undefined],
    ['sums/SHA1SUMS', ['sha1'], 'sha1sum', undefined],
    ['sums/SHA256SUMS', ['sha256'], 'sha256sum', undefined],
    ['sums/SHA512SUMS', ['sha512'], 'sha512sum', undefined],
    ['sums/sha256-tag.txt', ['sha256'], 'sha256sum --tag', undefined],
    ['sums/md5-binary.txt', ['md5'], 'md5sum', undefined],
    ['sums/cksum-tagged.txt', ['md5', 'sha1', 'sha256', 'sha512'], 'cksum', undefined],
    ['sums/multi.sha256', ['sha256'], 'sha256sum', undefined],
    ['sums/openssl-md5.txt', ['md5'], 'openssl dgst', undefined],
    ['sums/openssl-sha256.txt', ['sha256'], 'openssl dgst', undefined],
  ];
  test.each(cases)('%s', (file, algs, toolName, version) => expectKnownAnswer(readExpectFile, file, algs, toolName, version));

  test('openssl dgst -sha3-256 agrees with openssl run now', () => {
    const r = readExpectFile(fx('sums/openssl-sha3-256.txt'), SAMPLE_IMAGE);
    if (!hasTool('openssl')) return console.warn('skipped the live comparison: openssl is not installed');
    expect(r.hashes).toEqual({ 'sha3-256': tool('openssl', ['dgst', '-sha3-256', SAMPLE_IMAGE]).trim().split('= ')[1] });
  });

  test('what the record says about its subject', () => {
    expect(readExpectFile(fx('sums/SHA256SUMS'))).toMatchObject({ format: 'sums', subject: 'fat-disk.img' });
  });
});

describe('sums files', () => {
  test('escaped names (a backslash, a newline) are unescaped and picked by name', () => {
    expect(readExpectFile(fx('sums/escaped.sha256'), join(tmp.dir(), 'fat\\disk.img'))).toMatchObject({ hashes: sample('sha256'), subject: 'fat\\disk.img' });
    expect(readExpectFile(fx('sums/escaped.sha256'), join(tmp.dir(), 'fat\ndisk.img'))).toMatchObject({ hashes: sample('sha256'), subject: 'fat\ndisk.img' });
    expect(readExpectFile(fx('sums/escaped-tag.sha1'), 'whatever.img')).toMatchObject({ hashes: sample('sha1'), subject: 'fat\\disk.img' });
  });

  test('several files: the target line by name, or a refusal listing the names', () => {
    const r = readExpectFile(fx('sums/multi.sha256'), '/evidence/fat-disk.img');
    expect(r.hashes).toEqual(sample('sha256'));
    expect(r.notes).toEqual(["picked the line for 'fat-disk.img' among 5 files"]);
    const none = failure(() => readExpectFile(fx('sums/multi.sha256'), '/evidence/other.img'));
    expect(none.code).toBe('INVALID_INPUT');
    expect(none.message).toBe(`${fx('sums/multi.sha256')}: has no line for 'other.img'; it lists 'fat-disk.img', 'fat-disk.000', 'fat-disk.001', 'fat-disk.002', 'piece.dd'`);
    const noTarget = failure(() => readExpectFile(fx('sums/multi.sha256')));
    expect(noTarget.message).toContain('lists 5 files');
  });

  test('two files of the same name: picked by path, else refused naming both', () => {
    const amb = fx('sums/ambiguous.md5');
    const e = failure(() => readExpectFile(amb, '/elsewhere/fat-disk.img'));
    expect(e.message).toContain("lists 2 files named 'fat-disk.img' ('a/fat-disk.img', 'b/fat-disk.img')");
    expect(e.hint).toBeTruthy();
    // Beside the sums file, a/fat-disk.img is the copy of the sample.
    expect(readExpectFile(amb, join(FIX, 'sums', 'a', 'fat-disk.img')).hashes).toEqual(sample('md5'));
    expect(readExpectFile(amb, join(FIX, 'sums', 'b', 'fat-disk.img')).hashes).toEqual({ md5: sliceDigest('md5sum', 0, 3 * 1024 * 1024) });
  });

  test('an unsupported digest length is named; lines that are not checksums are refused', () => {
    const SAMPLE = sampleDigests();
    const sha224 = tmp.file('SHA224SUMS', tool('sha224sum', [SAMPLE_IMAGE]));
    expect(failure(() => readExpectFile(sha224, SAMPLE_IMAGE)).message).toContain('holds no digest custos can compare');
    const both = readExpectFile(tmp.file('BOTH', tool('sha224sum', [SAMPLE_IMAGE]) + tool('sha256sum', [SAMPLE_IMAGE])), SAMPLE_IMAGE);
    expect(both.hashes).toEqual(sample('sha256'));
    expect(both.notes).toEqual(['SHA224 digests are not algorithms custos computes; they are not compared']);
    const odd = tmp.file('ODD', `${'a'.repeat(33)}  x.img\n`);
    expect(failure(() => readExpectFile(odd)).message).toContain('a digest of 33 hex digits');
    const junk = tmp.file('JUNK', `${SAMPLE.md5}  fat-disk.img\nhello\n`);
    expect(failure(() => readExpectFile(junk)).message).toBe(`${junk}: line 2 is not a checksum line: 'hello'`);
    const esc = tmp.file('ESC', `\\${SAMPLE.md5}  bad\\qname\n`);
    expect(failure(() => readExpectFile(esc)).message).toContain('unknown escape');
  });
});
