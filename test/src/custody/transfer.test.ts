/** Transfer of custody: open until the named recipient accepts it, and nobody else can. */
import { cpSync } from 'node:fs';
import type { Signer } from '../../../src/custody/identity';
import { appendEntry } from '../../../src/custody/storage';
import { acceptCustody, transferCustody } from '../../../src/custody/transfer';
import { verifyLedger } from '../../../src/custody/verify';
import { fixedEnvironment } from '../../helpers';
import { type CustodyFixture, custodyFixture } from './support';

let fx: CustodyFixture;
let home: string;
let copy: () => string;
let alex: Signer;
let sam: Signer;
let mallory: Signer;

beforeAll(async () => {
  fx = await custodyFixture(["Sam Lee", "Mallory"]);
  ({ home, copy } = fx);
  alex = fx.signers['Alex Morgan']!;
  sam = fx.signers['Sam Lee']!;
  mallory = fx.signers['Mallory']!;
});
afterAll(() => fx.tmp.cleanup());

describe('transfer of custody', () => {
  test('open until the recipient accepts; nobody else can accept it', async () => {
    const d = copy();
    const env = fixedEnvironment('2026-03-14T12:00:00Z');
    const t = await transferCustody(d, { to: 'Sam Lee', reason: 'to the lab for analysis', home }, alex, env);
    expect(t.details.to).toEqual({ name: 'Sam Lee', role: 'lab analyst', cert: sam.identity.fingerprint });
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'open-transfers', openTransfers: [{ seq: 6, from: 'Alex Morgan', to: 'Sam Lee', reason: 'to the lab for analysis' }] });
    await expect(acceptCustody(d, {}, mallory, env)).rejects.toMatchObject({ message: expect.stringContaining('no open transfer to Mallory') });

    // A forged acceptance by someone else is caught by verification.
    const forged = copy();
    cpSync(d, forged, { recursive: true });
    await appendEntry(forged, { action: 'accept', details: { transferSeq: 6 } }, mallory, env);
    expect((await verifyLedger(forged)).firstBad).toMatchObject({ line: 8, seq: 7, reason: expect.stringContaining('was to Sam Lee, but Mallory accepted it') });

    const a = await acceptCustody(d, { note: 'seal intact' }, sam, env);
    expect(a.details).toMatchObject({ transferSeq: 6, note: 'seal intact' });
    expect((await verifyLedger(d))).toMatchObject({ verdict: 'ok', openTransfers: [] });
  });
});
