/**
 * Case descriptions (src/manifest/case.ts): the repository's own samples/case.json read as the
 * schema describes it, flags taking precedence field by field, and files that are not a case refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import { loadCaseFile, resolveCase } from '../../../src/manifest/case';
import { makeTempDir, ROOT } from '../../helpers';

const CASE = join(ROOT, 'samples', 'case.json');

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-case-');
});
afterAll(() => tmp.cleanup());

test('samples/case.json: every field as written, without its $schema', () => {
  const raw = JSON.parse(readFileSync(CASE, 'utf8')) as Record<string, string>;
  const { $schema, ...fields } = raw;
  expect($schema).toBe('../schemas/case.schema.json');
  expect(loadCaseFile(CASE)).toEqual(fields);
  expect(loadCaseFile(CASE)).toMatchObject({ caseNumber: '2026-0314-HARBOUR', evidenceNumber: 'EV-0001', examiner: 'Alex Morgan' });
});

test('flags override the file field by field; empty or absent flags leave the file\'s value', () => {
  const fromFile = loadCaseFile(CASE);
  const r = resolveCase(CASE, { examiner: 'Sam Lee', evidenceNumber: '', notes: undefined, description: 'Re-imaged for the appeal' });
  expect(r).toEqual({ ...fromFile, examiner: 'Sam Lee', description: 'Re-imaged for the appeal' });
});

test('without a file, the flags given are the case', () => {
  expect(resolveCase(undefined, { caseNumber: 'C-1', examiner: '' })).toEqual({ caseNumber: 'C-1' });
  expect(resolveCase(undefined, {})).toEqual({});
});

test('a file that is not a case description is refused naming it', () => {
  const path = join(tmp.dir, 'case.json');
  writeFileSync(path, JSON.stringify({ caseNumber: 7, suspect: 'x' }));
  try {
    loadCaseFile(path);
    throw new Error('no error');
  } catch (e) {
    expect(isCustosError(e) && e.code).toBe('INVALID_INPUT');
    expect((e as Error).message).toMatch(new RegExp(`^${path} does not match the case schema: `));
    expect(isCustosError(e) && e.hint).toBe('Compare it with schemas/case.schema.json.');
  }
  expect(() => resolveCase(join(tmp.dir, 'absent.json'), { examiner: 'Sam Lee' })).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
});
