/**
 * custos info as a service (src/services/info.ts): describeAny for a raw file (the source's facts),
 * an E01 (what it records about itself, as ewfinfo reads it) and a split set (its segments, as
 * split(1) cut them), and the info entry, which stays within the ledger's bound.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { MAX_ENTRY_BYTES } from '../../../src/custody';
import { describeAny, infoRecorded } from '../../../src/services/info';
import { digestOf, fixedEnvironment, hasTool, pseudoRandomBytes, ROOT, SAMPLE_IMAGE, tool } from '../../helpers';
import { entrySizes, ledger, serviceWorld } from './support';

const w = serviceWorld();

test('a raw file: the source\'s facts, with hidden areas "not applicable"', () => {
  expect(describeAny(SAMPLE_IMAGE)).toEqual({
    path: SAMPLE_IMAGE,
    realPath: realpathSync(SAMPLE_IMAGE),
    kind: 'file',
    sizeBytes: 8 << 20,
    logicalSectorSize: 512,
    physicalSectorSize: 512,
    sectors: 16384,
    readOnly: null,
    mounts: [],
    hiddenAreas: { status: 'not-applicable', summary: 'not applicable (regular file)', reason: 'regular file' },
  });
});

(hasTool('ewfinfo') ? describe : describe.skip)('an E01, as ewfinfo reads it', () => {
  let e01: string;
  let d: Record<string, unknown> & { header: Record<string, string>; stored: Record<string, string>; guid: string };
  let field: (label: string) => string | undefined;
  beforeAll(async () => {
    const a = await acquire({
      source: SAMPLE_IMAGE,
      outDir: join(w.dir, 'e01'),
      name: 'ev',
      format: 'e01',
      algorithms: ['md5'],
      retries: 0,
      env: fixedEnvironment(),
      case: { caseNumber: 'C-7', evidenceNumber: 'EV-7', examiner: 'Alex Morgan', description: 'USB stick' },
    });
    e01 = a.outputs[0]!.path;
    d = describeAny(e01) as unknown as typeof d;
    const info = tool('ewfinfo', [e01]);
    field = (label: string) => new RegExp(`^\\s*${label}:\\s+(.*)$`, 'm').exec(info)?.[1];
  });

  test('what its header, volume and hash sections say', () => {
    expect(d).toMatchObject({ kind: 'e01', segments: [{ path: e01, size: statSync(e01).size }], mediaSize: 8 << 20, bytesPerSector: 512, sectorCount: 16384, readErrors: [] });
    expect({
      case: d.header.c,
      evidence: d.header.n,
      examiner: d.header.e,
      description: d.header.a,
      sectors: String(d.sectorCount),
      bytesPerSector: String(d.bytesPerSector),
      media: `${d.mediaSize}`,
      md5: d.stored.md5,
      sha1: d.stored.sha1,
    }).toEqual({
      case: field('Case number'),
      evidence: field('Evidence number'),
      examiner: field('Examiner name'),
      description: field('Description'),
      sectors: field('Number of sectors'),
      bytesPerSector: field('Bytes per sector'),
      media: /\((\d+) bytes\)/.exec(field('Media size') ?? '')?.[1],
      md5: field('MD5'),
      sha1: field('SHA1'),
    });
    expect(d.stored.md5).toBe(digestOf('md5sum', SAMPLE_IMAGE));
  });

  test('its set identifier, written as ewfinfo (libewf) writes the GUID (the first three fields little-endian)', () => {
    expect(field('Set identifier')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(d.guid).toBe(field('Set identifier'));
    // custos writes a random (version 4, RFC 4122 variant) identifier, and ewfinfo reads it as one.
    expect(d.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

test('a split set cut by split(1): every segment in order, and the media size their sum', () => {
  const dir = join(w.dir, 'split1');
  mkdirSync(dir);
  const media = join(dir, 'media.bin');
  writeFileSync(media, pseudoRandomBytes(100_000, 3));
  tool('split', ['-b', '30000', '-d', '-a', '3', media, join(dir, 'disk.')]);
  const parts = readdirSync(dir).filter((f) => f.startsWith('disk.')).sort();
  expect(parts).toEqual(['disk.000', 'disk.001', 'disk.002', 'disk.003']);
  const d = describeAny(join(dir, 'disk.002'));
  expect(d).toEqual({ kind: 'split', segments: parts.map((p) => ({ path: join(dir, p), size: statSync(join(dir, p)).size })), mediaSize: 100_000 });
});

test('a file named .E01 without the EVF signature is refused, not read as raw', () => {
  const fake = join(w.dir, 'fake.E01');
  writeFileSync(fake, pseudoRandomBytes(4096, 4));
  expect(() => describeAny(fake)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: `${fake}: named like E01 but its content is not (e01 signature missing)` }));
});

test('infoRecorded: the info entry names the path as evidence and records what was described', async () => {
  const c = await w.newCase();
  const d = await infoRecorded(SAMPLE_IMAGE, c);
  expect(d).toEqual(describeAny(SAMPLE_IMAGE));
  const e = ledger(c.caseDir).at(-1)!;
  expect(e).toMatchObject({ seq: 1, action: 'info', evidence: [SAMPLE_IMAGE], details: { source: JSON.parse(JSON.stringify(d)) } });
  // Without a case: the same description.
  expect(await infoRecorded(SAMPLE_IMAGE)).toEqual(d);
});

test('infoRecorded of a path that does not exist, or a folder: the error of the path, nothing recorded', async () => {
  const c = await w.newCase();
  const missing = join(w.dir, 'gone.E01');
  await expect(infoRecorded(missing, c)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: `${missing}: no such file or directory` });
  await expect(infoRecorded(w.dir, c)).rejects.toMatchObject({ code: 'IS_DIRECTORY' });
  expect(ledger(c.caseDir)).toHaveLength(1);
});

test('the info entry of a split set with many segments stays within the ledger\'s bound, and is recorded', async () => {
  // 160 segments in a deep folder (paths of ~3,800 characters): the segment list alone is 600 KB,
  // more than the 512 KiB of canonical bytes an entry may have (MAX_ENTRY_BYTES / 2).
  let dir = join(w.dir, 'deep');
  for (let i = 0; i < 15; i++) dir = join(dir, 's'.repeat(250));
  mkdirSync(dir, { recursive: true });
  const media = join(w.dir, 'many-media.bin');
  writeFileSync(media, pseudoRandomBytes(160 * 512, 5));
  tool('split', ['-b', '512', '-d', '-a', '3', media, join(dir, 'disk.')]);
  const c = await w.newCase();
  const d = (await infoRecorded(join(dir, 'disk.000'), c)) as unknown as { segments: unknown[]; mediaSize: number };
  expect(d.segments).toHaveLength(160);
  expect(d.mediaSize).toBe(160 * 512);
  expect(ledger(c.caseDir).map((e) => e.action)).toEqual(['case-open', 'info']);
  expect(Math.max(...entrySizes(c.caseDir))).toBeLessThanOrEqual(MAX_ENTRY_BYTES / 2);
});

// A split set with more segments than the process may have open files (1,575 segments of 650 MiB
// make a 1 TB disk; the usual limit is 1024). Through the built CLI, whose limit `ulimit -n` sets.
const built = existsSync(join(ROOT, 'dist', 'commands', 'info.js'));
(built ? test : test.skip)('a split set of more segments than open files allowed (ulimit -n 200, 301 segments): described, not an internal error', () => {
  const dir = join(w.dir, 'many-fds');
  mkdirSync(dir);
  const media = join(dir, 'media.bin');
  writeFileSync(media, pseudoRandomBytes(301 * 1000, 6));
  tool('split', ['-b', '1000', '-d', '-a', '3', media, join(dir, 'disk.')]);
  const r = spawnSync('sh', ['-c', `ulimit -n 200 && exec "${process.execPath}" "${join(ROOT, 'bin', 'run.js')}" info --json "${join(dir, 'disk.000')}"`], {
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  expect(r.stdout).not.toContain('INTERNAL');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'split', mediaSize: 301_000 });
});
if (!built) test.skip('the open-files test needs the build: run npx tsc -p tsconfig.build.json first', () => undefined);
