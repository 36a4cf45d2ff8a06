import { parseSize } from '../../src/units';

test.each([
  ['650MiB', 650 * 2 ** 20],
  ['4GB', 4e9],
  ['2G', 2 * 2 ** 30],
  ['2GiB', 2 * 2 ** 30],
  ['1048576', 1048576],
  ['64 KiB', 65536],
  ['1.5MiB', 1.5 * 2 ** 20],
  ['1.4GiB', 1503238553],
])('parseSize(%j) = %i', (text, bytes) => {
  expect(parseSize(text)).toBe(bytes);
});

test.each(['', 'abc', '12XB', '-5M', '0', '0.3'])('parseSize(%j) is a usage error', (text) => {
  expect(() => parseSize(text, '--split-size')).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('--split-size') }));
});

test('--expect values: ALG=HEX with full-length digests, case-insensitive; anything else is a usage error', () => {
  const { parseExpected } = require('../../src/verify/verify') as typeof import('../../src/verify/verify');
  expect(parseExpected(['MD5=E59BF7CEE4C9E04C2B81E8580A848D74', 'sha-1:10f2553dec3e83ac26335d70df40bdc3ebd52204'])).toEqual({
    md5: 'e59bf7cee4c9e04c2b81e8580a848d74',
    sha1: '10f2553dec3e83ac26335d70df40bdc3ebd52204',
  });
  for (const bad of ['md5=abc', 'crc32=00000000', 'e59bf7cee4c9e04c2b81e8580a848d74']) {
    expect(() => parseExpected([bad])).toThrow(expect.objectContaining({ code: expect.stringMatching(/USAGE|UNKNOWN_ALGORITHM/) }));
  }
});
