/**
 * The acquisition manifest (src/manifest/manifest.ts): written only once its schema accepts it,
 * never over an existing file unless replacing is asked, never onto evidence; read back only from
 * a regular file of JSON that the schema accepts, every refusal one line naming the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CustosError, isCustosError } from '../../../src/errors';
import { type AcquisitionManifest, readManifest, writeManifest } from '../../../src/manifest/manifest';
import { protectFile } from '../../../src/protect';
import { schemaProblems } from '../../../src/schema';
import { digestOf, makeTempDir, SAMPLE_IMAGE } from '../../helpers';

function failure(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (e) {
    if (!isCustosError(e)) throw e;
    return e;
  }
  throw new Error('expected a CustosError');
}

/** The manifest of a raw acquisition of the sample, with the digests coreutils computes for it. */
function sampleManifest(): AcquisitionManifest {
  const size = statSync(SAMPLE_IMAGE).size;
  const hashes = { md5: digestOf('md5sum', SAMPLE_IMAGE), sha256: digestOf('sha256sum', SAMPLE_IMAGE) };
  return {
    manifestVersion: 1,
    status: 'complete',
    tool: { name: 'custos', version: '0.1.0' },
    commandLine: ['custos', 'acquire', SAMPLE_IMAGE],
    host: { hostname: 'lab-ws-07', user: 'examiner', platform: 'linux', release: '6.1.0-test', arch: 'x64', osVersion: '#1 SMP test' },
    time: {
      start: '2026-03-14T09:26:54Z',
      end: '2026-03-14T09:26:55Z',
      timeZone: 'Europe/Berlin',
      utcOffset: '+01:00',
      startLocal: '2026-03-14T10:26:54+01:00',
      endLocal: '2026-03-14T10:26:55+01:00',
      durationSeconds: 1,
      sessions: [{ start: '2026-03-14T09:26:54Z', end: '2026-03-14T09:26:55Z', fromOffset: 0, toOffset: size, outcome: 'complete' }],
    },
    case: { caseNumber: '2026-0314-HARBOUR', examiner: 'Alex Morgan' },
    source: { path: SAMPLE_IMAGE, realPath: SAMPLE_IMAGE, kind: 'file', sizeBytes: size, logicalSectorSize: 512, physicalSectorSize: 512, sectors: size / 512, readOnly: null, mounts: [] },
    writeBlock: {
      method: 'read-only-open',
      mechanism: 'opened O_RDONLY',
      openFlags: ['O_RDONLY', 'O_NOATIME'],
      readOnlyBefore: null,
      readOnlyAfterSet: null,
      readOnlyAtEnd: null,
      partitions: [],
      allowMounted: false,
      mountsAtStart: [],
    },
    acquisition: { format: 'raw', chunkSize: 1 << 20, sectorSize: 512, retries: 2, bytesRead: size, bytesWritten: size, resumed: false },
    hashes,
    readErrors: [],
    outputs: [{ name: 'fat-disk.dd', size, hashes }],
    verification: {},
    rateSamples: [{ seconds: 1, bytes: size }],
  };
}

let tmp: ReturnType<typeof makeTempDir>;
beforeAll(() => {
  tmp = makeTempDir('custos-manifest-');
});
afterAll(() => tmp.cleanup());
let n = 0;
/** A fresh empty folder. */
function folder(): string {
  const d = join(tmp.dir, `d${n++}`);
  mkdirSync(d);
  return d;
}

test('the sample manifest is one the schema accepts (the known-good input of the tests below)', () => {
  expect(schemaProblems('acquisition-manifest', sampleManifest())).toEqual([]);
});

describe('writeManifest', () => {
  test('writes the manifest as indented JSON with a final newline, which readManifest gives back unchanged', () => {
    const path = join(folder(), 'fat-disk.manifest.json');
    const m = sampleManifest();
    writeManifest(path, m);
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(m, null, 2)}\n`);
    expect(readManifest(path)).toEqual(m);
  });

  test('validates before writing: a manifest the schema refuses is an error naming what is wrong, and nothing is written', () => {
    const dir = folder();
    const path = join(dir, 'bad.manifest.json');
    const m = sampleManifest();
    const bad = { ...m, hashes: { md5: 'not a digest' }, readErrors: undefined } as unknown as AcquisitionManifest;
    const e = failure(() => writeManifest(path, bad));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(new RegExp(`^manifest for ${path} does not match the acquisition-manifest schema: `));
    expect(e.message).toContain('readErrors');
    expect(e.message).toContain('/hashes/md5');
    expect(e.message).not.toContain('\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('never replaces an existing manifest unless replace is asked; then it does, atomically', () => {
    const dir = folder();
    const path = join(dir, 'fat-disk.manifest.json');
    const first = sampleManifest();
    writeManifest(path, first);
    const second = { ...first, verification: { image: { result: 'match' as const, at: '2026-03-14T09:27:00Z', durationSeconds: 1, hashes: first.hashes } } };
    const e = failure(() => writeManifest(path, second));
    expect(e.code).toBe('OUTPUT_EXISTS');
    expect(e.message).toBe(`${path} already exists; custos never overwrites a file it did not create in this run`);
    expect(readManifest(path)).toEqual(first);
    expect(readdirSync(dir)).toEqual(['fat-disk.manifest.json']);
    writeManifest(path, second, { replace: true });
    expect(readManifest(path)).toEqual(second);
    expect(readdirSync(dir)).toEqual(['fat-disk.manifest.json']);
  });

  test('never writes onto evidence, even when replacing', () => {
    const dir = folder();
    const evidence = join(dir, 'evidence.json');
    writeFileSync(evidence, 'the evidence');
    protectFile(evidence);
    const e = failure(() => writeManifest(evidence, sampleManifest(), { replace: true }));
    expect(e.code).toBe('UNSAFE_OUTPUT');
    expect(readFileSync(evidence, 'utf8')).toBe('the evidence');
    expect(readdirSync(dir)).toEqual(['evidence.json']);
  });
});

describe('readManifest refuses, in one line naming the file', () => {
  test('a FIFO (never opened for a blocking read)', () => {
    const fifo = join(folder(), 'fifo.manifest.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const e = failure(() => readManifest(fifo));
    expect(e.code).toBe('NOT_A_FILE');
    expect(e.message).toMatch(new RegExp(`^${fifo}: is a pipe \\(FIFO\\); .* is read only from a regular file$`));
  });

  test('a file that is not JSON', () => {
    const path = join(folder(), 'notes.manifest.json');
    writeFileSync(path, '{"manifestVersion": 1,\n  oops');
    const e = failure(() => readManifest(path));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(new RegExp(`^${path}: not valid JSON \\(`));
    expect(e.message).not.toContain('\n');
    expect(e.hint).toContain('BASE.manifest.json');
  });

  test('JSON the schema refuses (a manifest of another version, a value of the wrong kind)', () => {
    const path = join(folder(), 'other.manifest.json');
    writeFileSync(path, JSON.stringify({ ...sampleManifest(), manifestVersion: 2, source: { ...sampleManifest().source, sizeBytes: -1 } }));
    const e = failure(() => readManifest(path));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(new RegExp(`^${path} does not match the acquisition-manifest schema: `));
    expect(e.message).toContain('/manifestVersion');
    expect(e.message).toContain('/source/sizeBytes');
    expect(e.message).not.toContain('\n');
  });

  test('a folder, or nothing at all', () => {
    expect(failure(() => readManifest(folder())).code).toBe('IS_DIRECTORY');
    expect(failure(() => readManifest(join(tmp.dir, 'absent.manifest.json'))).code).toBe('FILE_NOT_FOUND');
  });
});
