import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError, isCustosError } from '../../../src/errors';
import { ALGORITHM_INFO, ALGORITHMS, type Algorithm } from '../../../src/hash/algorithms';
import type { HashSet } from '../../../src/hash/hashset';
import {
  decodeRecordText,
  type ExpectRecord,
  MAX_EXPECT_FILE_BYTES,
  MAX_EXPECT_LINE_LENGTH,
  MAX_EXPECT_LINES,
  parseExpectText,
  readExpectFile,
  resolveExpected,
} from '../../../src/verify/expect-files';
import { digestOf, hasTool, makeTempDir, ROOT, SAMPLE_IMAGE, tool } from '../../helpers';

const FIX = join(ROOT, 'test', 'fixtures', 'expect');
const fx = (p: string) => join(FIX, p);

let tmp: ReturnType<typeof makeTempDir>;
/** What coreutils computes for the sample: the known answer every record about it must give. */
let SAMPLE: Record<'md5' | 'sha1' | 'sha256' | 'sha512', string>;
const SAMPLE_SIZE = statSync(SAMPLE_IMAGE).size;

beforeAll(() => {
  tmp = makeTempDir('custos-expect-');
  SAMPLE = {
    md5: digestOf('md5sum', SAMPLE_IMAGE),
    sha1: digestOf('sha1sum', SAMPLE_IMAGE),
    sha256: digestOf('sha256sum', SAMPLE_IMAGE),
    sha512: digestOf('sha512sum', SAMPLE_IMAGE),
  };
});
afterAll(() => tmp.cleanup());

/** The sample's digests for these algorithms, as coreutils computed them. */
const sample = (...algs: (keyof typeof SAMPLE)[]): HashSet => Object.fromEntries(algs.map((a) => [a, SAMPLE[a]]));

/** A coreutils digest of `length` bytes of the sample from `offset` (dd and md5sum/sha256sum, not custos). */
function sliceDigest(cmd: string, offset: number, length: number): string {
  const r = spawnSync('sh', ['-c', `tail -c +${offset + 1} "$1" | head -c ${length} | ${cmd}`, 'sh', SAMPLE_IMAGE], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split(/\s+/)[0]!;
}

function failure(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (e) {
    if (!isCustosError(e)) throw e;
    return e;
  }
  throw new Error('expected a CustosError');
}

let n = 0;
function tmpFile(name: string, data: string | Uint8Array): string {
  const dir = join(tmp.dir, `t${n++}`);
  mkdirSync(dir);
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

describe('records about the sample give the digests coreutils computes', () => {
  const cases: [string, (keyof typeof SAMPLE)[], string, string | undefined][] = [
    ['dc3dd/dc3dd.log', ['md5', 'sha1', 'sha256', 'sha512'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd.hlog', ['md5', 'sha1', 'sha256', 'sha512'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd.stderr', ['md5', 'sha1', 'sha256', 'sha512'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd-hofs.log', ['md5', 'sha1', 'sha256'], 'dc3dd', '7.2.646'],
    ['dc3dd/dc3dd-hofs.hlog', ['md5', 'sha1', 'sha256'], 'dc3dd', '7.2.646'],
    ['dcfldd/dcfldd.hashlog', ['md5', 'sha1', 'sha256', 'sha512'], 'dcfldd', undefined],
    ['dcfldd/dcfldd-window.hashlog', ['md5', 'sha256'], 'dcfldd', undefined],
    ['dcfldd/dcfldd-split.hashlog', ['md5', 'sha1'], 'dcfldd', undefined],
    ['dcfldd/dcfldd.stderr', ['md5', 'sha256'], 'dcfldd', undefined],
    ['dcfldd/dcfldd.md5log', ['md5'], 'dcfldd', undefined],
    ['dcfldd/dcfldd.sha1log', ['sha1'], 'dcfldd', undefined],
    ['ewf/ewfacquire.stdout', ['md5', 'sha1', 'sha256'], 'ewfacquire', '20140813'],
    ['ewf/ewfacquire.log', ['md5', 'sha1', 'sha256'], 'ewfacquire', undefined],
    ['ewf/ewfverify.stdout', ['md5', 'sha1', 'sha256'], 'ewfverify', '20140813'],
    ['ewf/ewfverify.log', ['md5', 'sha1', 'sha256'], 'ewfverify', undefined],
    ['ewf/ewfverify-plain.stdout', ['md5', 'sha1'], 'ewfverify', '20140813'],
    ['guymager/guymager-adapted-fat-disk.info', ['md5', 'sha256'], 'Guymager', '0.7.3-1'],
    ['ftk/ftk-adapted-fat-disk.txt', ['md5', 'sha1'], 'FTK Imager', '4.5.0.3'],
    ['sums/MD5SUMS', ['md5'], 'md5sum', undefined],
    ['sums/SHA1SUMS', ['sha1'], 'sha1sum', undefined],
    ['sums/SHA256SUMS', ['sha256'], 'sha256sum', undefined],
    ['sums/SHA512SUMS', ['sha512'], 'sha512sum', undefined],
    ['sums/sha256-tag.txt', ['sha256'], 'sha256sum --tag', undefined],
    ['sums/md5-binary.txt', ['md5'], 'md5sum', undefined],
    ['sums/cksum-tagged.txt', ['md5', 'sha1', 'sha256', 'sha512'], 'cksum', undefined],
    ['sums/multi.sha256', ['sha256'], 'sha256sum', undefined],
    ['sums/openssl-md5.txt', ['md5'], 'openssl dgst', undefined],
    ['sums/openssl-sha256.txt', ['sha256'], 'openssl dgst', undefined],
  ];
  test.each(cases)('%s', (file, algs, toolName, version) => {
    const r = readExpectFile(fx(file), SAMPLE_IMAGE);
    expect(r.hashes).toEqual(sample(...algs));
    expect(r.tool).toBe(toolName);
    expect(r.version).toBe(version);
    expect(r.file).toBe(fx(file));
  });

  test('openssl dgst -sha3-256 agrees with openssl run now', () => {
    const r = readExpectFile(fx('sums/openssl-sha3-256.txt'), SAMPLE_IMAGE);
    if (!hasTool('openssl')) return console.warn('skipped the live comparison: openssl is not installed');
    expect(r.hashes).toEqual({ 'sha3-256': tool('openssl', ['dgst', '-sha3-256', SAMPLE_IMAGE]).trim().split('= ')[1] });
  });

  test('what the records say about their subject and size', () => {
    const dc3dd = readExpectFile(fx('dc3dd/dc3dd.log'));
    expect(dc3dd).toMatchObject({ format: 'dc3dd', subject: 'fat-disk.img', imageFiles: ['fat-disk.dd'], size: SAMPLE_SIZE, notes: [] });
    expect(readExpectFile(fx('ewf/ewfacquire.stdout')).size).toBe(SAMPLE_SIZE);
    expect(readExpectFile(fx('ewf/ewfverify.stdout')).size).toBe(SAMPLE_SIZE);
    expect(readExpectFile(fx('guymager/guymager-adapted-fat-disk.info'))).toMatchObject({ subject: '/dev/sdc', size: SAMPLE_SIZE });
    expect(readExpectFile(fx('sums/SHA256SUMS'))).toMatchObject({ format: 'sums', subject: 'fat-disk.img' });
    expect(readExpectFile(fx('ftk/ftk-adapted-fat-disk.txt'))).toMatchObject({ format: 'ftk-imager', imageFiles: ['D:\\Users\\Mawso3a\\Desktop\\DiskDrigger.ad1'] });
  });
});

describe('per-piece hashes of split runs and hash windows agree with coreutils on the slices', () => {
  const MiB3 = 3 * 1024 * 1024;
  const slices = [
    [0, MiB3],
    [MiB3, MiB3],
    [2 * MiB3, SAMPLE_SIZE - 2 * MiB3],
  ] as const;

  test('dc3dd hofs= (hlog): three pieces named fat-disk.000 to .002, and the total', () => {
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

  test('dcfldd hashwindow=3M: three windows and the total', () => {
    const r = readExpectFile(fx('dcfldd/dcfldd-window.hashlog'));
    expect(r.size).toBe(SAMPLE_SIZE);
    expect(r.pieces.map((p) => [p.offset, p.length])).toEqual(slices.map(([o, l]) => [o, l]));
    r.pieces.forEach((p, i) => {
      const [o, l] = slices[i]!;
      expect(p.hashes).toEqual({ md5: sliceDigest('md5sum', o, l), sha256: sliceDigest('sha256sum', o, l) });
    });
  });
});

describe('records from public repositories (Guymager and FTK Imager are not installed)', () => {
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

  test('FTK Imager 4.5.0.3: the MD5 the write-up gives as the answer, and a note that AD1 is logical', () => {
    const r = readExpectFile(fx('ftk/ftk-4.5.0.3-DiskDrigger.ad1.txt'));
    expect(r.hashes).toEqual({ md5: '9471e69c95d8909ae60ddff30d50ffa1', sha1: '167aa08db25dfeeb876b0176ddc329a3d9f2803a' });
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toContain('AD1 is a logical image');
  });

  test('FTK Imager writes CRLF and Windows-1252 on Windows: read the same', () => {
    const text = readFileSync(fx('ftk/ftk-adapted-fat-disk.txt'), 'utf8').replace(/\n/g, '\r\n');
    const crlf = tmpFile('crlf.txt', text);
    expect(readExpectFile(crlf).hashes).toEqual(sample('md5', 'sha1'));
    if (!hasTool('iconv')) return;
    const cp1252 = tmpFile('cp1252.txt', '');
    const r = spawnSync('sh', ['-c', 'iconv -f UTF-8 -t CP1252 "$1" > "$2"', 'sh', crlf, cp1252]);
    expect(r.status).toBe(0);
    expect(readFileSync(cp1252).includes(0xae)).toBe(true);
    expect(readExpectFile(cp1252).hashes).toEqual(sample('md5', 'sha1'));
  });
});

describe('sums files', () => {
  test('escaped names (a backslash, a newline) are unescaped and picked by name', () => {
    expect(readExpectFile(fx('sums/escaped.sha256'), join(tmp.dir, 'fat\\disk.img'))).toMatchObject({ hashes: sample('sha256'), subject: 'fat\\disk.img' });
    expect(readExpectFile(fx('sums/escaped.sha256'), join(tmp.dir, 'fat\ndisk.img'))).toMatchObject({ hashes: sample('sha256'), subject: 'fat\ndisk.img' });
    expect(readExpectFile(fx('sums/escaped-tag.sha1'), 'whatever.img')).toMatchObject({ hashes: sample('sha1'), subject: 'fat\\disk.img' });
  });

  test('several files: the target line by name, or a refusal listing the names', () => {
    const r = readExpectFile(fx('sums/multi.sha256'), '/evidence/fat-disk.img');
    expect(r.hashes).toEqual(sample('sha256'));
    expect(r.notes).toEqual(["picked the line for 'fat-disk.img' among 5 files"]);
    const none = failure(() => readExpectFile(fx('sums/multi.sha256'), '/evidence/other.img'));
    expect(none.code).toBe('INVALID_INPUT');
    expect(none.message).toBe(`${fx('sums/multi.sha256')}: has no line for 'other.img'; it lists 'fat-disk.img', 'fat-disk.000', 'fat-disk.001', 'fat-disk.002', 'piece.dd'`);
    const noTarget = failure(() => readExpectFile(fx('sums/multi.sha256')));
    expect(noTarget.message).toContain('lists 5 files');
  });

  test('two files of the same name: picked by path, else refused naming both', () => {
    const amb = fx('sums/ambiguous.md5');
    const e = failure(() => readExpectFile(amb, '/elsewhere/fat-disk.img'));
    expect(e.message).toContain("lists 2 files named 'fat-disk.img' ('a/fat-disk.img', 'b/fat-disk.img')");
    expect(e.hint).toBeTruthy();
    // Beside the sums file, a/fat-disk.img is the copy of the sample.
    expect(readExpectFile(amb, join(FIX, 'sums', 'a', 'fat-disk.img')).hashes).toEqual(sample('md5'));
    expect(readExpectFile(amb, join(FIX, 'sums', 'b', 'fat-disk.img')).hashes).toEqual({ md5: sliceDigest('md5sum', 0, 3 * 1024 * 1024) });
  });

  test('the line of one segment of a split image is not the hash of the image', () => {
    const dir = join(tmp.dir, 'split');
    mkdirSync(dir);
    tool('split', ['-b', '3M', '-d', '-a', '3', SAMPLE_IMAGE, join(dir, 'fat-disk.')]);
    expect(readdirSync(dir).sort()).toEqual(['fat-disk.000', 'fat-disk.001', 'fat-disk.002']);
    const e = failure(() => readExpectFile(fx('sums/multi.sha256'), join(dir, 'fat-disk.001')));
    expect(e.message).toContain("the line for 'fat-disk.001' is the hash of that one segment, not of the whole split image (3 segments)");
  });

  test('the line of an E01 file is the hash of the container, not of the disk inside', () => {
    const e01 = tmpFile('disk.E01', 'not really an E01');
    const sums = tmpFile('E01.md5', tool('md5sum', ['disk.E01'], join(e01, '..')));
    const e = failure(() => readExpectFile(sums, e01));
    expect(e.message).toContain('is the hash of the .E01 file itself');
  });

  test('UTF-16 (with and without a byte order mark), as Windows tools write', () => {
    if (!hasTool('iconv')) return console.warn('skipped: iconv is not installed');
    for (const [enc, bom] of [['UTF-16', true], ['UTF-16LE', false], ['UTF-16BE', false]] as const) {
      const out = tmpFile(`sums-${enc}`, '');
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

  test('an unsupported digest length is named; lines that are not checksums are refused', () => {
    const sha224 = tmpFile('SHA224SUMS', tool('sha224sum', [SAMPLE_IMAGE]));
    expect(failure(() => readExpectFile(sha224, SAMPLE_IMAGE)).message).toContain('holds no digest custos can compare');
    const both = readExpectFile(tmpFile('BOTH', tool('sha224sum', [SAMPLE_IMAGE]) + tool('sha256sum', [SAMPLE_IMAGE])), SAMPLE_IMAGE);
    expect(both.hashes).toEqual(sample('sha256'));
    expect(both.notes).toEqual(['SHA224 digests are not algorithms custos computes; they are not compared']);
    const odd = tmpFile('ODD', `${'a'.repeat(33)}  x.img\n`);
    expect(failure(() => readExpectFile(odd)).message).toContain('a digest of 33 hex digits');
    const junk = tmpFile('JUNK', `${SAMPLE.md5}  fat-disk.img\nhello\n`);
    expect(failure(() => readExpectFile(junk)).message).toBe(`${junk}: line 2 is not a checksum line: 'hello'`);
    const esc = tmpFile('ESC', `\\${SAMPLE.md5}  bad\\qname\n`);
    expect(failure(() => readExpectFile(esc)).message).toContain('unknown escape');
  });
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

  test('ewfverify FAILURE: the stored (acquisition) value is expected, and the failure is told', () => {
    for (const f of ['ewf/ewfverify-failure.stdout', 'ewf/ewfverify-failure.log']) {
      const r = readExpectFile(fx(f));
      expect(r.hashes).toEqual(sample('md5', 'sha1'));
      expect(r.notes[0]).toContain('356efce4a6fcf52ac213897266a78bb0');
      expect(r.notes.join(' ')).toContain('1 range(s) of sectors that failed their checksum');
    }
    expect(readExpectFile(fx('ewf/ewfverify-failure.stdout')).notes).toContain('ewfverify reported FAILURE');
  });

  test('a damaged digest in a real log', () => {
    const text = readFileSync(fx('dc3dd/dc3dd.log'), 'utf8').replace(SAMPLE.md5, SAMPLE.md5.slice(1));
    const e = failure(() => readExpectFile(tmpFile('dc3dd.log', text)));
    expect(e.message).toMatch(/line 10: '[0-9a-f]{31}' is not a MD5 digest \(32 hex digits\)$/);
  });

  test('two different values for one algorithm', () => {
    const text = readFileSync(fx('dcfldd/dcfldd.hashlog'), 'utf8') + `\nTotal (md5): ${'0'.repeat(32)}\n`;
    expect(failure(() => readExpectFile(tmpFile('two.hashlog', text))).message).toContain(`a second MD5 value ${'0'.repeat(32)} differs from ${SAMPLE.md5}`);
  });

  test('Guymager without an acquisition hash', () => {
    const text = readFileSync(fx('guymager/guymager-0.7.3-evidence1.info'), 'utf8')
      .replace(/^(MD5|SHA256) hash(\s+): [0-9a-f]+/gm, (_, a: string, s: string) => `${a} hash${s}: --`)
      .replace('State: Finished successfully', 'State: Aborted by user (during acquisition)');
    const e = failure(() => readExpectFile(tmpFile('aborted.info', text)));
    expect(e.message).toContain("holds no acquisition hash");
    expect(e.message).toContain("Guymager's state: 'Aborted by user (during acquisition)'");
  });

  test('not a record custos understands: the formats it reads are listed', () => {
    const e = failure(() => readExpectFile(tmpFile('notes.txt', 'Dear examiner,\nthe image is fine.\n')));
    expect(e.message).toContain('is not a hash record custos understands');
    for (const word of ['dc3dd', 'dcfldd', 'ewfacquire', 'ewfverify', 'Guymager', 'FTK Imager', 'md5sum', 'sha256sum']) expect(e.hint).toContain(word);
  });

  test('empty, binary, too large, too many lines, too long a line', () => {
    expect(failure(() => readExpectFile(tmpFile('empty', ''))).message).toContain('is empty');
    expect(failure(() => readExpectFile(tmpFile('bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0, 0, 0, 9, 0])))).message).toContain('binary data');
    const big = tmpFile('big', '');
    tool('truncate', ['-s', String(MAX_EXPECT_FILE_BYTES + 1), big]);
    expect(failure(() => readExpectFile(big)).message).toContain(`larger than ${MAX_EXPECT_FILE_BYTES} bytes`);
    const many = tmpFile('many', '\n'.repeat(MAX_EXPECT_LINES));
    expect(failure(() => readExpectFile(many)).message).toContain(`more than ${MAX_EXPECT_LINES} lines`);
    const crs = tmpFile('crs', '\r'.repeat(MAX_EXPECT_LINES));
    expect(failure(() => readExpectFile(crs)).message).toContain(`more than ${MAX_EXPECT_LINES} lines`);
    const long = tmpFile('long', `${SAMPLE.md5}  ${'x'.repeat(MAX_EXPECT_LINE_LENGTH)}\n`);
    expect(failure(() => readExpectFile(long)).message).toContain(`line 1 is longer than ${MAX_EXPECT_LINE_LENGTH} characters`);
  });

  test('not a regular file, or missing', () => {
    expect(failure(() => readExpectFile(tmp.dir)).code).toBe('IS_DIRECTORY');
    const fifo = join(tmp.dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    expect(failure(() => readExpectFile(fifo)).code).toBe('NOT_A_FILE');
    expect(failure(() => readExpectFile(join(tmp.dir, 'absent.log'))).code).toBe('FILE_NOT_FOUND');
  });

  test('messages stay on one line even when a record holds control characters', () => {
    const e = failure(() => readExpectFile(tmpFile('ctl', `${SAMPLE.md5}  a\n\u001b[31mred\u0007\n`)));
    expect(e.message).not.toMatch(/[\u0000-\u001f]/);
    expect(e.message).toContain('\\x1b[31mred\\x07');
  });
});

describe('resolveExpected', () => {
  test('ALG=HEX values and record files, merged', () => {
    const r = resolveExpected([`MD5=${SAMPLE.md5.toUpperCase()}`, fx('sums/SHA256SUMS'), fx('dc3dd/dc3dd.log')], SAMPLE_IMAGE);
    expect(r.expected).toEqual(sample('md5', 'sha1', 'sha256', 'sha512'));
    expect(r.sources).toEqual([
      { file: fx('sums/SHA256SUMS'), tool: 'sha256sum', subject: 'fat-disk.img', notes: [] },
      { file: fx('dc3dd/dc3dd.log'), tool: 'dc3dd', version: '7.2.646', subject: 'fat-disk.img', size: SAMPLE_SIZE, notes: [] },
    ]);
  });

  test('every tool record about the sample agrees with every other', () => {
    const all = ['dc3dd/dc3dd.log', 'dcfldd/dcfldd.hashlog', 'ewf/ewfverify.log', 'guymager/guymager-adapted-fat-disk.info', 'ftk/ftk-adapted-fat-disk.txt', 'sums/cksum-tagged.txt', 'sums/openssl-sha3-256.txt'];
    const r = resolveExpected(all.map(fx), SAMPLE_IMAGE);
    expect(r.sources.map((s) => s.tool)).toEqual(['dc3dd', 'dcfldd', 'ewfverify', 'Guymager', 'FTK Imager', 'cksum', 'openssl dgst']);
    expect(Object.keys(r.expected).sort()).toEqual(['md5', 'sha1', 'sha256', 'sha3-256', 'sha512']);
  });

  test('conflicting values are refused, naming both origins', () => {
    const wrong = `md5=${'0'.repeat(32)}`;
    const e = failure(() => resolveExpected([wrong, fx('sums/MD5SUMS')], SAMPLE_IMAGE));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe(`--expect: MD5 ${'0'.repeat(32)} (from --expect ${wrong}) differs from ${SAMPLE.md5} (from md5sum record ${fx('sums/MD5SUMS')})`);
    const twoFiles = failure(() => resolveExpected([fx('guymager/guymager-0.7.3-evidence1.info'), fx('sums/MD5SUMS')], SAMPLE_IMAGE));
    expect(twoFiles.message).toContain('Guymager record');
  });

  test('a malformed ALG=HEX is a usage error, not a missing file', () => {
    expect(failure(() => resolveExpected(['md5=xyz'], SAMPLE_IMAGE)).code).toBe('USAGE');
    expect(failure(() => resolveExpected(['sha256=abc'], SAMPLE_IMAGE)).code).toBe('USAGE');
    expect(failure(() => resolveExpected([join(tmp.dir, 'no-such.log')], SAMPLE_IMAGE)).code).toBe('FILE_NOT_FOUND');
    expect(resolveExpected([], SAMPLE_IMAGE)).toEqual({ expected: {}, sources: [] });
  });

  test('a record file whose name looks like a value is still read when it exists', () => {
    copyFileSync(fx('sums/MD5SUMS'), join(tmp.dir, 'md5=sums'));
    const cwd = process.cwd();
    process.chdir(tmp.dir);
    try {
      expect(resolveExpected(['md5=sums'], SAMPLE_IMAGE).expected).toEqual(sample('md5'));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('fuzz: mutated records, random bytes, huge lines (seeded, bounded)', () => {
  const SEED = 0xc0ffee01;
  let x = SEED;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  const int = (k: number) => Math.floor(next() * k);

  const fixtures: Buffer[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (!e.name.endsWith('.md')) fixtures.push(readFileSync(join(dir, e.name)));
    }
  };
  walk(FIX);

  const TOKENS = [
    '\n', '\r', '\r\n', '\u0000', '\\', '`', "'", ':', ' = ', '(', ')', ' (md5)', ', sectors 0 - 7', 'Total (md5): ', '[Computed Hashes]\n', ' MD5 checksum: ',
    'GUYMAGER ACQUISITION INFO FILE\n', 'dc3dd 7 started at now\n', 'dc3dd completed at now\n', 'input results for file `x\':\n', 'MD5 hash calculated over data:\t',
    'MD5 hash stored in file:\t', 'SHA256 (', ') = ', 'SHA2-256(', ')= ', '0 - 512: ', 'é', '🙂', '\u202e', 'f'.repeat(32), 'F'.repeat(64), '9'.repeat(40),
  ];

  function mutate(src: Buffer): Buffer {
    let b = Buffer.from(src);
    for (let k = 1 + int(6); k > 0; k--) {
      const at = int(b.length + 1);
      switch (int(7)) {
        case 0: // flip bytes
          for (let i = 0; i < 1 + int(8) && b.length > 0; i++) b[int(b.length)] = int(256);
          break;
        case 1: // insert a token
          b = Buffer.concat([b.subarray(0, at), Buffer.from(TOKENS[int(TOKENS.length)]!), b.subarray(at)]);
          break;
        case 2: // delete a run
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + int(64))]);
          break;
        case 3: // duplicate a run
          b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(400)), b.subarray(at)]);
          break;
        case 4: // truncate
          b = b.subarray(0, at);
          break;
        case 5: // random bytes
          b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: int(40) }, () => int(256))), b.subarray(at)]);
          break;
        default: // splice in part of another record
          {
            const other = fixtures[int(fixtures.length)]!;
            const from = int(other.length);
            b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + int(300)), b.subarray(at)]);
          }
      }
    }
    return b;
  }

  const outcomes = { parsed: 0, refused: 0 };
  /** Parses, and checks what any answer must be: a record of well-formed digests, or a CustosError. */
  function check(data: Uint8Array, target: string | undefined, where: string): void {
    const t0 = Date.now();
    let record: ExpectRecord | undefined;
    try {
      record = parseExpectText(decodeRecordText(data, 'fuzz.txt'), { file: 'fuzz.txt', target });
    } catch (e) {
      if (!isCustosError(e)) throw new Error(`${where}: not a CustosError: ${(e as Error)?.stack ?? String(e)}`);
      if (/[\u0000-\u001f]/.test(e.message)) throw new Error(`${where}: a message spans lines: ${JSON.stringify(e.message)}`);
      outcomes.refused++;
    }
    const ms = Date.now() - t0;
    if (ms > 1500) throw new Error(`${where}: took ${ms} ms`);
    if (record) {
      outcomes.parsed++;
      for (const note of record.notes) if (/[\u0000-\u001f]/.test(note)) throw new Error(`${where}: a note spans lines: ${JSON.stringify(note)}`);
      const algs = Object.keys(record.hashes) as Algorithm[];
      if (algs.length === 0) throw new Error(`${where}: a record without hashes`);
      for (const a of algs) {
        if (!ALGORITHMS.includes(a)) throw new Error(`${where}: unknown algorithm ${a}`);
        if (!new RegExp(`^[0-9a-f]{${ALGORITHM_INFO[a].bytes * 2}}$`).test(record.hashes[a]!)) throw new Error(`${where}: bad digest ${record.hashes[a]}`);
      }
      if (record.size !== undefined && !(Number.isSafeInteger(record.size) && record.size >= 0)) throw new Error(`${where}: bad size ${record.size}`);
    }
  }

  test('3,000 mutations of the real records', () => {
    const t0 = Date.now();
    for (let c = 0; c < 3000; c++) {
      const src = fixtures[int(fixtures.length)]!;
      check(mutate(src), int(3) === 0 ? undefined : ['/x/fat-disk.img', 'fat-disk.000', 'copy.dd', 'piece.dd', '/nowhere/a.E01'][int(5)], `seed ${SEED.toString(16)} case ${c}`);
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
    // Both answers occur: the mutations neither leave every record intact nor break every one.
    expect(outcomes.parsed).toBeGreaterThan(300);
    expect(outcomes.refused).toBeGreaterThan(300);
  });

  test('random bytes and random text', () => {
    for (let c = 0; c < 500; c++) {
      const len = int(4096);
      const bytes = Buffer.from(Array.from({ length: len }, () => (c % 2 ? int(256) : 32 + int(95))));
      check(bytes, 'fat-disk.img', `random case ${c}`);
    }
  });

  test('huge lines and hostile shapes finish quickly', () => {
    const L = MAX_EXPECT_LINE_LENGTH - 100;
    const shapes = [
      'a'.repeat(L),
      `Total (md5): ${'f'.repeat(L)}`,
      `dc3dd 7 started at x\ninput results for file \`${"':".repeat(L / 2)}\n   ${SAMPLE.md5} (md5)\ndc3dd completed at x`,
      `dc3dd 7 started at x\n${' '.repeat(L)}x bytes ( copied\n${`${' '.repeat(8)}1 bytes (`.repeat(L / 20)}`,
      `Created By ${'FTK'.repeat(L / 3)}`,
      `Created By AccessData FTK Imager ${'9.'.repeat(L / 2)}\n[Computed Hashes]\n MD5 checksum: ${SAMPLE.md5}${' :'.repeat(L / 2)}x`,
      `GUYMAGER ACQUISITION INFO FILE\nMD5 hash : ${SAMPLE.md5}\n${' '.repeat(L)}x\nState: ${' \t'.repeat(L / 2)}x`,
      `Information for ${':'.repeat(L)}${' '.repeat(50)}x\n[Computed Hashes]\n MD5 checksum: ${SAMPLE.md5}`,
      `SHA256 (${') = '.repeat(L / 4)}) = ${SAMPLE.sha256}`,
      `\\${SAMPLE.md5}  ${'\\\\'.repeat(L / 2)}`,
      `MD5 hash calculated over data:\t${SAMPLE.md5}\nMedia size: ${'('.repeat(L)} bytes)`,
      `${SAMPLE.md5}  x\n`.repeat(200_000),
      `${'0 - 1: '.repeat(L / 7)}\nTotal (md5): ${SAMPLE.md5}`,
    ];
    for (const [i, s] of shapes.entries()) check(Buffer.from(s), 'x', `shape ${i}`);
  });
});
