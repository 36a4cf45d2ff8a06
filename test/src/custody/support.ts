/** Shared set-up of the custody tests: real identities, a real six-entry ledger to copy and tamper with, and line helpers. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendEntry, createIdentity, entryBytes, initCase, type LedgerEntry, loadSigner, type Signer } from '../../../src/custody';
import { fixedEnvironment, makeTempDir } from '../../helpers';

export const PASS = 'correct horse battery';
export const CASE_ID = '2026-0314-HARBOUR';

const ROLES = { 'Alex Morgan': 'examiner', 'Sam Lee': 'lab analyst', Mallory: 'intruder' } as const;
/** The examiners a test needs; 'fake Alex' is a second certificate in Alex Morgan's name, from another home. */
export type Examiner = keyof typeof ROLES | 'fake Alex';

export interface CustodyFixture {
  tmp: { dir: string; cleanup: () => void };
  /** CUSTOS_HOME of Alex Morgan and the others (not fake Alex). */
  home: string;
  /** Signers unlocked at 2026-03-14T10:00:00Z; Alex Morgan always. */
  signers: Partial<Record<Examiner, Signer>> & { 'Alex Morgan': Signer };
  /** A case opened by Alex Morgan: case-open, acquire-start, acquire-complete, two notes, verify. */
  template: string;
  /** A fresh copy of the template case folder. */
  copy: () => string;
}

/** Creates the identities (certificates valid from 2026-01-01) and the template ledger. */
export async function custodyFixture(examiners: Examiner[] = []): Promise<CustodyFixture> {
  const tmp = makeTempDir();
  const home = join(tmp.dir, 'home');
  const created = new Date('2026-01-01T00:00:00Z');
  const at = new Date('2026-03-14T10:00:00Z');
  const signers: Partial<Record<Examiner, Signer>> = {};
  for (const name of ['Alex Morgan', ...examiners.filter((e) => e !== 'Alex Morgan')] as Examiner[]) {
    const real = name === 'fake Alex' ? 'Alex Morgan' : name;
    const where = name === 'fake Alex' ? join(tmp.dir, 'home2') : home;
    createIdentity({ name: real, role: ROLES[real], passphrase: PASS, home: where, now: created });
    signers[name] = loadSigner(where, real, PASS, at);
  }
  const alex = signers['Alex Morgan']!;
  const template = join(tmp.dir, 'template');
  const env = fixedEnvironment('2026-03-14T09:00:00Z');
  await initCase(template, { caseId: CASE_ID, description: 'USB stick', purpose: 'warrant 26-WR-0419' }, alex, env);
  await appendEntry(template, { action: 'acquire-start', evidence: ['EV-0001'] }, alex, env);
  await appendEntry(template, { action: 'acquire-complete', evidence: ['EV-0001'], details: { hashes: { md5: 'e59bf7cee4c9e04c2b81e8580a848d74' } } }, alex, env);
  await appendEntry(template, { action: 'note', evidence: ['EV-0001'], details: { text: 'Sealed in bag A1234567' } }, alex, env);
  await appendEntry(template, { action: 'note', evidence: ['EV-0001'], details: { text: 'Moved to locker 4' } }, alex, env);
  await appendEntry(template, { action: 'verify', evidence: ['EV-0001'], details: { verdict: 'match' } }, alex, env);
  let n = 0;
  const copy = () => {
    const d = join(tmp.dir, `case-${n++}`);
    cpSync(template, d, { recursive: true });
    return d;
  };
  return { tmp, home, signers: signers as CustodyFixture['signers'], template, copy };
}

export const ledgerFile = (d: string) => join(d, 'custody.jsonl');
/** The ledger's lines, without the newlines. */
export const lines = (d: string) => readFileSync(ledgerFile(d), 'utf8').split('\n').filter(Boolean);
/** Replaces the ledger with these lines. */
export const writeLines = (d: string, ls: string[]) => writeFileSync(ledgerFile(d), ls.map((l) => `${l}\n`).join(''));
/** Signs an entry the way custos does, with any signer (how a forger would). */
export const signAs = (e: Omit<LedgerEntry, 'sig'>, s: Signer): LedgerEntry => ({ ...e, sig: { alg: 'RS256', cert: s.identity.fingerprint, value: s.sign(entryBytes(e)) } });
