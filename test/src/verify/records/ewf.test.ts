/** libewf tool output (src/verify/records/ewf.ts): recorded ewfacquire and ewfverify runs on the sample. */
import { readExpectFile } from '../../../../src/verify/records';
import { expectKnownAnswer, fx, sample, SAMPLE_SIZE } from './support';

describe('records about the sample give the digests coreutils computes', () => {
  const cases: [string, ('md5' | 'sha1' | 'sha256' | 'sha512')[], string, string | undefined][] = [
    ['ewf/ewfacquire.stdout', ['md5', 'sha1', 'sha256'], 'ewfacquire', '20140813'],
    ['ewf/ewfacquire.log', ['md5', 'sha1', 'sha256'], 'ewfacquire', undefined],
    ['ewf/ewfverify.stdout', ['md5', 'sha1', 'sha256'], 'ewfverify', '20140813'],
    ['ewf/ewfverify.log', ['md5', 'sha1', 'sha256'], 'ewfverify', undefined],
    ['ewf/ewfverify-plain.stdout', ['md5', 'sha1'], 'ewfverify', '20140813'],
  ];
  test.each(cases)('%s', (file, algs, toolName, version) => expectKnownAnswer(readExpectFile, file, algs, toolName, version));

  test('what the records say about the size', () => {
    expect(readExpectFile(fx('ewf/ewfacquire.stdout')).size).toBe(SAMPLE_SIZE);
    expect(readExpectFile(fx('ewf/ewfverify.stdout')).size).toBe(SAMPLE_SIZE);
  });
});

test('ewfverify FAILURE: the stored (acquisition) value is expected, and the failure is told', () => {
  for (const f of ['ewf/ewfverify-failure.stdout', 'ewf/ewfverify-failure.log']) {
    const r = readExpectFile(fx(f));
    expect(r.hashes).toEqual(sample('md5', 'sha1'));
    expect(r.notes[0]).toContain('356efce4a6fcf52ac213897266a78bb0');
    expect(r.notes.join(' ')).toContain('1 range(s) of sectors that failed their checksum');
  }
  expect(readExpectFile(fx('ewf/ewfverify-failure.stdout')).notes).toContain('ewfverify reported FAILURE');
});
