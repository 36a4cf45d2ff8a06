/** Shared set-up of the service tests: a temporary CUSTOS_HOME, and the passphrase path a command takes. */
import { custosHome, findIdentity } from '../../../src/custody';
import { forgetProtectedEvidence } from '../../../src/protect';
import type { Unlock } from '../../../src/services/custody';
import { makeTempDir } from '../../helpers';

export const PASS = 'correct horse battery';

/** Points CUSTOS_HOME at a new temporary folder for this test file; restores it and forgets protections after. */
export function temporaryHome(): { readonly dir: string; readonly home: string } {
  const state = { dir: '', home: '' };
  let tmp: ReturnType<typeof makeTempDir>;
  const saved = process.env.CUSTOS_HOME;
  beforeAll(() => {
    tmp = makeTempDir('custos-services-');
    state.dir = tmp.dir;
    state.home = `${tmp.dir}/home`;
    process.env.CUSTOS_HOME = state.home;
  });
  afterEach(() => forgetProtectedEvidence());
  afterAll(() => {
    if (saved === undefined) delete process.env.CUSTOS_HOME;
    else process.env.CUSTOS_HOME = saved;
    tmp.cleanup();
  });
  return state;
}

/**
 * What a command does with CUSTOS_PASSPHRASE: finds the identity named in CUSTOS_HOME and opens
 * it once with that passphrase. `asked` records every selector and passphrase tried.
 */
export function unlockWith(...passphrases: string[]): Unlock & { asked: { selector?: string; passphrase: string; failed?: string }[] } {
  const asked: { selector?: string; passphrase: string; failed?: string }[] = [];
  const unlock = async <T>(selector: string | undefined, open: (passphrase: string, identity: ReturnType<typeof findIdentity>) => T): Promise<T> => {
    const identity = findIdentity(custosHome(), selector);
    for (const [i, passphrase] of passphrases.entries()) {
      try {
        const opened = open(passphrase, identity);
        asked.push({ selector, passphrase });
        return opened;
      } catch (err) {
        asked.push({ selector, passphrase, failed: (err as { code?: string }).code });
        // Only a wrong passphrase is asked again, as on a terminal.
        if ((err as { code?: string }).code !== 'WRONG_PASSPHRASE' || i === passphrases.length - 1) throw err;
      }
    }
    throw new Error('no passphrase to try');
  };
  return Object.assign(unlock, { asked });
}
