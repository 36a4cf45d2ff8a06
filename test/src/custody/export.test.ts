/** The export for openssl: verify.sh checks a ledger with openssl and sha256sum alone, and agrees with custos. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { exportForOpenssl } from '../../../src/custody/export';
import { verifyLedger } from '../../../src/custody/verify';
import { type CustodyFixture, custodyFixture, lines, writeLines } from './support';

let fx: CustodyFixture;
let template: string;
let copy: () => string;
let tmp: CustodyFixture['tmp'];
let n = 0;

beforeAll(async () => {
  fx = await custodyFixture();
  ({ template, copy, tmp } = fx);
});
afterAll(() => fx.tmp.cleanup());

describe('export for openssl: verify.sh checks the ledger without custos', () => {
  test('passes on a good ledger, with the same head', async () => {
    const out = join(tmp.dir, 'export-good');
    expect(exportForOpenssl(template, out).entries).toBe(6);
    const r = spawnSync('sh', [join(out, 'verify.sh'), (await verifyLedger(template)).head!.hash], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('OK: 6 entries');
    expect(r.stdout).toContain(`head: seq 5 sha256 ${(await verifyLedger(template)).head!.hash}`);
  });

  test.each([
    ['a changed entry', (ls: string[]) => ((ls[3] = ls[3]!.replace('Sealed', 'Sealad')), ls), 'entry 000003: signature does not verify'],
    ['a deleted entry', (ls: string[]) => (ls.splice(2, 1), ls), 'entry 000003: prev'],
    ['swapped entries', (ls: string[]) => ([ls[3], ls[4]] = [ls[4]!, ls[3]!], ls), 'entry 000004: prev'],
  ])('fails on %s', async (_label, tamper, message) => {
    const d = copy();
    writeLines(d, tamper(lines(d)));
    const out = join(tmp.dir, `export-${n++}`);
    exportForOpenssl(d, out);
    const r = spawnSync('sh', [join(out, 'verify.sh')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`FAIL: ${message}`);
  });

  test('fails when the head is not the one expected (truncation)', async () => {
    const d = copy();
    const head = (await verifyLedger(d)).head!.hash;
    writeLines(d, lines(d).slice(0, 5));
    const out = join(tmp.dir, `export-${n++}`);
    exportForOpenssl(d, out);
    const r = spawnSync('sh', [join(out, 'verify.sh'), head], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('expected');
  });
});
