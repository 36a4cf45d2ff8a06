/**
 * Shared set-up of the evidence-service tests: one real identity in a temporary CUSTOS_HOME
 * (createIdentity), real case folders opened with initCase, and the ledger read back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIdentity, initCase, type LedgerEntry, loadSigner, type Signer } from '../../../src/custody';
import { forgetProtectedEvidence } from '../../../src/protect';
import type { Custody } from '../../../src/services/session';
import { fixedEnvironment, makeTempDir } from '../../helpers';

export const PASS = 'correct horse battery';
export const CASE_ID = '2026-0314-HARBOUR';

export interface ServiceWorld {
  /** The temporary folder of this test file. */
  readonly dir: string;
  /** CUSTOS_HOME, with the identity "Alex Morgan". */
  readonly home: string;
  readonly signer: Signer;
  /** A new case folder opened by Alex Morgan (case-open entry only), and the custody session to record in it. */
  newCase(purpose?: string): Promise<Custody>;
}

/**
 * Creates the identity before the tests of the file (certificate valid from 2026-01-01, the
 * fixed clock of the entries is 2026-03-14), points CUSTOS_HOME at it, and cleans up after.
 */
export function serviceWorld(): ServiceWorld {
  let tmp: ReturnType<typeof makeTempDir>;
  let signer: Signer;
  let n = 0;
  const saved = process.env.CUSTOS_HOME;
  const world = {
    get dir() {
      return tmp.dir;
    },
    get home() {
      return join(tmp.dir, 'home');
    },
    get signer() {
      return signer;
    },
    async newCase(purpose?: string): Promise<Custody> {
      const caseDir = join(tmp.dir, `case-${n++}`);
      await initCase(caseDir, { caseId: CASE_ID, description: 'USB stick', purpose: 'warrant 26-WR-0419' }, signer, fixedEnvironment('2026-03-14T09:00:00Z'));
      return { caseDir, signer, env: fixedEnvironment('2026-03-14T09:10:00Z'), ...(purpose ? { purpose } : {}) };
    },
  };
  beforeAll(() => {
    tmp = makeTempDir('custos-services-');
    createIdentity({ name: 'Alex Morgan', role: 'forensic examiner', passphrase: PASS, home: world.home, now: new Date('2026-01-01T00:00:00Z') });
    signer = loadSigner(world.home, undefined, PASS, new Date('2026-03-14T09:00:00Z'));
    process.env.CUSTOS_HOME = world.home;
  });
  afterEach(() => forgetProtectedEvidence());
  afterAll(() => {
    if (saved === undefined) delete process.env.CUSTOS_HOME;
    else process.env.CUSTOS_HOME = saved;
    tmp?.cleanup();
  });
  return world;
}

/** The entries of a case's ledger, as recorded. */
export function ledger(caseDir: string): LedgerEntry[] {
  return readFileSync(join(caseDir, 'custody.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LedgerEntry);
}

/** The bytes of an entry line as stored (its size is what MAX_ENTRY_BYTES bounds). */
export function entrySizes(caseDir: string): number[] {
  return readFileSync(join(caseDir, 'custody.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => Buffer.byteLength(l) + 1);
}
