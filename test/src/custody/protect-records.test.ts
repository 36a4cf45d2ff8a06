/** protectCaseRecords: the ledger, its certificates and the evidence its entries name become never-write targets. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Signer } from '../../../src/custody/identity';
import { protectCaseRecords } from '../../../src/custody/protect-records';
import { appendEntry } from '../../../src/custody/storage';
import { assertWritable, forgetProtectedEvidence } from '../../../src/protect';
import { fixedEnvironment } from '../../helpers';
import { type CustodyFixture, custodyFixture, ledgerFile } from './support';

let fx: CustodyFixture;
let copy: () => string;
let alex: Signer;

beforeAll(async () => {
  fx = await custodyFixture();
  ({ copy } = fx);
  alex = fx.signers['Alex Morgan']!;
});
afterAll(() => fx.tmp.cleanup());

describe('protectCaseRecords', () => {
  afterEach(() => forgetProtectedEvidence());

  test('the ledger, its certificates and the files its entries name can no longer be written over; other files can', async () => {
    const d = copy();
    const source = join(fx.tmp.dir, 'seized.img');
    const manifest = join(fx.tmp.dir, 'EV-0001.manifest.json');
    const image = join(fx.tmp.dir, 'EV-0001.raw');
    for (const f of [source, manifest, image]) writeFileSync(f, 'x');
    await appendEntry(d, { action: 'acquire-complete', details: { source, manifest: { path: manifest }, outputs: [{ path: image }] } }, alex, fixedEnvironment('2026-03-14T11:00:00Z'));
    protectCaseRecords(d);
    for (const f of [ledgerFile(d), join(d, 'certs', `${alex.identity.fingerprint}.pem`), source, manifest, image]) {
      expect(() => assertWritable(f)).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    }
    expect(() => assertWritable(join(fx.tmp.dir, 'report.pdf'))).not.toThrow();
    // custos still appends to its own ledger.
    await expect(appendEntry(d, { action: 'note', details: { text: 'still open' } }, alex, fixedEnvironment('2026-03-14T12:00:00Z'))).resolves.toMatchObject({ seq: 7 });
  });

  test('every file the pinned manifest lists beside it is protected; names that leave its folder, and an unreadable manifest, protect nothing more', async () => {
    const d = copy();
    const dir = join(fx.tmp.dir, 'set');
    mkdirSync(dir);
    const names = Array.from({ length: 30 }, (_, i) => `ev.${String(i + 1).padStart(3, '0')}`);
    for (const n of names) writeFileSync(join(dir, n), 'x');
    const outside = join(fx.tmp.dir, 'outside.txt');
    writeFileSync(outside, 'x');
    const manifest = join(dir, 'ev.manifest.json');
    writeFileSync(manifest, JSON.stringify({ outputs: [...names.map((name) => ({ name })), { name: '../outside.txt' }, { name: outside }, { name: 7 }, null], hashWindows: { file: 'ev.001' } }));
    const broken = join(fx.tmp.dir, 'broken.manifest.json');
    writeFileSync(broken, '{ not json');
    await appendEntry(d, { action: 'acquire-complete', details: { manifest: { path: manifest } } }, alex, fixedEnvironment('2026-03-14T11:00:00Z'));
    await appendEntry(d, { action: 'verify', details: { manifest: { path: broken } } }, alex, fixedEnvironment('2026-03-14T11:30:00Z'));
    protectCaseRecords(d);
    for (const n of names) expect(() => assertWritable(join(dir, n))).toThrow(expect.objectContaining({ code: 'UNSAFE_OUTPUT' }));
    expect(() => assertWritable(outside)).not.toThrow();
  });
});
