/**
 * The report services (src/services/report.ts), called as the commands call them: the PDF written
 * (its size and SHA-256 as recorded equal to the file's), byte-identical for the same records
 * with SOURCE_DATE_EPOCH, a report-export entry where a case is given, and the outcome. A ledger
 * that fails verification is reported (outcome mismatch) but never extended.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { acquire } from '../../../src/acquire/acquire';
import { appendEntry } from '../../../src/custody';
import { reportAcquisition, reportCustody, reportVerification } from '../../../src/services/report';
import { digestOf, fixedEnvironment, hasTool, pseudoRandomBytes, sameBytes, tool } from '../../helpers';
import { ledger, serviceWorld } from './support';

const w = serviceWorld();
const PDF_TOOLS = ['pdftotext', 'pdfinfo'].every(hasTool);
if (!PDF_TOOLS) test.skip('report service tests skipped: poppler-utils is not installed (apt-get install poppler-utils)', () => undefined);
const d = PDF_TOOLS ? describe : describe.skip;

// 2026-03-14T09:20:00Z: the generation time every report states, so that runs compare byte for byte.
const env = { SOURCE_DATE_EPOCH: '1773480000' };
let src: string;
let manifest: string;
let image: string;
let n = 0;
const pdf = (name: string) => join(w.dir, `${name}-${n++}.pdf`);
const text = (file: string) => tool('pdftotext', ['-layout', file, '-']);

beforeAll(async () => {
  src = join(w.dir, 'src.img');
  writeFileSync(src, pseudoRandomBytes(1 << 20, 21));
  const a = await acquire({
    source: src,
    outDir: join(w.dir, 'acq'),
    format: 'raw',
    algorithms: ['md5', 'sha256'],
    retries: 0,
    env: fixedEnvironment(),
    case: { caseNumber: '2026-0314-HARBOUR', evidenceNumber: 'EV-0001', examiner: 'Alex Morgan' },
  });
  manifest = a.manifestPath;
  image = a.outputs[0]!.path;
});

d('reportAcquisition', () => {
  test('the written report is the file: size and SHA-256 as sha256sum computes; the same manifest and epoch give the same bytes; recorded as report-export', async () => {
    const c = await w.newCase();
    const out = pdf('acquisition');
    const r = await reportAcquisition(manifest, { out, env }, c);
    expect(r).toEqual({ kind: 'acquisition', path: out, size: statSync(out).size, sha256: digestOf('sha256sum', out) });
    expect(tool('pdfinfo', [out])).toMatch(/CreationDate:\s+Sat Mar 14 09:20:00 2026 UTC/);
    expect(text(out)).toContain('EV-0001');
    const again = pdf('acquisition');
    expect(await reportAcquisition(manifest, { out: again, env })).toMatchObject({ sha256: r.sha256, size: r.size });
    expect(sameBytes(out, again)).toBe(true);
    const e = ledger(c.caseDir).at(-1)!;
    expect(e).toMatchObject({ seq: 1, action: 'report-export', details: { kind: 'acquisition', path: out, size: r.size, sha256: r.sha256, source: manifest } });
    expect(ledger(c.caseDir)).toHaveLength(2);
  });

  test('an existing file: OUTPUT_EXISTS unless forced, nothing recorded; a bad SOURCE_DATE_EPOCH: USAGE before anything is written', async () => {
    const c = await w.newCase();
    const out = pdf('exists');
    writeFileSync(out, 'keep');
    await expect(reportAcquisition(manifest, { out, env }, c)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(readFileSync(out, 'utf8')).toBe('keep');
    expect(ledger(c.caseDir)).toHaveLength(1);
    const fresh = pdf('bad-epoch');
    await expect(reportAcquisition(manifest, { out: fresh, env: { SOURCE_DATE_EPOCH: 'yesterday' } }, c)).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('SOURCE_DATE_EPOCH="yesterday"') });
    expect(existsSync(fresh)).toBe(false);
    const forced = await reportAcquisition(manifest, { out, env, force: true }, c);
    expect(forced.sha256).toBe(digestOf('sha256sum', out));
    expect(ledger(c.caseDir).map((e) => e.action)).toEqual(['case-open', 'report-export']);
  });
});

d('reportVerification', () => {
  test('a match: verified and reported, the examiner the signer; entries verify then report-export; outcome ok', async () => {
    const c = await w.newCase();
    const out = pdf('verification');
    const r = await reportVerification(manifest, { out, env }, c);
    expect(r).toEqual({ kind: 'verification', path: out, size: statSync(out).size, sha256: digestOf('sha256sum', out), verdict: 'match', outcome: 'ok' });
    expect(text(out)).toContain('Alex Morgan');
    expect(ledger(c.caseDir).map((e) => e.action)).toEqual(['case-open', 'verify', 'report-export']);
    expect(ledger(c.caseDir).at(-1)!.details).toEqual({ kind: 'verification', path: out, size: r.size, sha256: r.sha256, source: manifest, verdict: 'match' });
    // Reproducible: no measured duration in the PDF when SOURCE_DATE_EPOCH is set.
    const again = pdf('verification');
    await reportVerification(manifest, { out: again, env, examiner: 'Alex Morgan' });
    expect(sameBytes(out, again)).toBe(true);
  });

  test('a changed image: the report is written all the same, verdict and outcome mismatch', async () => {
    const copy = join(w.dir, 'changed');
    spawnSync('cp', ['-r', join(w.dir, 'acq'), copy]);
    const img = join(copy, image.slice(image.lastIndexOf('/') + 1));
    const fd = openSync(img, 'r+');
    writeSync(fd, Buffer.from([0xff ^ readFileSync(img)[1000]!]), 0, 1, 1000);
    closeSync(fd);
    const c = await w.newCase();
    const out = pdf('mismatch');
    const r = await reportVerification(join(copy, manifest.slice(manifest.lastIndexOf('/') + 1)), { out, env, examiner: 'Sam Lee' }, c);
    expect(r).toMatchObject({ verdict: 'mismatch', outcome: 'mismatch', sha256: digestOf('sha256sum', out) });
    expect(text(out)).toMatch(/MISMATCH/);
    expect(text(out)).toContain('Sam Lee');
    expect(ledger(c.caseDir).map((e) => [e.action, e.details.verdict])).toEqual([
      ['case-open', undefined],
      ['verify', 'mismatch'],
      ['report-export', 'mismatch'],
    ]);
  });
});

d('reportCustody', () => {
  test('a ledger that verifies: reported, verdict intact, outcome ok, and the export recorded after the report was made', async () => {
    const c = await w.newCase();
    await appendEntry(c.caseDir, { action: 'note', evidence: ['EV-0001'], details: { text: 'Sealed in bag A1234567' } }, w.signer, fixedEnvironment('2026-03-14T09:05:00Z'));
    const out = pdf('custody');
    const before = readFileSync(join(c.caseDir, 'custody.jsonl'));
    const r = await reportCustody(c, { out, env });
    expect(r).toEqual({ kind: 'custody', path: out, size: statSync(out).size, sha256: digestOf('sha256sum', out), verdict: 'intact', outcome: 'ok' });
    expect(text(out)).toContain('Sealed in bag A1234567');
    expect(text(out)).toContain('INTACT: every entry, signature and link verifies');
    const entries = ledger(c.caseDir);
    expect(entries.map((e) => e.action)).toEqual(['case-open', 'note', 'report-export']);
    expect(entries.at(-1)!.details).toEqual({ kind: 'custody', path: out, size: r.size, sha256: r.sha256 });
    // The report covers the ledger as it was: the export entry came after it.
    expect(readFileSync(join(c.caseDir, 'custody.jsonl')).subarray(0, before.length).equals(before)).toBe(true);
  });

  test('a ledger that fails verification: reported all the same, verdict invalid, outcome mismatch, the problem said; nothing appended; the same bytes twice', async () => {
    const c = await w.newCase();
    await appendEntry(c.caseDir, { action: 'note', details: { text: 'Moved to locker 4' } }, w.signer, fixedEnvironment('2026-03-14T09:05:00Z'));
    const file = join(c.caseDir, 'custody.jsonl');
    // Someone edits the note afterwards: its signature no longer covers it.
    writeFileSync(file, readFileSync(file, 'utf8').replace('Moved to locker 4', 'Moved to locker 5'));
    const tampered = readFileSync(file);
    const out = pdf('custody-invalid');
    const r = await reportCustody(c, { out, env });
    expect(r).toMatchObject({ kind: 'custody', path: out, verdict: 'invalid', outcome: 'mismatch', sha256: digestOf('sha256sum', out), size: statSync(out).size });
    expect(r.problem).toMatch(/signature/i);
    expect(readFileSync(file).equals(tampered)).toBe(true);
    expect(text(out)).toContain('INVALID: the ledger fails verification');
    const again = pdf('custody-invalid');
    await reportCustody(c, { out: again, env });
    expect(sameBytes(out, again)).toBe(true);
    expect(readFileSync(file).equals(tampered)).toBe(true);
  });
});
