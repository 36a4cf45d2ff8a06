import { Flags } from '@oclif/core';
import type { LedgerEntry } from '../../src/custody';
import { acceptCustody } from '../../src/custody/transfer';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerAccept extends CustosCommand {
  static override summary = 'Accept the open transfer of custody addressed to you (signed by you).';
  static override examples = ['CUSTOS_IDENTITY="Sam Lee" <%= config.bin %> <%= command.id %> --case-dir /cases/2026-0314 --note "seal A1234567 intact"'];
  static override flags = { ...custodyFlags, note: Flags.string({ summary: 'Condition on receipt (seal intact, …).' }) };

  async run(): Promise<LedgerEntry> {
    const { flags } = await this.parse(LedgerAccept);
    const caseDir = this.caseDir(flags);
    const c = (await this.custody(flags))!;
    const e = await acceptCustody(caseDir, { note: flags.note, purpose: flags.purpose }, c.signer);
    this.log(`recorded entry #${e.seq}: ${e.actor.name} accepted transfer #${String(e.details.transferSeq)}`);
    return e;
  }
}
