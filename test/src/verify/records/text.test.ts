/**
 * Reading the text of a record safely (src/verify/records/text.ts): UTF-16 as Windows tools write
 * it, binary refused, the bounds on size, lines and line length, digests checked as they are taken,
 * and messages that stay on one line.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { decodeRecordText, MAX_EXPECT_FILE_BYTES, MAX_EXPECT_LINE_LENGTH, MAX_EXPECT_LINES, readExpectFile } from '../../../../src/verify/records';
import { hasTool, SAMPLE_IMAGE, tool } from '../../../helpers';
import { failure, fx, sample, sampleDigests, tempFiles } from './support';

const tmp = tempFiles();
afterAll(() => tmp.cleanup());

test('UTF-16 (with and without a byte order mark), as Windows tools write', () => {
  if (!hasTool('iconv')) return console.warn('skipped: iconv is not installed');
  for (const [enc, bom] of [['UTF-16', true], ['UTF-16LE', false], ['UTF-16BE', false]] as const) {
    const out = tmp.file(`sums-${enc}`, '');
    expect(spawnSync('sh', ['-c', `iconv -f UTF-8 -t ${enc} "$1" > "$2"`, 'sh', fx('sums/SHA256SUMS'), out]).status).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes[0] === 0xff || bytes[0] === 0xfe).toBe(bom);
    if (enc === 'UTF-16BE') {
      // Without a byte order mark, big-endian text is not guessed: refused, not misread.
      expect(failure(() => readExpectFile(out, SAMPLE_IMAGE)).code).toBe('INVALID_INPUT');
    } else {
      expect(readExpectFile(out, SAMPLE_IMAGE).hashes).toEqual(sample('sha256'));
    }
  }
});

describe('decodeRecordText', () => {
  const line = 'e59bf7cee4c9e04c2b81e8580a848d74  fat-disk.img\n';
  const le = Buffer.from(line, 'utf16le');

  test('UTF-8 with a byte order mark keeps it out of the text; UTF-16 with either byte order mark is decoded', () => {
    expect(decodeRecordText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(line)]), 'r.txt')).toBe(line);
    expect(decodeRecordText(Buffer.concat([Buffer.from([0xff, 0xfe]), le]), 'r.txt')).toBe(line);
    expect(decodeRecordText(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]), 'r.txt')).toBe(line);
    expect(decodeRecordText(le, 'r.txt')).toBe(line);
  });

  test('a view into a larger buffer is decoded from its own bytes only', () => {
    const whole = Buffer.from(`xx${line}yy`);
    expect(decodeRecordText(new Uint8Array(whole.buffer, whole.byteOffset + 2, line.length), 'r.txt')).toBe(line);
  });

  test('an odd number of UTF-16 bytes, and zeros in UTF-8 text, are refused naming the file', () => {
    expect(failure(() => decodeRecordText(Buffer.concat([Buffer.from([0xff, 0xfe]), le, Buffer.from([0x41])]), 'r.txt')).message).toBe('r.txt: looks like UTF-16 text but has an odd number of bytes');
    expect(failure(() => decodeRecordText(Buffer.from('abc\0def'), 'r.txt')).message).toBe('r.txt: holds binary data, not a text hash record');
    expect(failure(() => decodeRecordText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\0')]), 'r.txt')).message).toBe('r.txt: holds binary data, not a text hash record');
  });
});

describe('refusals name the file and what is wrong', () => {
  test('a damaged digest in a real log', () => {
    const SAMPLE = sampleDigests();
    const text = readFileSync(fx('dc3dd/dc3dd.log'), 'utf8').replace(SAMPLE.md5, SAMPLE.md5.slice(1));
    const e = failure(() => readExpectFile(tmp.file('dc3dd.log', text)));
    expect(e.message).toMatch(/line 10: '[0-9a-f]{31}' is not a MD5 digest \(32 hex digits\)$/);
  });

  test('two different values for one algorithm', () => {
    const SAMPLE = sampleDigests();
    const text = readFileSync(fx('dcfldd/dcfldd.hashlog'), 'utf8') + `\nTotal (md5): ${'0'.repeat(32)}\n`;
    expect(failure(() => readExpectFile(tmp.file('two.hashlog', text))).message).toContain(`a second MD5 value ${'0'.repeat(32)} differs from ${SAMPLE.md5}`);
  });

  test('empty, binary, too large, too many lines, too long a line', () => {
    const SAMPLE = sampleDigests();
    expect(failure(() => readExpectFile(tmp.file('empty', ''))).message).toContain('is empty');
    expect(failure(() => readExpectFile(tmp.file('bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0, 0, 0, 9, 0])))).message).toContain('binary data');
    const big = tmp.file('big', '');
    tool('truncate', ['-s', String(MAX_EXPECT_FILE_BYTES + 1), big]);
    expect(failure(() => readExpectFile(big)).message).toContain(`larger than ${MAX_EXPECT_FILE_BYTES} bytes`);
    const many = tmp.file('many', '\n'.repeat(MAX_EXPECT_LINES));
    expect(failure(() => readExpectFile(many)).message).toContain(`more than ${MAX_EXPECT_LINES} lines`);
    const crs = tmp.file('crs', '\r'.repeat(MAX_EXPECT_LINES));
    expect(failure(() => readExpectFile(crs)).message).toContain(`more than ${MAX_EXPECT_LINES} lines`);
    const long = tmp.file('long', `${SAMPLE.md5}  ${'x'.repeat(MAX_EXPECT_LINE_LENGTH)}\n`);
    expect(failure(() => readExpectFile(long)).message).toContain(`line 1 is longer than ${MAX_EXPECT_LINE_LENGTH} characters`);
  });

  test('messages stay on one line even when a record holds control characters', () => {
    const SAMPLE = sampleDigests();
    const e = failure(() => readExpectFile(tmp.file('ctl', `${SAMPLE.md5}  a\n\u001b[31mred\u0007\n`)));
    expect(e.message).not.toMatch(/[\u0000-\u001f]/);
    expect(e.message).toContain('\\x1b[31mred\\x07');
  });
});
