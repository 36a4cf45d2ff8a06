import type { LedgerEntry } from '../../src/custody';
import { ledgerRepair } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerRepair extends CustosCommand {
  static override summary = 'Remove a torn (incomplete) last line and record the repair as a signed entry.';
  static override description = 'Only ever removes an incomplete last line left by a crash; its bytes are kept in a side file and their SHA-256 recorded in the repair entry.';
  static override flags = custodyFlags;

  async run(): Promise<LedgerEntry> {
    const { flags } = await this.parse(LedgerRepair);
    const caseDir = this.caseDir(flags);
    const e = await ledgerRepair({ caseDir, identity: flags.identity, purpose: flags.purpose }, (s, open) => this.unlock(s, open));
    this.log(`removed the torn line ${String(e.details.removedLine)} (${String(e.details.removedBytes)} bytes, kept in ${String(e.details.keptIn)}); recorded as entry #${e.seq}`);
    return e;
  }
}
