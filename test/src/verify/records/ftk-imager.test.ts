/** FTK Imager .txt reports (src/verify/records/ftk-imager.ts): one adapted to the sample, one from a public write-up. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readExpectFile } from '../../../../src/verify/records';
import { hasTool } from '../../../helpers';
import { expectKnownAnswer, fx, sample, tempFiles } from './support';

const tmp = tempFiles();
afterAll(() => tmp.cleanup());

describe('records about the sample give the digests coreutils computes', () => {
  test('ftk/ftk-adapted-fat-disk.txt', () => expectKnownAnswer(readExpectFile, 'ftk/ftk-adapted-fat-disk.txt', ['md5', 'sha1'], 'FTK Imager', '4.5.0.3'));

  test('what the record says about its image files', () => {
    expect(readExpectFile(fx('ftk/ftk-adapted-fat-disk.txt'))).toMatchObject({ format: 'ftk-imager', imageFiles: ['D:\\Users\\Mawso3a\\Desktop\\DiskDrigger.ad1'] });
  });
});

describe('records from public repositories (FTK Imager is not installed)', () => {
  test('FTK Imager 4.5.0.3: the MD5 the write-up gives as the answer, and a note that AD1 is logical', () => {
    const r = readExpectFile(fx('ftk/ftk-4.5.0.3-DiskDrigger.ad1.txt'));
    expect(r.hashes).toEqual({ md5: '9471e69c95d8909ae60ddff30d50ffa1', sha1: '167aa08db25dfeeb876b0176ddc329a3d9f2803a' });
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toContain('AD1 is a logical image');
  });

  test('FTK Imager writes CRLF and Windows-1252 on Windows: read the same', () => {
    const text = readFileSync(fx('ftk/ftk-adapted-fat-disk.txt'), 'utf8').replace(/\n/g, '\r\n');
    const crlf = tmp.file('crlf.txt', text);
    expect(readExpectFile(crlf).hashes).toEqual(sample('md5', 'sha1'));
    if (!hasTool('iconv')) return;
    const cp1252 = tmp.file('cp1252.txt', '');
    const r = spawnSync('sh', ['-c', 'iconv -f UTF-8 -t CP1252 "$1" > "$2"', 'sh', crlf, cp1252]);
    expect(r.status).toBe(0);
    expect(readFileSync(cp1252).includes(0xae)).toBe(true);
    expect(readExpectFile(cp1252).hashes).toEqual(sample('md5', 'sha1'));
  });
});
