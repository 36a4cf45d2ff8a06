/** Case metadata (schemas/case.schema.json) for a manifest: from a case file, with flags taking precedence. */
import { readValidatedJson } from '../schema';
import type { CaseMetadata } from './manifest';

/** Reads a case description (schemas/case.schema.json), like samples/case.json. */
export function loadCaseFile(path: string): CaseMetadata {
  const data = readValidatedJson('case', path, 'Write the case description like samples/case.json.', 1024 * 1024);
  const { $schema: _schema, ...fields } = data as CaseMetadata & { $schema?: string };
  return fields;
}

/** The case metadata from an optional file, with every non-empty flag taking precedence. */
export function resolveCase(file: string | undefined, flags: CaseMetadata): CaseMetadata {
  const out: CaseMetadata = file ? loadCaseFile(file) : {};
  for (const [k, v] of Object.entries(flags) as [keyof CaseMetadata, string | undefined][]) if (v) out[k] = v;
  return out;
}
