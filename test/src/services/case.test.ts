/** The case service: a case folder opened with its first, signed entry, once, by the identity named. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { genesisHash, type IdentityRecord } from '../../../src/custody';
import { caseInit } from '../../../src/services/case';
import { ledgerVerify } from '../../../src/services/custody';
import { identityCreate } from '../../../src/services/identity';
import { PASS, temporaryHome, unlockWith } from './custody-support';

const t = temporaryHome();
let sam: IdentityRecord;

beforeAll(async () => {
  await identityCreate({ name: 'Alex Morgan', role: 'examiner', passphrase: PASS });
  sam = await identityCreate({ name: 'Sam Lee', role: 'lab analyst', passphrase: PASS });
});

test('opens the case: custody.jsonl with one case-open entry signed by the identity named, its certificate kept beside it', async () => {
  const dir = join(t.dir, 'cases', '2026-0314');
  const unlock = unlockWith(PASS);
  const e = await caseInit({ dir, caseId: '2026-0314-HARBOUR', description: 'USB stick', purpose: 'warrant 26-WR-0419', evidence: ['EV-1', 'EV-2'], identity: 'Sam Lee' }, unlock);
  expect(unlock.asked).toEqual([{ selector: 'Sam Lee', passphrase: PASS }]);
  expect(e).toMatchObject({
    seq: 0,
    case: '2026-0314-HARBOUR',
    action: 'case-open',
    evidence: ['EV-1', 'EV-2'],
    purpose: 'warrant 26-WR-0419',
    details: { description: 'USB stick' },
    actor: { name: 'Sam Lee', role: 'lab analyst', cert: sam.fingerprint },
    prev: genesisHash('2026-0314-HARBOUR'),
  });
  expect(readFileSync(join(dir, 'custody.jsonl'), 'utf8')).toBe(`${JSON.stringify(e)}\n`);
  expect(readdirSync(join(dir, 'certs'))).toEqual([`${sam.fingerprint}.pem`]);
  expect(await ledgerVerify({ caseDir: dir })).toMatchObject({ outcome: 'ok', entries: 1, case: '2026-0314-HARBOUR' });

  await expect(caseInit({ dir, caseId: 'OTHER', identity: 'Alex Morgan' }, unlock)).rejects.toMatchObject({ code: 'LEDGER_EXISTS' });
  expect(readFileSync(join(dir, 'custody.jsonl'), 'utf8')).toBe(`${JSON.stringify(e)}\n`);
});

test('a wrong passphrase: WRONG_PASSPHRASE before anything is written', async () => {
  const dir = join(t.dir, 'never');
  await expect(caseInit({ dir, caseId: 'C-2', identity: 'Alex Morgan' }, unlockWith('not the passphrase'))).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
  expect(existsSync(dir)).toBe(false);
});
