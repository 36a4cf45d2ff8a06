/** The ledger on disk: torn last lines and their repair, parallel appenders, a crash while appending, the one line reader, appends. */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../../src/custody/canonical';
import { entryHash, genesisHash, type LedgerEntry, MAX_ENTRY_BYTES } from '../../../src/custody/entry';
import type { Signer } from '../../../src/custody/identity';
import { appendEntry, initCase, readEntries, repairLedger } from '../../../src/custody/storage';
import { verifyLedger } from '../../../src/custody/verify';
import { fixedEnvironment, ROOT } from '../../helpers';
import { CASE_ID, type CustodyFixture, custodyFixture, ledgerFile, lines, PASS, writeLines } from './support';

let fx: CustodyFixture;
let home: string;
let copy: () => string;
let alex: Signer;

beforeAll(async () => {
  fx = await custodyFixture();
  ({ home, copy } = fx);
  alex = fx.signers['Alex Morgan']!;
});
afterAll(() => fx.tmp.cleanup());

describe('torn last line (a crash in the middle of a write)', () => {
  test('the entries before it verify, appends are refused, repair removes it and records the repair', async () => {
    const d = copy();
    const full = JSON.stringify({ ...JSON.parse(lines(d)[5]!), seq: 6 });
    appendFileSync(ledgerFile(d), full.slice(0, 100));
    const r = (await verifyLedger(d));
    expect(r).toMatchObject({ verdict: 'ok', entries: 6, torn: { line: 7, bytes: 100 } });
    await expect(appendEntry(d, { action: 'note', details: { text: 'x' } }, alex, fixedEnvironment('2026-03-14T11:00:00Z'))).rejects.toMatchObject({ code: 'LEDGER_TORN' });
    const repair = await repairLedger(d, alex, fixedEnvironment('2026-03-14T11:00:00Z'));
    expect(repair).toMatchObject({ seq: 6, action: 'repair', details: { removedLine: 7, removedBytes: 100, removedSha256: sha256Hex(full.slice(0, 100)) } });
    expect(readFileSync(String(repair.details.keptIn), 'utf8')).toBe(full.slice(0, 100));
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'ok', entries: 7 });
    await expect(repairLedger(d, alex)).rejects.toMatchObject({ message: expect.stringContaining('nothing to repair') });
  });
});

describe('concurrency and crashes', () => {
  const appender = (dir: string, count: number, label: string) =>
    spawn(process.execPath, [
      '-e',
      `const { loadSigner } = require(${JSON.stringify(join(ROOT, 'dist/src/custody/identity'))});
       const { appendEntry } = require(${JSON.stringify(join(ROOT, 'dist/src/custody'))});
       (async () => {
         const s = loadSigner(${JSON.stringify(home)}, 'Alex Morgan', ${JSON.stringify(PASS)}, new Date('2026-03-14T10:00:00Z'));
         for (let i = 0; i < ${count}; i++) await appendEntry(${JSON.stringify(dir)}, { action: 'note', details: { text: '${label} ' + i } }, s);
       })().catch((e) => { console.error(e); process.exit(1); });`,
    ]);
  const exit = (p: ReturnType<typeof spawn>) => new Promise<number | null>((r) => p.on('exit', (code) => r(code)));

  test('8 processes appending 100 entries each: 800 entries, an intact chain', async () => {
    const d = copy();
    const procs = Array.from({ length: 8 }, (_, i) => appender(d, 100, `p${i}`));
    expect(await Promise.all(procs.map(exit))).toEqual(Array(8).fill(0));
    const r = (await verifyLedger(d));
    expect(r).toMatchObject({ verdict: 'ok', entries: 806 });
    const texts = readEntries(d).entries.map((e) => String(e.details.text ?? ''));
    for (let p = 0; p < 8; p++) expect(texts.filter((t) => t.startsWith(`p${p} `))).toHaveLength(100);
  }, 180_000);

  test('kill -9 while appending: the ledger still verifies (or reports its torn line) and appends resume', async () => {
    const d = copy();
    const p = appender(d, 100_000, 'doomed');
    await new Promise((r) => setTimeout(r, 1500));
    p.kill('SIGKILL');
    await exit(p);
    const r = (await verifyLedger(d));
    expect(r.firstBad).toBeUndefined();
    expect(r.entries).toBeGreaterThan(6);
    if (r.torn) await repairLedger(d, alex);
    // The dead process's lock goes stale; the next append waits for that and proceeds.
    const e = await appendEntry(d, { action: 'note', details: { text: 'after the crash' } }, alex);
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'ok', head: { seq: e.seq } });
  }, 60_000);
});

describe('the one line reader: lines across its 4 MiB blocks, malformed lines, what the ledger file is', () => {
  test('a ledger larger than a block, lines crossing the block boundary: every entry read, verified inline and on the worker, a torn line counted right', async () => {
    const d = copy();
    const env = fixedEnvironment('2026-03-14T11:00:00Z');
    // 12 notes of about 400 kB: the ledger passes 4 MiB, so at least one line straddles two blocks.
    const texts = Array.from({ length: 12 }, (_, i) => `${i}:${String.fromCharCode(97 + i).repeat(400_000 + i * 1_001)}`);
    for (const text of texts) await appendEntry(d, { action: 'note', details: { text } }, alex, env);
    expect(statSync(ledgerFile(d)).size).toBeGreaterThan(4 * 1024 * 1024);
    const read = readEntries(d);
    expect(read.entries).toHaveLength(18);
    expect(read.entries.slice(6).map((e) => e.details.text)).toEqual(texts);
    expect(read.torn).toBeUndefined();
    const inline = await verifyLedger(d, { parallel: false });
    expect(inline).toMatchObject({ verdict: 'ok', entries: 18, head: { seq: 17 } });
    expect(await verifyLedger(d, { parallel: true })).toEqual(inline);

    appendFileSync(ledgerFile(d), '{"v":1,"seq":18,"cut sho');
    expect(readEntries(d)).toMatchObject({ torn: { line: 19, bytes: 24 } });
    expect(readEntries(d).entries).toHaveLength(18);
    const repair = await repairLedger(d, alex, env);
    expect(repair.details).toMatchObject({ removedLine: 19, removedBytes: 24, removedSha256: sha256Hex('{"v":1,"seq":18,"cut sho') });
    expect(await verifyLedger(d)).toMatchObject({ verdict: 'ok', entries: 19 });
  });

  test('readEntries stops at the first malformed line and names it; the lines before it are returned', () => {
    const notJson = copy();
    writeLines(notJson, [...lines(notJson).slice(0, 2), '{"v":1,', ...lines(notJson).slice(2)]);
    expect(readEntries(notJson)).toMatchObject({ entries: { length: 2 }, invalid: { line: 3, reason: expect.stringContaining('not valid JSON') } });

    const notEntry = copy();
    writeLines(notEntry, [...lines(notEntry).slice(0, 4), '{"v":1}']);
    const r = readEntries(notEntry);
    expect(r).toMatchObject({ entries: { length: 4 }, invalid: { line: 5, reason: expect.stringContaining('not a ledger entry') } });
    expect(r.torn).toBeUndefined();

    // Longer than an entry may be, complete or not: cut short by the reader, refused by its length.
    for (const newline of ['\n', '']) {
      const long = copy();
      appendFileSync(ledgerFile(long), `${'x'.repeat(MAX_ENTRY_BYTES + 10)}${newline}`);
      expect(readEntries(long)).toMatchObject({ entries: { length: 6 }, invalid: { line: 7, reason: `longer than ${MAX_ENTRY_BYTES} bytes` } });
    }
  });

  test('a walk leaves no descriptor open, whether it reads to the end or stops at a bad line', () => {
    const bad = copy();
    writeLines(bad, [...lines(bad).slice(0, 2), 'not json', ...lines(bad).slice(2)]);
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      expect(readEntries(fx.template).entries).toHaveLength(6);
      expect(readEntries(bad).invalid).toMatchObject({ line: 3 });
    }
    expect(openFds()).toBe(before);
  });

  test('the ledger must be a regular file: a directory or a FIFO in its place is named, never waited on', async () => {
    const dir = join(fx.tmp.dir, 'dir-ledger');
    mkdirSync(join(dir, 'custody.jsonl'), { recursive: true });
    expect(() => readEntries(dir)).toThrow(expect.objectContaining({ code: 'IS_DIRECTORY' }));
    await expect(verifyLedger(dir)).rejects.toMatchObject({ code: 'IS_DIRECTORY' });
    const fifo = join(fx.tmp.dir, 'fifo-ledger');
    mkdirSync(fifo);
    spawnSync('mkfifo', [join(fifo, 'custody.jsonl')]);
    expect(() => readEntries(fifo)).toThrow(expect.objectContaining({ code: 'NOT_A_FILE', message: expect.stringContaining('a pipe (FIFO)') }));
    await expect(appendEntry(fifo, { action: 'note' }, alex)).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    const none = join(fx.tmp.dir, 'no-case');
    expect(() => readEntries(none)).toThrow(expect.objectContaining({ code: 'LEDGER_NOT_FOUND' }));
    await expect(appendEntry(none, { action: 'note' }, alex)).rejects.toMatchObject({ code: 'LEDGER_NOT_FOUND', message: expect.stringContaining('custody.jsonl does not exist') });
  });
});

describe('appending', () => {
  test('a case is opened once; its first entry is case-open with the genesis prev, its certificate kept beside it', async () => {
    const d = join(fx.tmp.dir, 'new-case');
    const e = await initCase(d, { caseId: 'C-7', evidence: ['EV-1'], purpose: 'request 7' }, alex, fixedEnvironment());
    expect(e).toMatchObject({ seq: 0, case: 'C-7', action: 'case-open', evidence: ['EV-1'], purpose: 'request 7', details: {}, prev: genesisHash('C-7') });
    expect(lines(d)).toEqual([JSON.stringify(e)]);
    expect(readFileSync(join(d, 'certs', `${alex.identity.fingerprint}.pem`), 'utf8')).toBe(alex.certPem);
    await expect(initCase(d, { caseId: 'C-7' }, alex)).rejects.toMatchObject({ code: 'LEDGER_EXISTS' });
    expect(lines(d)).toHaveLength(1);
  });

  test('each entry chains to the one before it under the lock; an empty ledger or a last line that is not an entry is refused', async () => {
    const d = copy();
    const before = JSON.parse(lines(d)[5]!) as LedgerEntry;
    const e = await appendEntry(d, { action: 'note', purpose: 'p', details: { text: 'next' } }, alex, fixedEnvironment('2026-03-14T11:00:00Z'));
    expect(e).toMatchObject({ seq: 6, case: CASE_ID, prev: entryHash(before), purpose: 'p' });
    expect(JSON.parse(lines(d)[6]!)).toEqual(e);

    const empty = copy();
    writeFileSync(ledgerFile(empty), '');
    await expect(appendEntry(empty, { action: 'note' }, alex)).rejects.toMatchObject({ code: 'LEDGER_INVALID', message: expect.stringContaining('is empty') });
    const bad = copy();
    appendFileSync(ledgerFile(bad), '{"not":"an entry"}\n');
    await expect(appendEntry(bad, { action: 'note' }, alex)).rejects.toMatchObject({ code: 'LEDGER_INVALID', message: expect.stringContaining('the last line is not a ledger entry') });
    expect(lines(bad)).toHaveLength(7);
  });
});
