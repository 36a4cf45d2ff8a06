/**
 * The shipped JSON Schemas as custos applies them: the problems listed for known bad documents,
 * the one-line error that names the file, and files that are not JSON, not regular or too large
 * refused before they are parsed. Where Python's jsonschema is installed, an independent
 * validator agrees on which documents are valid.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../src/acquire/acquire';
import { assertSchema, readValidatedJson, type SchemaName, schemaProblems, SCHEMAS } from '../../src/schema';
import { fixedEnvironment, makeTempDir, pseudoRandomBytes, ROOT } from '../helpers';

const SAMPLE_CASE = join(ROOT, 'samples', 'case.json');
const HINT = 'Write the case description like samples/case.json.';

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.cleanup());

let n = 0;
const file = (content: string | Buffer) => {
  const p = join(tmp.dir, `doc-${n++}.json`);
  writeFileSync(p, content);
  return p;
};
const sorted = (a: string[]) => [...a].sort();

describe('schemaProblems lists every problem, with where it is', () => {
  test('the sample case description is valid', () => {
    expect(schemaProblems('case', JSON.parse(readFileSync(SAMPLE_CASE, 'utf8')))).toEqual([]);
  });

  test('an empty object: the three required case fields, each named', () => {
    expect(sorted(schemaProblems('case', {}))).toEqual([
      "(top level) must have required property 'caseNumber'",
      "(top level) must have required property 'evidenceNumber'",
      "(top level) must have required property 'examiner'",
    ]);
  });

  test('wrong types, an empty string and an unknown field, all at once', () => {
    expect(sorted(schemaProblems('case', { caseNumber: 7, evidenceNumber: '', examiner: 'Alex Morgan', suspect: 'x' }))).toEqual([
      '(top level) must NOT have additional properties',
      '/caseNumber must be string',
      '/evidenceNumber must NOT have fewer than 1 characters',
    ]);
  });

  test('hash-result: problems deep inside the list, by JSON pointer', () => {
    const doc = { files: [{ path: 'a.img', kind: 'file', size: 1, hashes: { md5: 'd41d8cd98f00b204e9800998ecf8427e' } }, { path: 'b', kind: 'tape', size: -1, hashes: { md5: 'D41D' } }] };
    expect(sorted(schemaProblems('hash-result', doc))).toEqual([
      '/files/1/hashes/md5 must match pattern "^[0-9a-f]{32}$"',
      '/files/1/kind must match pattern "^(file|block-device|[a-z0-9]+-media)$"',
      '/files/1/size must be >= 0',
    ]);
    expect(schemaProblems('hash-result', { files: [doc.files[0]] })).toEqual([]);
    expect(schemaProblems('hash-result', [])).toEqual(['(top level) must be object']);
  });

  test('every shipped schema compiles (strict mode) and refuses a non-object', () => {
    for (const name of Object.keys(SCHEMAS) as SchemaName[]) expect(schemaProblems(name, 'a string')).toEqual(['(top level) must be object']);
  });
});

describe('assertSchema: one INVALID_INPUT naming what was checked', () => {
  test('up to five problems shown, the rest counted', () => {
    const doc = { files: Array.from({ length: 8 }, (_, i) => ({ path: `f${i}`, kind: 'file', size: -1, hashes: { md5: 'd41d8cd98f00b204e9800998ecf8427e' } })) };
    expect(schemaProblems('hash-result', doc)).toHaveLength(8);
    let err: Error & { code?: string; hint?: string } = new Error('no error');
    try {
      assertSchema('hash-result', doc, 'out.json');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(
      `out.json does not match the hash-result schema: ${[0, 1, 2, 3, 4].map((i) => `/files/${i}/size must be >= 0`).join('; ')} (and 3 more)`,
    );
    expect(err.hint).toBe('Compare it with schemas/hash-result.schema.json.');
    expect(() => assertSchema('hash-result', { files: [] }, 'ok.json')).not.toThrow();
  });
});

describe('readValidatedJson: every failure names the file', () => {
  test('a valid file is returned as parsed', () => {
    expect(readValidatedJson('case', SAMPLE_CASE, HINT)).toEqual(JSON.parse(readFileSync(SAMPLE_CASE, 'utf8')));
  });

  test('not JSON: INVALID_INPUT "PATH: not valid JSON (…)" with the hint given; control characters in the parser\'s message are escaped', () => {
    const p = file('{"caseNumber": "C-1",');
    expect(() => readValidatedJson('case', p, HINT)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', path: p, hint: HINT, message: expect.stringMatching(new RegExp(`^${p}: not valid JSON \\(.+\\)$`)) }));
    const hostile = file(Buffer.concat([Buffer.from('\x1b]0;owned\x07\x1b[2J'), pseudoRandomBytes(64, 9)]));
    let message = '';
    try {
      readValidatedJson('case', hostile, HINT);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(new RegExp(`^${hostile}: not valid JSON`));
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  test('valid JSON that is not a case: the schema problems, naming the file', () => {
    const p = file(JSON.stringify({ caseNumber: 'C-1', evidenceNumber: 'EV-1' }));
    expect(() => readValidatedJson('case', p, HINT)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', path: p, message: `${p} does not match the case schema: (top level) must have required property 'examiner'` }),
    );
  });

  test('a missing file, a folder, a FIFO, /dev/zero: refused by what they are, before any parsing', () => {
    const fifo = join(tmp.dir, 'case.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => readValidatedJson('case', join(tmp.dir, 'absent.json'), HINT)).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND', path: join(tmp.dir, 'absent.json') }));
    expect(() => readValidatedJson('case', tmp.dir, HINT)).toThrow(expect.objectContaining({ code: 'IS_DIRECTORY', message: `${tmp.dir}: is a directory; a case file is read only from a regular file` }));
    expect(() => readValidatedJson('case', fifo, HINT)).toThrow(expect.objectContaining({ code: 'NOT_A_FILE', message: `${fifo}: is a pipe (FIFO); a case file is read only from a regular file` }));
    expect(() => readValidatedJson('acquisition-manifest', '/dev/zero', HINT)).toThrow(expect.objectContaining({ code: 'NOT_A_FILE', message: expect.stringMatching(/^\/dev\/zero: is a character device; an? acquisition-manifest file is read only from a regular file$/) }));
  });

  test('a file over the bound is refused before it is parsed (the bound counts bytes, not characters)', () => {
    const p = file(JSON.stringify({ caseNumber: 'C-1', evidenceNumber: 'EV-1', examiner: 'Zoë', notes: 'é'.repeat(500) }));
    const bytes = readFileSync(p).length;
    expect(() => readValidatedJson('case', p, HINT, bytes - 1)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: `${p}: larger than ${bytes - 1} bytes, too large for a case file` }));
    expect(readValidatedJson('case', p, HINT, bytes)).toMatchObject({ examiner: 'Zoë' });
  });
});

const python = spawnSync('python3', ['-c', 'import jsonschema'], { encoding: 'utf8' });
const noJsonschema = python.status !== 0 ? 'python3 with the jsonschema module is not installed (pip install jsonschema)' : undefined;
if (noJsonschema) test.skip(`independent schema validation skipped: ${noJsonschema}`, () => undefined);

(noJsonschema ? describe.skip : describe)('an independent validator (Python jsonschema, draft 2020-12) agrees', () => {
  test('on valid and invalid case, hash-result and manifest documents', async () => {
    const src = file(pseudoRandomBytes(100_000, 3));
    const outDir = join(tmp.dir, 'acq');
    const r = await acquire({ source: src, outDir, format: 'raw', algorithms: ['md5', 'sha256'], retries: 0, windowSize: 32768, env: fixedEnvironment() });
    const manifest = JSON.parse(readFileSync(r.manifestPath, 'utf8'));
    const docs: [SchemaName, unknown][] = [
      ['case', JSON.parse(readFileSync(SAMPLE_CASE, 'utf8'))],
      ['case', {}],
      ['case', { caseNumber: 'C', evidenceNumber: 'E', examiner: 'x'.repeat(257) }],
      ['case', { caseNumber: 'C', evidenceNumber: 'E', examiner: 'X', extra: 1 }],
      ['hash-result', { files: [{ path: 'a', kind: 'e01-media', size: 0, hashes: { sha256: 'a'.repeat(64) } }] }],
      ['hash-result', { files: [{ path: 'a', kind: 'file', size: 0, hashes: {} }] }],
      ['hash-result', { files: [{ path: 'a', kind: 'file', size: 1.5, hashes: { md5: 'a'.repeat(32) } }] }],
      ['acquisition-manifest', manifest],
      ['acquisition-manifest', { ...manifest, status: 'partial' }],
      ['acquisition-manifest', { ...manifest, hashes: { ...manifest.hashes, md5: 'not hex' } }],
      ['acquisition-manifest', { ...manifest, readErrors: [{ offset: -1, length: 1, firstSector: 0, sectorCount: 1 }] }],
      ['acquisition-manifest', { ...manifest, time: { ...manifest.time, utcOffset: '+1:00' } }],
    ];
    const script = [
      'import json, sys',
      'from jsonschema import Draft202012Validator, FormatChecker',
      'schemas, docs = json.load(sys.stdin)',
      'print(json.dumps([Draft202012Validator(schemas[name], format_checker=FormatChecker()).is_valid(doc) for name, doc in docs]))',
    ].join('\n');
    const out = spawnSync('python3', ['-c', script], { input: JSON.stringify([SCHEMAS, docs]), encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const theirs = JSON.parse(out.stdout) as boolean[];
    const ours = docs.map(([name, doc]) => schemaProblems(name, doc).length === 0);
    expect(ours).toEqual(theirs);
    // And the set is not trivial: both valid and invalid documents.
    expect(ours).toEqual([true, false, false, false, true, false, false, true, false, false, false, false]);
  });
});
