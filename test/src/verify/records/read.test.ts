/**
 * Reading a record (src/verify/records/read.ts): the kind recognised by content, records that are
 * not hash records or not regular files refused, sums lines about a container or a segment refused,
 * and seeded, bounded fuzzing of every record kind through the same entry.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../../src/errors';
import { ALGORITHM_INFO, ALGORITHMS, type Algorithm } from '../../../../src/hash/algorithms';
import { decodeRecordText, type ExpectRecord, MAX_EXPECT_LINE_LENGTH, parseExpectText, readExpectFile } from '../../../../src/verify/records';
import { SAMPLE_IMAGE, tool } from '../../../helpers';
import { failure, FIX, fx, type SampleDigests, sampleDigests, tempFiles } from './support';

const tmp = tempFiles();
afterAll(() => tmp.cleanup());
let SAMPLE: SampleDigests;
beforeAll(() => {
  SAMPLE = sampleDigests();
});

test('not a record custos understands: the formats it reads are listed', () => {
  const e = failure(() => readExpectFile(tmp.file('notes.txt', 'Dear examiner,\nthe image is fine.\n')));
  expect(e.message).toContain('is not a hash record custos understands');
  for (const word of ['dc3dd', 'dcfldd', 'ewfacquire', 'ewfverify', 'Guymager', 'FTK Imager', 'md5sum', 'sha256sum']) expect(e.hint).toContain(word);
});

test('each kind is recognised by its content, whatever the file is called', () => {
  const kinds: [string, ExpectRecord['format']][] = [
    ['dc3dd/dc3dd.log', 'dc3dd'],
    ['dcfldd/dcfldd.hashlog', 'dcfldd'],
    ['ewf/ewfverify.log', 'ewf'],
    ['guymager/guymager-adapted-fat-disk.info', 'guymager'],
    ['ftk/ftk-adapted-fat-disk.txt', 'ftk-imager'],
    ['sums/SHA256SUMS', 'sums'],
    ['sums/openssl-md5.txt', 'openssl'],
  ];
  for (const [file, format] of kinds) expect(readExpectFile(tmp.file('record', readFileSync(fx(file))), SAMPLE_IMAGE).format).toBe(format);
});

test('not a regular file, or missing', () => {
  expect(failure(() => readExpectFile(tmp.dir())).code).toBe('IS_DIRECTORY');
  const fifo = join(tmp.dir(), 'fifo');
  spawnSync('mkfifo', [fifo]);
  expect(failure(() => readExpectFile(fifo)).code).toBe('NOT_A_FILE');
  expect(failure(() => readExpectFile(join(tmp.dir(), 'absent.log'))).code).toBe('FILE_NOT_FOUND');
});

describe('sums lines about something other than the image', () => {
  test('the line of one segment of a split image is not the hash of the image', () => {
    const dir = join(tmp.dir(), 'split');
    mkdirSync(dir);
    tool('split', ['-b', '3M', '-d', '-a', '3', SAMPLE_IMAGE, join(dir, 'fat-disk.')]);
    expect(readdirSync(dir).sort()).toEqual(['fat-disk.000', 'fat-disk.001', 'fat-disk.002']);
    const e = failure(() => readExpectFile(fx('sums/multi.sha256'), join(dir, 'fat-disk.001')));
    expect(e.message).toContain("the line for 'fat-disk.001' is the hash of that one segment, not of the whole split image (3 segments)");
  });

  test('the line of an E01 file is the hash of the container, not of the disk inside', () => {
    const e01 = tmp.file('disk.E01', 'not really an E01');
    const sums = tmp.file('E01.md5', tool('md5sum', ['disk.E01'], join(e01, '..')));
    const e = failure(() => readExpectFile(sums, e01));
    expect(e.message).toContain('is the hash of the .E01 file itself');
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
