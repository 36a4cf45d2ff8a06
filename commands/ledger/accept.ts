import { Flags } from '@oclif/core';
import type { LedgerEntry } from '../../src/custody';
import { ledgerAccept } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerAccept extends CustosCommand {
  static override summary = 'Accept the open transfer of custody addressed to you (signed by you).';
  static override examples = ['CUSTOS_IDENTITY="Sam Lee" <%= config.bin %> <%= command.id %> --case-dir /cases/2026-0314 --note "seal A1234567 intact"'];
  static override flags = { ...custodyFlags, note: Flags.string({ summary: 'Condition on receipt (seal intact, …).' }) };

  async run(): Promise<LedgerEntry> {
    const { flags } = await this.parse(LedgerAccept);
    const caseDir = this.caseDir(flags);
    const e = await ledgerAccept({ caseDir, identity: flags.identity, purpose: flags.purpose, note: flags.note }, (s, open) => this.unlock(s, open));
    this.log(`recorded entry #${e.seq}: ${e.actor.name} accepted transfer #${String(e.details.transferSeq)}`);
    return e;
  }
}
