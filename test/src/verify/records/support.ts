/**
 * What the record tests share: the recorded fixtures (test/fixtures/expect/README.md), the known
 * answers coreutils computes for the sample image, and small helpers. Not a test file itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CustosError, isCustosError } from '../../../../src/errors';
import type { HashSet } from '../../../../src/hash/hashset';
import { digestOf, makeTempDir, ROOT, SAMPLE_IMAGE } from '../../../helpers';

export const FIX = join(ROOT, 'test', 'fixtures', 'expect');
export const fx = (p: string) => join(FIX, p);

export type SampleDigests = Record<'md5' | 'sha1' | 'sha256' | 'sha512', string>;
let digests: SampleDigests | undefined;
/** What coreutils computes for the sample: the known answer every record about it must give. */
export function sampleDigests(): SampleDigests {
  digests ??= {
    md5: digestOf('md5sum', SAMPLE_IMAGE),
    sha1: digestOf('sha1sum', SAMPLE_IMAGE),
    sha256: digestOf('sha256sum', SAMPLE_IMAGE),
    sha512: digestOf('sha512sum', SAMPLE_IMAGE),
  };
  return digests;
}
export const SAMPLE_SIZE = statSync(SAMPLE_IMAGE).size;

/** The sample's digests for these algorithms, as coreutils computed them. */
export const sample = (...algs: (keyof SampleDigests)[]): HashSet => Object.fromEntries(algs.map((a) => [a, sampleDigests()[a]]));

/** A coreutils digest of `length` bytes of the sample from `offset` (dd and md5sum/sha256sum, not custos). */
export function sliceDigest(cmd: string, offset: number, length: number): string {
  const r = spawnSync('sh', ['-c', `tail -c +${offset + 1} "$1" | head -c ${length} | ${cmd}`, 'sh', SAMPLE_IMAGE], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split(/\s+/)[0]!;
}

/** The CustosError `fn` throws; any other outcome fails the test. */
export function failure(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (e) {
    if (!isCustosError(e)) throw e;
    return e;
  }
  throw new Error('expected a CustosError');
}

/** A temporary folder for one test file, with a writer of files each in a fresh subfolder. */
export function tempFiles(): { dir: () => string; file: (name: string, data: string | Uint8Array) => string; cleanup: () => void } {
  let tmp: ReturnType<typeof makeTempDir> | undefined;
  let n = 0;
  const dir = () => (tmp ??= makeTempDir('custos-expect-')).dir;
  return {
    dir,
    file: (name, data) => {
      const d = join(dir(), `t${n++}`);
      mkdirSync(d);
      const p = join(d, name);
      writeFileSync(p, data);
      return p;
    },
    cleanup: () => tmp?.cleanup(),
  };
}

/** A record about the sample, read for the sample: the digests coreutils computes, the tool and version it names. */
export function expectKnownAnswer(read: (file: string, target?: string) => { hashes: HashSet; tool: string; version?: string; file: string }, file: string, algs: (keyof SampleDigests)[], toolName: string, version: string | undefined): void {
  const r = read(fx(file), SAMPLE_IMAGE);
  expect(r.hashes).toEqual(sample(...algs));
  expect(r.tool).toBe(toolName);
  expect(r.version).toBe(version);
  expect(r.file).toBe(fx(file));
}
