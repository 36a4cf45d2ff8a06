/** Guymager .info files (src/verify/records/guymager.ts): one adapted to the sample, two from public repositories. */
import { readFileSync } from 'node:fs';
import { readExpectFile } from '../../../../src/verify/records';
import { expectKnownAnswer, failure, fx, SAMPLE_SIZE, tempFiles } from './support';

const tmp = tempFiles();
afterAll(() => tmp.cleanup());

describe('records about the sample give the digests coreutils computes', () => {
  test('guymager/guymager-adapted-fat-disk.info', () => expectKnownAnswer(readExpectFile, 'guymager/guymager-adapted-fat-disk.info', ['md5', 'sha256'], 'Guymager', '0.7.3-1'));

  test('what the record says about its subject and size', () => {
    expect(readExpectFile(fx('guymager/guymager-adapted-fat-disk.info'))).toMatchObject({ subject: '/dev/sdc', size: SAMPLE_SIZE });
  });
});

describe('records from public repositories (Guymager is not installed)', () => {
  test('Guymager 0.7.3: the SHA-256 its examiner quotes in the lab log', () => {
    const r = readExpectFile(fx('guymager/guymager-0.7.3-evidence1.info'));
    // The lab log's own prose: "The SHA-256 hash-sum of disk is 69bf6a0a…".
    expect(r.hashes).toEqual({ md5: '50decb45c3d56ffe1a3c538bb7898fd9', sha256: '69bf6a0a408347390fcbebaa99aef95b1e1df81ca24643186daff935b1e88429' });
    expect(r).toMatchObject({ tool: 'Guymager', version: '0.7.3-1', subject: '/dev/sdc', size: 4_004_511_744, notes: [] });
    expect(r.imageFiles).toEqual(['/root/Desktop/evidence1.Exx', 'evidence1.E01']);
  });

  test('Guymager 0.8.8 (with the tabs of the Markdown copy): three algorithms and the bad sectors', () => {
    const r = readExpectFile(fx('guymager/guymager-0.8.8-Test01.info'));
    expect(r.hashes).toEqual({
      md5: '35659ff9fdf25d394622b4e64368d08d',
      sha1: '71bd797e6fe66966d9fc96ac6bd83908d4994c79',
      sha256: '1562e71dc3e58e928cd230a312a76b17c979eb884a60e2725676d0e67c681309',
    });
    expect(r).toMatchObject({ version: '0.8.8-3', subject: '/dev/sr0', size: 54_083_584 });
    expect(r.notes).toEqual(['Guymager replaced 24773 bad sector(s) of the source by zeros; the hashes include those zeros']);
  });
});

test('Guymager without an acquisition hash: refused, with its state', () => {
  const text = readFileSync(fx('guymager/guymager-0.7.3-evidence1.info'), 'utf8')
    .replace(/^(MD5|SHA256) hash(\s+): [0-9a-f]+/gm, (_, a: string, s: string) => `${a} hash${s}: --`)
    .replace('State: Finished successfully', 'State: Aborted by user (during acquisition)');
  const e = failure(() => readExpectFile(tmp.file('aborted.info', text)));
  expect(e.message).toContain("holds no acquisition hash");
  expect(e.message).toContain("Guymager's state: 'Aborted by user (during acquisition)'");
});
