import { CustosError, describeFailure, ERROR_CODES, type ErrorCode, ExitCode, exitCodeFor, fromFsError } from '../../src/errors';

describe('exit codes', () => {
  test('each kind of failure has its own documented code', () => {
    const codes = Object.values(ExitCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(ExitCode).toEqual({ OK: 0, INTERNAL: 1, USAGE: 2, INPUT: 3, MISMATCH: 4, IO: 5, READ_ERRORS: 6, INTERRUPTED: 130 });
  });

  test.each<[ErrorCode, number]>([
    ['UNKNOWN_ALGORITHM', 2],
    ['FILE_NOT_FOUND', 3],
    ['IS_DIRECTORY', 3],
    ['HASH_MISMATCH', 4],
    ['IO_ERROR', 5],
    ['INTERNAL', 1],
  ])('%s exits with %i', (code, exit) => {
    expect(exitCodeFor(code)).toBe(exit);
    expect(new CustosError(code, 'x').exitCode).toBe(exit);
  });

  test('no code maps to success', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) expect(exitCodeFor(code)).not.toBe(0);
  });
});

describe('describeFailure', () => {
  test('a user error is one line with the hint, no stack', () => {
    const r = describeFailure(new CustosError('FILE_NOT_FOUND', 'x.img: no such file or directory', { hint: 'Check the path.' }));
    expect(r.exitCode).toBe(3);
    expect(r.text).toBe('custos: error: x.img: no such file or directory. Check the path.');
    expect(r.json.error).toMatchObject({ code: 'FILE_NOT_FOUND', kind: 'input', exitCode: 3 });
  });

  test("oclif's parse errors are usage errors", () => {
    const parseError = Object.assign(new Error('Nonexistent flag: --bogus\nSee more help with --help'), { oclif: { exit: 2 } });
    const r = describeFailure(parseError);
    expect(r.exitCode).toBe(2);
    expect(r.text).not.toContain('\n');
    expect(r.text).toContain('Nonexistent flag: --bogus');
    expect(r.text).not.toContain('See more help');
  });

  test('anything else is a bug: stack printed and a request to report it', () => {
    const r = describeFailure(new TypeError('cannot read properties of undefined'));
    expect(r.exitCode).toBe(1);
    expect(r.text).toContain('internal error');
    expect(r.text).toMatch(/at .*errors\.test\.ts/);
    expect(r.text).toContain('Please report');
  });
});

describe('fromFsError', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  test.each([
    ['ENOENT', 'FILE_NOT_FOUND'],
    ['EISDIR', 'IS_DIRECTORY'],
    ['EACCES', 'PERMISSION_DENIED'],
    ['EIO', 'IO_ERROR'],
    ['ENOSPC', 'IO_ERROR'],
    ['EMFILE', 'IO_ERROR'],
    ['ENFILE', 'IO_ERROR'],
  ])('%s becomes %s and names the path', (code, expected) => {
    const e = fromFsError(errno(code), '/evidence/disk.img', 'reading it');
    expect(e?.code).toBe(expected);
    expect(e?.message).toContain('/evidence/disk.img');
    expect(e?.hint).toBeTruthy();
    expect(e?.cause).toBeDefined();
  });

  test('an errno nobody can act on is left for the bug path', () => {
    expect(fromFsError(errno('EFAULT'), 'x', 'reading')).toBeUndefined();
    expect(fromFsError(new Error('plain'), 'x', 'reading')).toBeUndefined();
  });
});

test('a CustosError from a second copy of the module is still recognised (dev and dist loaded together)', () => {
  let other: typeof import('../../src/errors') | undefined;
  jest.isolateModules(() => {
    other = require('../../src/errors');
  });
  const foreign = new other!.CustosError('IS_DIRECTORY', 'd: is a directory');
  expect(foreign).not.toBeInstanceOf(CustosError);
  expect(describeFailure(foreign).exitCode).toBe(3);
});
