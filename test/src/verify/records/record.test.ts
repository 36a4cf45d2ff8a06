/**
 * What every record kind shares (src/verify/records/record.ts): the bytes a run of pieces covers,
 * and choosing the one run or block about the image among several. Through real logs:
 * dc3dd.test.ts (appended runs), dcfldd.test.ts (hash windows).
 */
import { ALG_BY_NAME, coveredSize, pickOne } from '../../../../src/verify/records/record';
import { RecordReader } from '../../../../src/verify/records/text';
import { failure } from './support';

test('pieces cover the input only from byte 0, without a hole or an overlap, each of known length', () => {
  const h = {};
  expect(coveredSize([])).toBeUndefined();
  expect(coveredSize([{ offset: 0, length: 512, hashes: h }, { offset: 512, length: 100, hashes: h }])).toBe(612);
  expect(coveredSize([{ offset: 512, length: 512, hashes: h }])).toBeUndefined();
  expect(coveredSize([{ offset: 0, length: 512, hashes: h }, { offset: 1024, length: 512, hashes: h }])).toBeUndefined();
  expect(coveredSize([{ offset: 0, length: 512, hashes: h }, { offset: 256, length: 512, hashes: h }])).toBeUndefined();
  expect(coveredSize([{ offset: 0, hashes: h }])).toBeUndefined();
  expect(coveredSize([{ offset: 0, length: 0, hashes: h }])).toBeUndefined();
});

describe('one among several', () => {
  const r = new RecordReader('runs.log');
  const a = { names: ['/evidence/disk.dd', 'C:\\cases\\disk.dd'], hashes: { md5: 'a'.repeat(32) } };
  const b = { names: ['copy.dd'], hashes: { md5: 'b'.repeat(32) } };
  const pick = (items: (typeof a)[], target?: string) => pickOne(items, (x) => x.names, (x) => x.hashes, (x) => x.names[0]!, r, target, 'runs');

  test('the only one; the one naming the target by file name (POSIX or Windows path); any when all agree', () => {
    expect(pick([a])).toBe(a);
    expect(pick([a, b], '/mnt/images/copy.dd')).toBe(b);
    expect(pick([b, a], '/elsewhere/disk.dd')).toBe(a);
    const same = { names: ['other.dd'], hashes: { md5: 'a'.repeat(32) } };
    expect(pick([a, same], '/x/unrelated.img')).toBe(a);
  });

  test('otherwise refused, naming the file, the target and the candidates', () => {
    const e = failure(() => pick([a, b], '/x/unrelated.img'));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe("runs.log: holds 2 runs with different hashes and none is clearly about 'unrelated.img': /evidence/disk.dd; copy.dd");
    expect(failure(() => pick([a, b])).message).toContain('none is clearly about this image');
  });

  test('algorithm names as the tools print them', () => {
    expect(['md5', 'sha1', 'sha-1', 'sha256', 'sha-256', 'sha512'].map((n) => ALG_BY_NAME[n])).toEqual(['md5', 'sha1', 'sha1', 'sha256', 'sha256', 'sha512']);
    expect(ALG_BY_NAME.sha384).toBeUndefined();
  });
});
