import { Args, Flags } from '@oclif/core';
import type { LedgerEntry } from '../../src/custody';
import { ledgerNote } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerNote extends CustosCommand {
  static override summary = 'Record a manual event in the custody ledger (sealed, moved, handed over).';
  static override examples = ['<%= config.bin %> <%= command.id %> "Sealed in evidence bag A1234567, moved to locker 4" --case-dir /cases/2026-0314 --evidence EV-0001'];
  static override args = { text: Args.string({ description: 'what happened', required: true }) };
  static override flags = { ...custodyFlags, evidence: Flags.string({ summary: 'Evidence number(s) concerned (repeatable).', multiple: true }) };

  async run(): Promise<LedgerEntry> {
    const { args, flags } = await this.parse(LedgerNote);
    const caseDir = this.caseDir(flags);
    const e = await ledgerNote({ caseDir, identity: flags.identity, purpose: flags.purpose, text: args.text, evidence: flags.evidence }, (s, open) => this.unlock(s, open));
    this.log(`recorded entry #${e.seq} (note) signed by ${e.actor.name}`);
    return e;
  }
}
