/** dc3dd logs (src/verify/records/dc3dd.ts): recorded runs of dc3dd on the sample, checked against coreutils. */
import { readExpectFile } from '../../../../src/verify/records';
import { expectKnownAnswer, failure, fx, sample, SAMPLE_SIZE, sliceDigest } from './support';

describe('records about the sample give the digests coreutils computes', () => {
  const cases: [string, ('md5' | 'sha1' | 'sha256' | 'sha512')[], string, string | undefined][] = [
    ['dc3dd/dc3dd.log', ['md5', 'sha1', 'sha256', 'sha512'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd.hlog', ['md5', 'sha1', 'sha256', 'sha512'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd.stderr', ['md5', 'sha1', 'sha256', 'sha512'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd-hofs.log', ['md5', 'sha1', 'sha256'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd-hofs.hlog', ['md5', 'sha1', 'sha256'], 'dc3dd', '7.2.646'],
  ];
  test.each(cases)('%s', (file, algs, toolName, version) => expectKnownAnswer(readExpectFile, file, algs, toolName, version));

  test('what the record says about its subject and size', () => {
    const dc3dd = readExpectFile(fx('dc3dd/dc3dd.log'));
    expect(dc3dd).toMatchObject({ format: 'dc3dd', subject: 'fat-disk.img', imageFiles: ['fat-disk.dd'], size: SAMPLE_SIZE, notes: [] });
  });
});

test('dc3dd hofs= (hlog): three pieces named fat-disk.000 to .002, and the total, agreeing with coreutils on the slices', () => {
  const MiB3 = 3 * 1024 * 1024;
  const slices = [
    [0, MiB3],
    [MiB3, MiB3],
    [2 * MiB3, SAMPLE_SIZE - 2 * MiB3],
  ] as const;
  const r = readExpectFile(fx('dc3dd/dc3dd-hofs.hlog'));
  expect(r.size).toBe(SAMPLE_SIZE);
  expect(r.pieces.map((p) => [p.name, p.offset, p.length])).toEqual(slices.map(([o, l], i) => [`fat-disk.00${i}`, o, l]));
  r.pieces.forEach((p, i) => {
    const [o, l] = slices[i]!;
    expect(p.hashes).toEqual({ md5: sliceDigest('md5sum', o, l), sha1: sliceDigest('sha1sum', o, l), sha256: sliceDigest('sha256sum', o, l) });
  });
  expect(r.imageFiles).toEqual(['fat-disk.000', 'fat-disk.001', 'fat-disk.002']);
  expect(r.notes).toEqual(['this file does not state the sector size; piece offsets assume 512-byte sectors']);
});

describe('refusals name the file and what is wrong', () => {
  test('a dc3dd run that never completed', () => {
    const e = failure(() => readExpectFile(fx('dc3dd/dc3dd-interrupted.log')));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(
      `${fx('dc3dd/dc3dd-interrupted.log')}: the dc3dd run started 2026-11-23 13:46:59 +0000 ('big.sparse' to '/dev/null') was aborted after 202080256 bytes (5%): its hashes cover only what was read before it stopped`,
    );
    expect(e.hint).toContain('dc3dd completed at');
    expect(failure(() => readExpectFile(fx('dc3dd/dc3dd-aborted.log'))).message).toContain('no dc3dd run in it recorded a hash');
  });

  test('appended dc3dd runs: the one about the target, or a refusal listing them', () => {
    const whole = readExpectFile(fx('dc3dd/dc3dd-appended.log'), '/x/copy.dd');
    expect(whole.hashes).toEqual(sample('md5', 'sha256'));
    expect(whole.notes[0]).toContain('1 other dc3dd run(s) in this log were not used');
    const piece = readExpectFile(fx('dc3dd/dc3dd-appended.log'), '/x/piece.dd');
    expect(piece.hashes).toEqual({ md5: sliceDigest('md5sum', 0, 3 * 1024 * 1024), sha256: sliceDigest('sha256sum', 0, 3 * 1024 * 1024) });
    expect(piece.subject).toBe('fat-disk.000');
    const e = failure(() => readExpectFile(fx('dc3dd/dc3dd-appended.log'), '/x/other.img'));
    expect(e.message).toContain("holds 2 dc3dd runs with different hashes and none is clearly about 'other.img'");
    expect(e.message).toContain("('fat-disk.000' to 'piece.dd')");
    expect(e.message).toContain("('fat-disk.img' to 'copy.dd')");
  });
});
