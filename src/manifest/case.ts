import { readFileSync } from 'node:fs';
import { CustosError, fromFsError } from '../errors';
import { assertSchema } from '../schema';
import type { CaseMetadata } from './manifest';

/** Reads a case description (schemas/case.schema.json), like samples/case.json. */
export function loadCaseFile(path: string): CaseMetadata {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw fromFsError(err, path, 'reading the case file') ?? err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CustosError('INVALID_INPUT', `${path}: not valid JSON (${(err as Error).message})`, {
      path,
      cause: err,
      hint: 'Write the case description like samples/case.json.',
    });
  }
  assertSchema('case', data, path);
  const { $schema: _schema, ...fields } = data as CaseMetadata & { $schema?: string };
  return fields;
}

/** The case metadata from an optional file, with every non-empty flag taking precedence. */
export function resolveCase(file: string | undefined, flags: CaseMetadata): CaseMetadata {
  const out: CaseMetadata = file ? loadCaseFile(file) : {};
  for (const [k, v] of Object.entries(flags) as [keyof CaseMetadata, string | undefined][]) if (v) out[k] = v;
  return out;
}
