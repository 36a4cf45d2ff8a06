/** custos info as a service: a source or an image described, with its custody entry. */
import { statSync } from 'node:fs';
import { fromFsError } from '../errors';
import { detectFormat } from '../formats/registry';
import { describeSource, type SourceInfo } from '../source/info';
import { type Custody, listed, record } from './session';

/** What `custos info` reports: a source's facts, or what an image of a format with its own records says about itself. */
export type Described = SourceInfo | ({ kind: string } & Record<string, unknown>);

/** Describes a source, or an image (E01, split set: detected by content) by what it records, without hashing. */
export function describeAny(path: string): Described {
  if (statSync(path).isFile()) {
    const format = detectFormat(path);
    if (format.describe) return format.describe(path);
  }
  return describeSource(path, { hiddenAreas: true });
}

/** Describes a source or an image, recording that it was examined. */
export async function infoRecorded(path: string, c?: Custody): Promise<Described> {
  let info: Described;
  try {
    info = describeAny(path);
  } catch (err) {
    throw fromFsError(err, path, 'looking it up') ?? err;
  }
  if (c) await record(c, { action: 'info', evidence: [path], details: { source: entryView(info) } });
  return info;
}

/** The description as an entry keeps it: a long list (the segments of a large set) as its count and first items. */
function entryView(info: Described): Record<string, unknown> {
  return Object.fromEntries(Object.entries(info).map(([k, v]) => [k, Array.isArray(v) ? listed(v) : v]));
}
