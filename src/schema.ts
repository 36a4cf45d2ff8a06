import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import acquisitionManifestSchema from '../schemas/acquisition-manifest.schema.json';
import caseSchema from '../schemas/case.schema.json';
import hashResultSchema from '../schemas/hash-result.schema.json';
import ledgerEntrySchema from '../schemas/ledger-entry.schema.json';
import resumeJournalSchema from '../schemas/resume-journal.schema.json';
import { CustosBug, CustosError, printable } from './errors';
import { MAX_RECORD_BYTES, readBoundedFile } from './fsutil';

/** Every JSON Schema custos ships (draft 2020-12), by short name. */
export const SCHEMAS = {
  'acquisition-manifest': acquisitionManifestSchema,
  case: caseSchema,
  'hash-result': hashResultSchema,
  'ledger-entry': ledgerEntrySchema,
  'resume-journal': resumeJournalSchema,
} as const;
export type SchemaName = keyof typeof SCHEMAS;

let ajv: Ajv2020 | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

function validator(name: SchemaName): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    // Every schema is registered first: one may refer to parts of another by its $id.
    if (!ajv) {
      ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
      for (const schema of Object.values(SCHEMAS)) ajv.addSchema(schema);
    }
    fn = ajv.getSchema(SCHEMAS[name].$id);
    if (!fn) throw new CustosBug(`schema ${name} did not compile`);
    compiled.set(name, fn);
  }
  return fn;
}

/** Checks `data` against a shipped schema; returns the list of problems (empty when valid). */
export function schemaProblems(name: SchemaName, data: unknown): string[] {
  const fn = validator(name);
  return fn(data) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}`);
}

/** Throws an INVALID_INPUT error naming `what` when `data` does not satisfy the schema. */
export function assertSchema(name: SchemaName, data: unknown, what: string): void {
  const problems = schemaProblems(name, data);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? ` (and ${problems.length - 5} more)` : '');
    throw new CustosError('INVALID_INPUT', `${what} does not match the ${name} schema: ${shown}`, {
      path: what,
      hint: `Compare it with schemas/${name}.schema.json.`,
    });
  }
}

/**
 * Reads a JSON file that must satisfy a shipped schema. The file is untrusted input: its size
 * is bounded before it is read, and every failure is an input error that names it.
 */
export function readValidatedJson(name: SchemaName, path: string, hint: string, maxBytes = MAX_RECORD_BYTES): unknown {
  const text = readBoundedFile(path, `${name} file`, maxBytes).toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CustosError('INVALID_INPUT', `${path}: not valid JSON (${printable((err as Error).message)})`, { path, cause: err, hint });
  }
  assertSchema(name, data, path);
  return data;
}
