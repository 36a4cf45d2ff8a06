import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquisitionReport, custodyReport } from '../../reports';
import { acquireRecorded } from '../../src/services/acquire';
import { sha256Hex } from '../../src/custody/canonical';
import { createIdentity, loadSigner, type Signer } from '../../src/custody/identity';
import { appendEntry, initCase, verifyLedger } from '../../src/custody';
import { fixedEnvironment, hasTool, makeTempDir, runCli, SAMPLE_IMAGE, tool } from '../helpers';

const tools = ['pdftotext', 'qpdf', 'pdffonts', 'pdfinfo'].every(hasTool);
const d = tools ? describe : describe.skip;
if (!tools) test.skip('report tests skipped: poppler-utils and qpdf are not installed (apt-get install poppler-utils qpdf)', () => undefined);

const PASS = 'correct horse battery';
let tmp: ReturnType<typeof makeTempDir>;
let manifest: string;
let caseDir: string;
let signer: Signer;
// Reports state their generation time (SOURCE_DATE_EPOCH, else the clock): fixed here so that runs compare byte for byte.
const EPOCH = '1773480000'; // 2026-03-14T09:20:00Z
const NOW = new Date(Number(EPOCH) * 1000);
const env = { CUSTOS_HOME: '', CUSTOS_PASSPHRASE: PASS, SOURCE_DATE_EPOCH: EPOCH };

/** pdftotext of the whole document, or of one page. */
function text(pdf: string, page?: number): string {
  return tool('pdftotext', [...(page ? ['-f', String(page), '-l', String(page)] : []), '-layout', pdf, '-']);
}
const pages = (pdf: string) => Number(/Pages:\s+(\d+)/.exec(tool('pdfinfo', [pdf]))![1]);
const attachment = (pdf: string, name: string) => spawnSync('qpdf', [`--show-attachment=${name}`, pdf]).stdout as Buffer;

beforeAll(async () => {
  tmp = makeTempDir();
  env.CUSTOS_HOME = join(tmp.dir, 'home');
  createIdentity({ name: 'Alex Morgan', role: 'forensic examiner', passphrase: PASS, home: env.CUSTOS_HOME, now: new Date('2026-01-01T00:00:00Z') });
  signer = loadSigner(env.CUSTOS_HOME, undefined, PASS, new Date('2026-03-14T09:00:00Z'));
  caseDir = join(tmp.dir, 'case');
  const clock = fixedEnvironment('2026-03-14T09:00:00Z');
  await initCase(caseDir, { caseId: '2026-0314-HARBOUR', description: 'USB stick', purpose: 'warrant 26-WR-0419' }, signer, clock);
  const r = await acquireRecorded({
    source: SAMPLE_IMAGE,
    outDir: caseDir,
    format: 'raw',
    algorithms: ['md5', 'sha1', 'sha256', 'sha512'],
    retries: 2,
    verify: true,
    env: fixedEnvironment('2026-03-14T09:10:00Z'),
    case: { caseNumber: '2026-0314-HARBOUR', evidenceNumber: 'EV-0001', examiner: 'Alex Morgan', description: 'USB stick, black', notes: 'Bag A1234567' },
  }, { caseDir, signer, env: fixedEnvironment('2026-03-14T09:10:00Z') });
  manifest = r.manifestPath;
  for (let i = 0; i < 3; i++) await appendEntry(caseDir, { action: 'note', evidence: ['EV-0001'], details: { text: `note ${i}` } }, signer, fixedEnvironment(`2026-03-14T10:0${i}:00Z`));
});
afterAll(() => tmp?.cleanup());

d('acquisition report', () => {
  let pdf: string;
  beforeAll(() => {
    pdf = join(tmp.dir, 'acq.pdf');
    const r = runCli(['report', 'acquisition', manifest, '--out', pdf], { env });
    expect(r.status).toBe(0);
  });

  test('the text layer carries every required field and every hash exactly', () => {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    const t = text(pdf);
    for (const s of ['custos 0.1.0', '2026-0314-HARBOUR', 'EV-0001', 'Alex Morgan', 'USB stick, black', 'Bag A1234567', '8,388,608 bytes', '16,384 sectors', 'read-only open', 'No read errors: every sector of the source was read.', 'Image re-hash: MATCH']) {
      expect(t).toContain(s);
    }
    for (const alg of ['md5', 'sha1', 'sha256']) expect(t).toContain(m.hashes[alg]);
    // SHA-512 is wrapped at whole characters: its two halves stand on consecutive lines.
    const flat = t.replace(/\s+/g, ' ');
    expect(flat).toContain(`${m.hashes.sha512.slice(0, 64)} ${m.hashes.sha512.slice(64)}`);
    expect(t).not.toMatch(/[0-9a-f]-\n/);
  });

  test('every page has the header and "Page X of Y"; page 1 has the summary', () => {
    const n = pages(pdf);
    expect(n).toBeGreaterThanOrEqual(2);
    for (let p = 1; p <= n; p++) {
      const t = text(pdf, p);
      expect(t).toContain(`Page ${p} of ${n}`);
      expect(t).toContain('Case 2026-0314-HARBOUR');
      expect(t).toContain('Evidence EV-0001');
      expect(t).toContain('PDF generated 2026-03-14T09:20:00Z by custos 0.1.0');
    }
    expect(text(pdf, 1)).toMatch(/Summary[\s\S]*Read errors\s+none[\s\S]*Verification\s+image re-hash: MATCH/);
  });

  test('qpdf finds no errors; the manifest is attached byte for byte; fonts are embedded; PDF/A-3b is declared', () => {
    expect(spawnSync('qpdf', ['--check', pdf]).status).toBe(0);
    expect(tool('qpdf', ['--list-attachments', pdf])).toContain('EV-0001.manifest.json');
    expect(attachment(pdf, 'EV-0001.manifest.json').equals(readFileSync(manifest))).toBe(true);
    const fonts = tool('pdffonts', [pdf]).split('\n').slice(2).filter(Boolean);
    expect(fonts.length).toBeGreaterThan(0);
    for (const f of fonts) expect(f).toMatch(/DejaVu\S*\s+CID TrueType\s+Identity-H\s+yes yes/);
    const raw = readFileSync(pdf, 'latin1');
    expect(raw).toContain('<pdfaid:part>3</pdfaid:part>');
    expect(raw).toContain('<pdfaid:conformance>B</pdfaid:conformance>');
    // PDF/A needs an output intent (sRGB) and, for PDF/A-3, associated files with a relationship.
    expect(raw).toContain('/OutputIntent');
    expect(raw).toContain('/AFRelationship /Source');
  });

  test('deterministic: the same manifest gives byte-identical PDFs', async () => {
    const again = join(tmp.dir, 'acq2.pdf');
    expect(runCli(['report', 'acquisition', manifest, '--out', again], { env }).status).toBe(0);
    expect(sha256Hex(readFileSync(again))).toBe(sha256Hex(readFileSync(pdf)));
    expect((await acquisitionReport(manifest, { now: NOW })).equals(readFileSync(pdf))).toBe(true);
  });

  test('read errors: a table of sector ranges, a YES in the summary and a red banner', async () => {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    m.readErrors = [
      { offset: 1048576, length: 512, firstSector: 2048, sectorCount: 1 },
      { offset: 4193792, length: 1024, firstSector: 8191, sectorCount: 2 },
    ];
    const bad = join(tmp.dir, 'bad.manifest.json');
    writeFileSync(bad, JSON.stringify(m));
    const out = join(tmp.dir, 'bad.pdf');
    writeFileSync(out, await acquisitionReport(bad));
    const t = text(out);
    expect(text(out, 1)).toContain('YES: 3 sector(s) in 2 range(s), zero-filled');
    expect(text(out, 1)).toContain('3 UNREADABLE SECTOR(S), ZERO-FILLED');
    expect(t).toMatch(/2048\s+1\s+1048576\s+512/);
    expect(t).toMatch(/8191\s+2\s+4193792\s+1024/);
  });

  test('bad input: an invalid manifest, a missing file, an unwritable or existing output — clear errors, no PDF left', () => {
    const broken = join(tmp.dir, 'broken.manifest.json');
    writeFileSync(broken, '{"manifestVersion": 1}');
    const out = join(tmp.dir, 'never.pdf');
    let r = runCli(['report', 'acquisition', broken, '--out', out], { env });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('does not match the acquisition-manifest schema');
    expect(existsSync(out)).toBe(false);
    r = runCli(['report', 'acquisition', join(tmp.dir, 'nope.json'), '--out', out], { env });
    expect(r.status).toBe(3);
    r = runCli(['report', 'acquisition', manifest, '--out', join(tmp.dir, 'no-dir', 'x.pdf')], { env });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('no-dir');
    r = runCli(['report', 'acquisition', manifest, '--out', pdf], { env });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('--force');
  });
});

d('verification report', () => {
  test('expected and computed values, the verdict; a flipped byte gives MISMATCH in red and exit 4', () => {
    const out = join(tmp.dir, 'ver.pdf');
    const envv = { ...env, SOURCE_DATE_EPOCH: '1773480000' };
    const r = runCli(['report', 'verification', manifest, '--out', out, '--examiner', 'Sam Lee'], { env: envv });
    expect(r.status).toBe(0);
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    const t = text(out);
    expect(t).toContain(`expected ${m.hashes.md5}`);
    expect(t).toContain(`computed ${m.hashes.md5}`);
    expect(t).toContain('VERDICT: MATCH');
    expect(t).toContain('Sam Lee');
    expect(t).toContain('2026-03-14T09:20:00');
    expect(spawnSync('qpdf', ['--check', out]).status).toBe(0);
    expect(tool('qpdf', ['--list-attachments', out])).toMatch(/verification\.json[\s\S]*EV-0001\.manifest\.json|EV-0001\.manifest\.json[\s\S]*verification\.json/);
    const again = join(tmp.dir, 'ver2.pdf');
    runCli(['report', 'verification', manifest, '--out', again, '--examiner', 'Sam Lee'], { env: envv });
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);

    const dir = join(tmp.dir, 'tampered');
    mkdirSync(dir);
    copyFileSync(manifest, join(dir, 'EV-0001.manifest.json'));
    const img = readFileSync(join(caseDir, 'EV-0001.raw'));
    img[4096] ^= 0xff;
    writeFileSync(join(dir, 'EV-0001.raw'), img);
    const badOut = join(tmp.dir, 'ver-bad.pdf');
    const bad = runCli(['report', 'verification', join(dir, 'EV-0001.manifest.json'), '--out', badOut], { env: envv });
    expect(bad.status).toBe(4);
    expect(text(badOut, 1)).toContain('VERDICT: MISMATCH');
  });
});

d('custody report', () => {
  test('timeline, verdict, signed head; ledger and certificates attached; deterministic; report-export recorded', async () => {
    const out = join(tmp.dir, 'custody.pdf');
    const before = await verifyLedger(caseDir);
    const r = runCli(['report', 'custody', '--case-dir', caseDir, '--out', out], { env });
    expect(r.status).toBe(0);
    const t = text(out);
    expect(text(out, 1)).toContain('INTACT: every entry, signature and link verifies');
    expect(t).toContain(before.head!.hash);
    for (const a of ['case-open', 'acquire-start', 'acquire-complete', 'note']) expect(t).toContain(a);
    expect(t).toContain('Alex Morgan');
    // The purpose wraps in its narrow column; both halves are there.
    expect(t).toContain('purpose: warrant 26-');
    expect(t).toContain('WR-0419');
    const names = tool('qpdf', ['--list-attachments', out]);
    expect(names).toContain('custody.jsonl');
    expect(names).toContain(`certs/${signer.identity.fingerprint}.pem`);
    expect(names).toContain('ledger-head.json');
    const ledgerNow = readFileSync(join(caseDir, 'custody.jsonl'), 'utf8');
    // The attachment is the ledger as reported; the report-export entry was appended after it.
    const attached = attachment(out, 'custody.jsonl').toString('utf8');
    expect(ledgerNow.startsWith(attached)).toBe(true);
    const last = JSON.parse(ledgerNow.trim().split('\n').pop()!);
    expect(last).toMatchObject({ action: 'report-export', details: { kind: 'custody', sha256: sha256Hex(readFileSync(out)) } });
    // Same ledger, same signer: the same bytes.
    expect((await custodyReport(caseDir, { signer, now: NOW })).equals(await custodyReport(caseDir, { signer, now: NOW }))).toBe(true);
  });

  test('a tampered ledger still renders, with the failure in red on page 1', async () => {
    const copy = join(tmp.dir, 'case-tampered');
    spawnSync('cp', ['-r', caseDir, copy]);
    const file = join(copy, 'custody.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('note 1', 'note X'));
    const out = join(tmp.dir, 'custody-bad.pdf');
    writeFileSync(out, await custodyReport(copy));
    const p1 = text(out, 1);
    expect(p1).toContain('LEDGER VERIFICATION FAILED');
    expect(p1).toMatch(/First bad entry: line \d+ \(seq \d+\): signature does not verify/);
    expect(p1).toContain('INVALID');
    expect(text(out)).toContain('FAILED');
  });
});
