/** compareHashes and allMatch: what is compared, in which order, and what counts as a match. */
import { CustosBug } from '../../../src/errors';
import { allMatch, compareHashes } from '../../../src/verify/compare';
import { bytesDigest, thrownSync } from '../image-support';

const md5 = bytesDigest('md5sum', Buffer.from('custos'));
const sha1 = bytesDigest('sha1sum', Buffer.from('custos'));
const sha256 = bytesDigest('sha256sum', Buffer.from('custos'));

test('only the expected algorithms are compared, in the canonical order (md5, sha1, sha256, …), whatever the key order', () => {
  const c = compareHashes({ sha256, md5 }, { sha1, sha256, md5 });
  expect(c).toEqual([
    { algorithm: 'md5', expected: md5, actual: md5, match: true },
    { algorithm: 'sha256', expected: sha256, actual: sha256, match: true },
  ]);
  expect(allMatch(c)).toBe(true);
});

test('expected values are compared case-insensitively (as tools print them in upper case) and reported in lower case', () => {
  const c = compareHashes({ md5: md5.toUpperCase() }, { md5 });
  expect(c).toEqual([{ algorithm: 'md5', expected: md5, actual: md5, match: true }]);
});

test('one differing digest makes the comparison and allMatch false', () => {
  const other = bytesDigest('md5sum', Buffer.from('custos\n'));
  const c = compareHashes({ md5: other, sha1 }, { md5, sha1 });
  expect(c.map((x) => [x.algorithm, x.match])).toEqual([
    ['md5', false],
    ['sha1', true],
  ]);
  expect(c[0]!.expected).toBe(other);
  expect(c[0]!.actual).toBe(md5);
  expect(allMatch(c)).toBe(false);
});

test('nothing compared is not a match', () => {
  expect(compareHashes({}, { md5 })).toEqual([]);
  expect(allMatch([])).toBe(false);
});

test('an expected algorithm that was not computed is a bug of custos, not a mismatch', () => {
  const e = thrownSync(() => compareHashes({ md5, sha256 }, { md5 }));
  expect(e).toBeInstanceOf(CustosBug);
  expect(e.message).toBe('compareHashes: sha256 was not computed');
});
