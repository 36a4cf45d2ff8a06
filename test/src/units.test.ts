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
