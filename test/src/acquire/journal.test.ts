/**
 * The resume journal (src/acquire/journal.ts): written and read back byte for byte, every
 * malformed field refused with RESUME_MISMATCH naming the file, only regular files of bounded
 * size read; checkpoints at the interval, a failed save swallowed where another error matters
 * more, and no journal at all for a format that cannot resume.
 */
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { acquire, type AcquireOptions } from '../../../src/acquire/acquire';
import { Checkpoints, loadJournal, rangesBelow, type ResumeJournal, saveJournal, sourceIdentity } from '../../../src/acquire/journal';
import { describeSource, type SourceInfo } from '../../../src/source/info';
import { digestOf, fixedEnvironment, makeTempDir, pseudoRandomBytes, sameBytes } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
/** A journal written by a real acquisition interrupted after 1 MiB of a 4 MiB source. */
let real: { path: string; text: string; journal: ResumeJournal; options: AcquireOptions };

beforeAll(async () => {
  tmp = makeTempDir();
  const source = join(tmp.dir, 'source.img');
  writeFileSync(source, pseudoRandomBytes(4 << 20, 31));
  const controller = new AbortController();
  const options: AcquireOptions = {
    source,
    outDir: join(tmp.dir, 'interrupted'),
    name: 'ev',
    format: 'raw',
    algorithms: ['md5', 'sha256'],
    retries: 0,
    chunkSize: 65536,
    env: fixedEnvironment(),
    signal: controller.signal,
    onProgress: (_phase, _total, p) => p.bytesDone >= 1 << 20 && controller.abort(),
  };
  await expect(acquire(options)).rejects.toMatchObject({ code: 'INTERRUPTED' });
  const path = join(options.outDir, 'ev.resume.json');
  const text = readFileSync(path, 'utf8');
  real = { path, text, journal: JSON.parse(text) as ResumeJournal, options: { ...options, signal: undefined, onProgress: undefined } };
});
afterAll(() => tmp.cleanup());

let n = 0;
const write = (content: string | Buffer) => {
  const p = join(tmp.dir, `j-${n++}.resume.json`);
  writeFileSync(p, content);
  return p;
};

describe('saveJournal and loadJournal', () => {
  test('the journal of an interrupted run: loaded as written, and saved again byte for byte', () => {
    const j = loadJournal(real.path);
    expect(j).toEqual(real.journal);
    expect(j).toMatchObject({
      journalVersion: 1,
      source: { kind: 'file', sizeBytes: 4 << 20 },
      settings: { format: 'raw', splitSize: 0, algorithms: ['md5', 'sha256'], windowSize: 0, chunkSize: 65536, sectorSize: 512, retries: 0 },
      case: {},
      readErrors: [],
      sessions: [{ fromOffset: 0, outcome: 'interrupted' }],
    });
    expect(j.bytesDone).toBeGreaterThanOrEqual(1 << 20);
    expect(j.sessions[0]!.toOffset).toBe(j.bytesDone);
    // The partial image holds at least what the journal says is done (the journal is only a hint).
    const partial = join(real.options.outDir, 'ev.raw.partial');
    const head = join(tmp.dir, 'head.bin');
    writeFileSync(head, readFileSync(partial).subarray(0, j.bytesDone));
    writeFileSync(join(tmp.dir, 'src-head.bin'), readFileSync(real.options.source).subarray(0, j.bytesDone));
    expect(sameBytes(head, join(tmp.dir, 'src-head.bin'))).toBe(true);

    const again = join(tmp.dir, 'again.resume.json');
    saveJournal(again, j);
    expect(readFileSync(again, 'utf8')).toBe(real.text);
    expect(readFileSync(again, 'utf8')).toBe(`${JSON.stringify(j)}\n`);
  });

  test('saveJournal replaces the previous journal whole (atomically: no temporary file left)', () => {
    const dir = join(tmp.dir, 'replace');
    mkdirSync(dir);
    const p = join(dir, 'x.resume.json');
    saveJournal(p, { ...real.journal, bytesDone: 0, readErrors: [] });
    saveJournal(p, real.journal);
    expect(loadJournal(p)).toEqual(real.journal);
    expect(readdirSync(dir)).toEqual(['x.resume.json']);
  });

  /** The real journal with one change. */
  const variant = (change: (j: Record<string, unknown> & ResumeJournal) => void): string => {
    const j = JSON.parse(real.text) as Record<string, unknown> & ResumeJournal;
    change(j);
    return JSON.stringify(j);
  };

  test.each<[string, string, () => string]>([
    ['truncated JSON', 'it is not valid JSON', () => real.text.slice(0, 100)],
    ['an empty file', 'it is not valid JSON', () => ''],
    ['null', 'unknown journal version', () => 'null'],
    ['an array', 'unknown journal version', () => '[]'],
    ['journalVersion 2', 'unknown journal version', () => variant((j) => ((j as { journalVersion: number }).journalVersion = 2))],
    ['journalVersion "1"', 'unknown journal version', () => variant((j) => ((j as { journalVersion: unknown }).journalVersion = '1'))],
    ['bytesDone missing', 'bytesDone is not a valid offset', () => variant((j) => delete (j as Partial<ResumeJournal>).bytesDone)],
    ['bytesDone negative', 'bytesDone is not a valid offset', () => variant((j) => (j.bytesDone = -512))],
    ['bytesDone fractional', 'bytesDone is not a valid offset', () => variant((j) => (j.bytesDone = 1.5))],
    ['bytesDone a string', 'bytesDone is not a valid offset', () => variant((j) => ((j as { bytesDone: unknown }).bytesDone = '1048576'))],
    ['bytesDone beyond the source', 'bytesDone is not a valid offset', () => variant((j) => (j.bytesDone = j.source.sizeBytes + 1))],
    ['bytesDone beyond 2^53', 'bytesDone is not a valid offset', () => variant((j) => (j.bytesDone = 2 ** 53))],
    ['source missing', 'bytesDone is not a valid offset', () => variant((j) => delete (j as Partial<ResumeJournal>).source)],
    ['source size negative', 'bytesDone is not a valid offset', () => variant((j) => (j.source.sizeBytes = -1))],
    ['settings missing', 'settings are incomplete', () => variant((j) => delete (j as Partial<ResumeJournal>).settings)],
    ['settings.format e01 (E01 keeps no journal)', 'settings are incomplete', () => variant((j) => ((j.settings as { format: string }).format = 'e01'))],
    ['settings.format unknown', 'settings are incomplete', () => variant((j) => ((j.settings as { format: string }).format = 'aff4'))],
    ['settings.splitSize negative', 'settings are incomplete', () => variant((j) => (j.settings.splitSize = -1))],
    ['settings.windowSize a string', 'settings are incomplete', () => variant((j) => ((j.settings as { windowSize: unknown }).windowSize = '0'))],
    ['settings.chunkSize missing', 'settings are incomplete', () => variant((j) => delete (j.settings as Partial<ResumeJournal['settings']>).chunkSize)],
    ['settings.sectorSize fractional', 'settings are incomplete', () => variant((j) => (j.settings.sectorSize = 512.5))],
    ['settings.retries null', 'settings are incomplete', () => variant((j) => ((j.settings as { retries: unknown }).retries = null))],
    ['algorithms not a list', 'unknown hash algorithms', () => variant((j) => ((j.settings as { algorithms: unknown }).algorithms = 'md5'))],
    ['an unknown algorithm', 'unknown hash algorithms', () => variant((j) => ((j.settings as { algorithms: unknown }).algorithms = ['md5', 'crc32']))],
    ['an algorithm that is not a string', 'unknown hash algorithms', () => variant((j) => ((j.settings as { algorithms: unknown }).algorithms = [5]))],
    ['an algorithm named like an Object property', 'unknown hash algorithms', () => variant((j) => ((j.settings as { algorithms: unknown }).algorithms = ['constructor']))],
    ['readErrors missing', 'read errors are not valid ranges', () => variant((j) => delete (j as Partial<ResumeJournal>).readErrors)],
    ['a read error with a negative offset', 'read errors are not valid ranges', () => variant((j) => (j.readErrors = [{ offset: -512, length: 512 }]))],
    ['a read error beyond bytesDone', 'read errors are not valid ranges', () => variant((j) => (j.readErrors = [{ offset: j.bytesDone - 256, length: 512 }]))],
    ['a read error that is null', 'read errors are not valid ranges', () => variant((j) => ((j as { readErrors: unknown }).readErrors = [null]))],
    ['a read error with a string length', 'read errors are not valid ranges', () => variant((j) => ((j as { readErrors: unknown }).readErrors = [{ offset: 0, length: '512' }]))],
    ['sessions missing', 'history is missing', () => variant((j) => delete (j as Partial<ResumeJournal>).sessions)],
    ['rateSamples not a list', 'history is missing', () => variant((j) => ((j as { rateSamples: unknown }).rateSamples = {}))],
    ['durationSeconds a string', 'history is missing', () => variant((j) => ((j as { durationSeconds: unknown }).durationSeconds = '0.5'))],
    ['writeBlock missing', 'history is missing', () => variant((j) => delete (j as Partial<ResumeJournal>).writeBlock)],
  ])('%s: RESUME_MISMATCH "PATH: cannot resume from this journal: %s"', (_what, why, content) => {
    const p = write(content());
    let err: (Error & { code?: string; path?: string; hint?: string }) | undefined;
    try {
      loadJournal(p);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err).toMatchObject({ code: 'RESUME_MISMATCH', path: p, hint: 'Delete BASE.resume.json and the .partial files, then acquire again from the start.' });
    expect(err!.message.startsWith(`${p}: cannot resume from this journal: ${why}`)).toBe(true);
  });

  // The parts of the history that go into the manifest unchanged: a journal that passes here with
  // them malformed makes a resume read the whole rest of the source and only then fail (a manifest
  // that does not match its schema, or a RangeError from an invalid date), again on every retry.
  test.each<[string, (j: Record<string, unknown> & ResumeJournal) => void]>([
    ['a session that is not a session', (j) => ((j as { sessions: unknown }).sessions = [{ start: 5 }])],
    ['a session whose start is not a time', (j) => (j.sessions[0]!.start = 'yesterday')],
    ['a session with a negative offset', (j) => (j.sessions[0]!.fromOffset = -1)],
    ['a rate sample that is null', (j) => ((j as { rateSamples: unknown }).rateSamples = [null])],
    ['a negative duration', (j) => (j.durationSeconds = -5)],
    ['a write-block record that is a number', (j) => ((j as { writeBlock: unknown }).writeBlock = 1)],
  ])('%s: RESUME_MISMATCH at once, not a failure after the whole source is read', (_what, change) => {
    const p = write(variant(change));
    expect(() => loadJournal(p)).toThrow(expect.objectContaining({ code: 'RESUME_MISMATCH', path: p }));
  });

  test('through acquire --resume: a journal with a malformed session is refused before reading, and the partial image is left as it was', async () => {
    const dir = join(tmp.dir, 'bad-session');
    spawnSync('cp', ['-a', real.options.outDir, dir]);
    const j = JSON.parse(real.text) as ResumeJournal;
    j.sessions[0]!.start = 'yesterday';
    writeFileSync(join(dir, 'ev.resume.json'), JSON.stringify(j));
    const before = digestOf('sha256sum', join(dir, 'ev.raw.partial'));
    const events: string[] = [];
    const err = await acquire({ ...real.options, outDir: dir, resume: true, onEvent: (m) => events.push(m) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RESUME_MISMATCH' });
    expect(events.filter((e) => e.startsWith('resume:'))).toEqual([]);
    expect(digestOf('sha256sum', join(dir, 'ev.raw.partial'))).toBe(before);
    expect(existsSync(join(dir, 'ev.manifest.json'))).toBe(false);
  });

  test('a FIFO is refused at once (never blocks); a file over 64 MiB is refused without being read; a missing journal is named', () => {
    const fifo = join(tmp.dir, 'fifo.resume.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => loadJournal(fifo)).toThrow(expect.objectContaining({ code: 'NOT_A_FILE', message: `${fifo}: is a pipe (FIFO); a resume journal is read only from a regular file` }));
    const big = join(tmp.dir, 'big.resume.json');
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024 + 1);
    expect(() => loadJournal(big)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: `${big}: larger than 67108864 bytes, too large for a resume journal` }));
    expect(() => loadJournal(join(tmp.dir, 'none.resume.json'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });
});

describe('rangesBelow', () => {
  const errors = [
    { offset: 0, length: 512 },
    { offset: 4096, length: 1024 },
    { offset: 10_000, length: 512 },
  ];

  test.each([
    [0, []],
    [1, [{ offset: 0, length: 1 }]],
    [512, [{ offset: 0, length: 512 }]],
    [4096, [{ offset: 0, length: 512 }]],
    [4608, [{ offset: 0, length: 512 }, { offset: 4096, length: 512 }]],
    [5120, [{ offset: 0, length: 512 }, { offset: 4096, length: 1024 }]],
    [1e9, errors],
  ])('below %i', (limit, expected) => {
    expect(rangesBelow(errors, limit)).toEqual(expected);
  });

  test('the ranges given are not changed, and the result shares no objects with them', () => {
    const input = errors.map((e) => ({ ...e }));
    const out = rangesBelow(input, 4608);
    expect(input).toEqual(errors);
    out[0]!.length = 1;
    expect(input[0]!.length).toBe(512);
  });
});

describe('sourceIdentity', () => {
  test('a file has none; a device gives serial and model where it has them, never an empty one', () => {
    const f = join(tmp.dir, 'ident.img');
    writeFileSync(f, 'x');
    const file = describeSource(f);
    expect(sourceIdentity(file)).toEqual({});
    const device = (serial?: string, model?: string) => ({ ...file, kind: 'block-device', device: { serial, model } }) as unknown as SourceInfo;
    expect(sourceIdentity(device('WD-WX11A12345', 'WDC WD5000BMVV-11GNWS0'))).toEqual({ serial: 'WD-WX11A12345', model: 'WDC WD5000BMVV-11GNWS0' });
    expect(sourceIdentity(device(undefined, 'QEMU HARDDISK'))).toEqual({ model: 'QEMU HARDDISK' });
    expect(sourceIdentity(device('', ''))).toEqual({});
  });
});

describe('Checkpoints', () => {
  const sample = (outcome: string): ResumeJournal => ({ ...real.journal, sessions: [{ ...real.journal.sessions[0]!, outcome: outcome as 'interrupted' }] });

  test('save writes the snapshot with the outcome given; maybeSave writes only once the interval has passed, as interrupted', async () => {
    const dir = join(tmp.dir, 'cp-interval');
    mkdirSync(dir);
    const p = join(dir, 'ev.resume.json');
    const asked: string[] = [];
    const c = new Checkpoints(p, 200, (outcome) => {
      asked.push(outcome);
      return sample(outcome);
    });
    c.maybeSave();
    expect(existsSync(p)).toBe(false);
    c.save('failed');
    expect(loadJournal(p).sessions[0]!.outcome).toBe('failed');
    c.maybeSave();
    expect(asked).toEqual(['failed']);
    await new Promise((r) => setTimeout(r, 250));
    c.maybeSave();
    expect(asked).toEqual(['failed', 'interrupted']);
    expect(loadJournal(p).sessions[0]!.outcome).toBe('interrupted');
    // The interval starts again from that save.
    c.maybeSave();
    expect(asked).toEqual(['failed', 'interrupted']);
  });

  test('save throws when the journal cannot be written (its folder removed); saveQuietly swallows it', () => {
    const dir = join(tmp.dir, 'cp-gone');
    mkdirSync(dir);
    const p = join(dir, 'ev.resume.json');
    const c = new Checkpoints(p, 0, sample);
    c.save('interrupted');
    rmSync(dir, { recursive: true });
    expect(() => c.save('failed')).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND', message: `${p}: the folder ${dir} does not exist` }));
    expect(() => c.saveQuietly('failed')).not.toThrow();
    expect(existsSync(dir)).toBe(false);
  });

  test('no path (a format that cannot resume): nothing is asked of the snapshot and nothing is written', () => {
    const dir = join(tmp.dir, 'cp-none');
    mkdirSync(dir);
    let asked = 0;
    const c = new Checkpoints(undefined, 0, (o) => {
      asked++;
      return sample(o);
    });
    c.save('interrupted');
    c.maybeSave();
    c.saveQuietly('failed');
    expect(asked).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an E01 acquisition keeps no journal: interrupted, it leaves only .partial segments', async () => {
    const controller = new AbortController();
    const outDir = join(tmp.dir, 'e01-int');
    await expect(
      acquire({
        ...real.options,
        outDir,
        format: 'e01',
        chunkSize: 65536,
        checkpointInterval: 0,
        signal: controller.signal,
        onProgress: (_ph, _t, p) => p.bytesDone >= 1 << 20 && controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(readdirSync(outDir)).toEqual(['ev.E01.partial']);
  });
});
