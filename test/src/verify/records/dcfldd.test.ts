/** dcfldd hash logs (src/verify/records/dcfldd.ts): recorded runs of dcfldd on the sample, checked against coreutils. */
import { readExpectFile } from '../../../../src/verify/records';
import { expectKnownAnswer, fx, SAMPLE_SIZE, sliceDigest } from './support';

describe('records about the sample give the digests coreutils computes', () => {
  const cases: [string, ('md5' | 'sha1' | 'sha256' | 'sha512')[], string, string | undefined][] = [
    ['dcfldd/dcfldd.hashlog', ['md5', 'sha1', 'sha256', 'sha512'], 'dcfldd', undefined],
    ['dcfldd/dcfldd-window.hashlog', ['md5', 'sha256'], 'dcfldd', undefined],
    ['dcfldd/dcfldd-split.hashlog', ['md5', 'sha1'], 'dcfldd', undefined],
    ['dcfldd/dcfldd.stderr', ['md5', 'sha256'], 'dcfldd', undefined],
    ['dcfldd/dcfldd.md5log', ['md5'], 'dcfldd', undefined],
    ['dcfldd/dcfldd.sha1log', ['sha1'], 'dcfldd', undefined],
  ];
  test.each(cases)('%s', (file, algs, toolName, version) => expectKnownAnswer(readExpectFile, file, algs, toolName, version));
});

test('dcfldd hashwindow=3M: three windows and the total, agreeing with coreutils on the slices', () => {
  const MiB3 = 3 * 1024 * 1024;
  const slices = [
    [0, MiB3],
    [MiB3, MiB3],
    [2 * MiB3, SAMPLE_SIZE - 2 * MiB3],
  ] as const;
  const r = readExpectFile(fx('dcfldd/dcfldd-window.hashlog'));
  expect(r.size).toBe(SAMPLE_SIZE);
  expect(r.pieces.map((p) => [p.offset, p.length])).toEqual(slices.map(([o, l]) => [o, l]));
  r.pieces.forEach((p, i) => {
    const [o, l] = slices[i]!;
    expect(p.hashes).toEqual({ md5: sliceDigest('md5sum', o, l), sha256: sliceDigest('sha256sum', o, l) });
  });
});
