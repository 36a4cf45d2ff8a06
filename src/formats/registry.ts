/**
 * The format registry: every image format custos reads and writes, in the order their content is
 * checked. Adding a format is one module (see ImageFormat in ./types) and one line here.
 */
import { basename } from 'node:path';
import { closeSync, readSync } from 'node:fs';
import { CustosError } from '../errors';
import { openRegularForRead } from '../fsutil';
import { e01Format } from './e01';
import { rawFormat } from './raw';
import { splitFormat } from './split';
import type { ImageFormat, MediaImage, OpenOptions } from './types';

/** Checked in this order: formats with a signature first, raw (anything) last. */
export const FORMATS = [e01Format, splitFormat, rawFormat] as const;

/** The name of every format custos knows: 'e01' | 'split' | 'raw'. */
export type FormatName = (typeof FORMATS)[number]['name'];

/** The format names, for flags and schemas. */
export const FORMAT_NAMES: readonly FormatName[] = FORMATS.map((f) => f.name);

/** The module of a format by its name. */
export function formatByName(name: FormatName): ImageFormat<FormatName> {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw new CustosError('USAGE', `unknown image format '${name}'`, { hint: `Use one of: ${FORMAT_NAMES.join(', ')}.` });
  return f as ImageFormat<FormatName>;
}

/** The first bytes of a file (up to 512), read as a record: regular files only, never blocking. */
function head(path: string): Buffer {
  const { fd } = openRegularForRead(path, 'image file');
  try {
    const b = Buffer.alloc(512);
    return b.subarray(0, readSync(fd, b, 0, b.length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Which format an image file is in: by content first (a signature), then by name (split sets have
 * none). A name that claims a format whose signature is missing is an error, not a guess: an
 * .E01 that does not start with EVF is damaged or not an E01, and reading it as raw would hash the
 * container instead of the evidence.
 */
export function detectFormat(path: string): ImageFormat<FormatName> {
  const first = head(path);
  for (const f of FORMATS) {
    if (f.name !== 'raw' && f.detect(path, first)) return f as ImageFormat<FormatName>;
  }
  const claimed = FORMATS.find((f) => f.name !== 'raw' && f.name !== 'split' && f.extensions.some((e) => e.test(basename(path))));
  if (claimed) {
    throw new CustosError('INVALID_INPUT', `${path}: named like ${claimed.name.toUpperCase()} but its content is not (${claimed.description.split(':')[0]} signature missing)`, {
      path,
      hint: 'The file is damaged or misnamed; check it against your evidence copy. To read it as raw bytes anyway, give it another name.',
    });
  }
  return rawFormat;
}

/** Opens an image of any format custos reads, detected by content, as one stream of media bytes (MediaImage). */
export function openImage(path: string, options: OpenOptions = {}): MediaImage {
  return detectFormat(path).open(path, options);
}
