/**
 * The one error type of custos, and the one map from what went wrong to the exit code.
 *
 * User-fixable problems (a missing file, a bad flag value, a hash that does not match)
 * are `CustosError`s and are printed as one line plus a hint. Anything else that
 * reaches the top is a bug in custos and is printed with its stack.
 */

/** Exit codes of the `custos` binary; documented in README.md ("Exit codes"). */
export const ExitCode = {
  OK: 0,
  /** An unexpected failure: a bug in custos. */
  INTERNAL: 1,
  /** The command line was wrong: unknown flag, bad flag value, missing argument. */
  USAGE: 2,
  /** An input was wrong: missing file, directory where a file was expected, invalid manifest. */
  INPUT: 3,
  /** A verification compared hashes and at least one did not match. */
  MISMATCH: 4,
  /** Reading or writing failed on a path that exists (EIO, disk full, permission lost). */
  IO: 5,
  /** The acquisition completed, but some sectors could not be read and were zero-filled. */
  READ_ERRORS: 6,
  /** Stopped by the user (Ctrl-C, SIGTERM); what was done can be resumed. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * How a command that completed ended, when that is not plain success: a mismatch (4), unreadable
 * sectors zero-filled (6), a torn ledger line (3). Services decide the outcome; this file alone
 * turns it into an exit code.
 */
export type Outcome = 'ok' | 'mismatch' | 'read-errors' | 'torn';

const EXIT_BY_OUTCOME: Record<Outcome, ExitCode> = { ok: ExitCode.OK, mismatch: ExitCode.MISMATCH, 'read-errors': ExitCode.READ_ERRORS, torn: ExitCode.INPUT };

/** The exit code of a command that completed with `outcome`. */
export function outcomeExitCode(outcome: Outcome): ExitCode {
  return EXIT_BY_OUTCOME[outcome];
}

/** What kind of failure a code is; the kind decides the exit code. */
export type ErrorKind = 'usage' | 'input' | 'mismatch' | 'io' | 'interrupted' | 'internal';

/** Every error code custos raises, with its kind. New codes are added here and nowhere else. */
export const ERROR_CODES = {
  USAGE: 'usage',
  UNKNOWN_ALGORITHM: 'usage',
  NO_ALGORITHM: 'usage',
  FILE_NOT_FOUND: 'input',
  IS_DIRECTORY: 'input',
  NOT_A_FILE: 'input',
  PERMISSION_DENIED: 'input',
  INVALID_INPUT: 'input',
  OUTPUT_EXISTS: 'input',
  /** A write that could land on evidence (the source, its device, a link to it) or go through a symbolic link. */
  UNSAFE_OUTPUT: 'input',
  SOURCE_MOUNTED: 'input',
  WRITE_BLOCK_FAILED: 'input',
  RESUME_MISMATCH: 'input',
  IDENTITY_NOT_FOUND: 'input',
  IDENTITY_AMBIGUOUS: 'usage',
  IDENTITY_EXISTS: 'input',
  WRONG_PASSPHRASE: 'input',
  NO_PASSPHRASE: 'usage',
  CERT_INVALID: 'input',
  KEY_MISMATCH: 'input',
  LEDGER_EXISTS: 'input',
  LEDGER_NOT_FOUND: 'input',
  LEDGER_TORN: 'input',
  LEDGER_INVALID: 'mismatch',
  LEDGER_BUSY: 'io',
  INTERRUPTED: 'interrupted',
  HASH_MISMATCH: 'mismatch',
  CORRUPT_IMAGE: 'mismatch',
  IO_ERROR: 'io',
  /** The source stopped answering (device gone, connection dropped): stopped, resumable once it is back. */
  SOURCE_DISCONNECTED: 'io',
  INTERNAL: 'internal',
} as const satisfies Record<string, ErrorKind>;
export type ErrorCode = keyof typeof ERROR_CODES;

const EXIT_BY_KIND: Record<ErrorKind, ExitCode> = {
  usage: ExitCode.USAGE,
  input: ExitCode.INPUT,
  mismatch: ExitCode.MISMATCH,
  io: ExitCode.IO,
  interrupted: ExitCode.INTERRUPTED,
  internal: ExitCode.INTERNAL,
};

export interface CustosErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  /** The underlying error (an errno exception, a parse failure). */
  cause?: unknown;
  /** The file or device the error is about, when there is one. */
  path?: string;
}

// A registry-wide symbol, so that errors are recognised even when two copies of this module are
// loaded (oclif loads the TypeScript sources in development while bin/run.js uses dist/).
const BRAND = Symbol.for('custos.CustosError');

/** A failure custos understands: it has a code, a message that says what and where, and a hint. */
export class CustosError extends Error {
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly path?: string;

  constructor(code: ErrorCode, message: string, options: CustosErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustosError';
    this.code = code;
    this.hint = options.hint;
    this.path = options.path;
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code];
  }

  get exitCode(): ExitCode {
    return EXIT_BY_KIND[this.kind];
  }
}

/**
 * A failure the user cannot fix: an invariant of custos itself was broken. Reported with its
 * stack and a request to report it. Never thrown for bad input, which is always a CustosError.
 */
export class CustosBug extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustosBug';
  }
}

/** True for a CustosError from any loaded copy of this module. */
export function isCustosError(err: unknown): err is CustosError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/** Exit code for an error code. */
export function exitCodeFor(code: ErrorCode): ExitCode {
  return EXIT_BY_KIND[ERROR_CODES[code]];
}

/**
 * Turns a Node.js file-system error about `path` into a CustosError that says what to do,
 * or returns undefined when the errno is not one a user can act on (then it is a bug).
 */
export function fromFsError(err: unknown, path: string, doing: string): CustosError | undefined {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (errno) {
    case 'ENOENT':
      return new CustosError('FILE_NOT_FOUND', `${path}: no such file or directory`, {
        path,
        cause: err,
        hint: 'Check the path; quote it if it contains spaces.',
      });
    case 'EISDIR':
      return new CustosError('IS_DIRECTORY', `${path}: is a directory, not a file`, {
        path,
        cause: err,
        hint: 'Name the files inside it, e.g. with a shell glob (dir/*).',
      });
    case 'EACCES':
    case 'EPERM':
      return new CustosError('PERMISSION_DENIED', `${path}: permission denied while ${doing}`, {
        path,
        cause: err,
        hint: 'Run as a user that may read it (block devices usually need root or the disk group).',
      });
    case 'EIO':
    case 'ENOSPC':
    case 'EROFS':
    case 'EDQUOT':
    case 'ENXIO':
    case 'ENODEV':
    case 'ESTALE':
      return new CustosError('IO_ERROR', `${path}: ${errno} while ${doing}: ${(err as Error).message}`, {
        path,
        cause: err,
        hint: 'The storage failed or is full; check the device and the kernel log (dmesg).',
      });
    case 'EMFILE':
    case 'ENFILE':
      return new CustosError('IO_ERROR', `${path}: too many open files while ${doing}`, {
        path,
        cause: err,
        hint: 'Raise the limit of open files (ulimit -n 4096), or close other programs, then run the same command again.',
      });
    case 'ENAMETOOLONG':
    case 'ENOTDIR':
    case 'ELOOP':
      return new CustosError('INVALID_INPUT', `${path}: ${errno}: the path cannot be resolved`, {
        path,
        cause: err,
        hint: 'Check each component of the path.',
      });
    default:
      return undefined;
  }
}

/** How a failure is shown to the user and which exit code it ends with. */
export interface FailureReport {
  exitCode: number;
  /** Lines for stderr, already formatted. */
  text: string;
  /** The machine-readable form printed on stdout under --json. */
  json: { error: { code: string; kind: ErrorKind; message: string; hint?: string; path?: string; exitCode: number } };
}

interface OclifLikeError {
  message: string;
  code?: string;
  oclif?: { exit?: number | false };
}

const BUG_HINT =
  'This is a bug in custos. Please report it with the command line you ran and the text above.';

/**
 * Decides how any error that reached the top is reported. The single place where errors
 * become exit codes: CustosError by its code, oclif's own parse errors as usage errors,
 * everything else as a bug with its stack.
 */
export function describeFailure(err: unknown, bin = 'custos'): FailureReport {
  if (isCustosError(err)) {
    return {
      exitCode: err.exitCode,
      text: oneLine(bin, printable(err.message, 4000), err.hint && printable(err.hint, 1000)),
      json: {
        error: {
          code: err.code,
          kind: err.kind,
          message: err.message,
          ...(err.hint ? { hint: err.hint } : {}),
          ...(err.path ? { path: err.path } : {}),
          exitCode: err.exitCode,
        },
      },
    };
  }
  const oclifErr = err as OclifLikeError | undefined;
  // oclif marks its parse and validation errors (unknown flag, missing argument, bad option) with an exit code.
  if (oclifErr && typeof oclifErr.oclif?.exit === 'number' && oclifErr.code !== 'EEXIT') {
    const message = firstLine(oclifErr.message);
    return {
      exitCode: ExitCode.USAGE,
      text: oneLine(bin, message, `See '${bin} --help' or '${bin} COMMAND --help'.`),
      json: {
        error: { code: 'USAGE', kind: 'usage', message, hint: `See '${bin} COMMAND --help'.`, exitCode: ExitCode.USAGE },
      },
    };
  }
  const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  const message = err instanceof Error ? err.message : String(err);
  return {
    exitCode: ExitCode.INTERNAL,
    text: `${bin}: internal error: ${message}\n${stack}\n${BUG_HINT}`,
    json: { error: { code: 'INTERNAL', kind: 'internal', message, hint: BUG_HINT, exitCode: ExitCode.INTERNAL } },
  };
}

/**
 * Text from outside (a file's bytes quoted in a message, a name) made safe for one line on a
 * terminal: control characters and line breaks escaped, length bounded.
 */
export function printable(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = String(text).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return clean.length > max ? `${clean.slice(0, max)}… (${clean.length} characters)` : clean;
}

/** A user error is one line: what was wrong, where, and what to do. */
function oneLine(bin: string, message: string, hint?: string): string {
  const sentence = /[.!?]$/.test(message) ? message : `${message}.`;
  return hint ? `${bin}: error: ${sentence} ${hint}` : `${bin}: error: ${sentence}`;
}

function firstLine(text: string): string {
  // oclif appends "See more help with --help" on later lines; the hint says that already.
  return text.split('\n').map((l) => l.trim()).filter(Boolean).filter((l) => !/^See more help/.test(l)).join(' ');
}
