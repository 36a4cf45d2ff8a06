import { Flags } from '@oclif/core';
import type { LedgerEntry } from '../../src/custody';
import { ledgerTransfer } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerTransfer extends CustosCommand {
  static override summary = 'Release custody to another examiner (signed by you; open until they accept).';
  static override examples = ['<%= config.bin %> <%= command.id %> --to "Sam Lee" --reason "to the lab for analysis" --case-dir /cases/2026-0314'];
  static override flags = {
    ...custodyFlags,
    to: Flags.string({ summary: "Recipient: a certificate file (PEM), or a name or fingerprint in $CUSTOS_HOME.", required: true }),
    reason: Flags.string({ summary: 'Why custody changes hands.', required: true }),
    evidence: Flags.string({ summary: 'Evidence number(s) handed over (repeatable).', multiple: true }),
  };

  async run(): Promise<LedgerEntry> {
    const { flags } = await this.parse(LedgerTransfer);
    const caseDir = this.caseDir(flags);
    const e = await ledgerTransfer(
      { caseDir, identity: flags.identity, purpose: flags.purpose, to: flags.to, reason: flags.reason, evidence: flags.evidence },
      (s, open) => this.unlock(s, open),
    );
    const to = e.details.to as { name: string };
    this.log(`recorded entry #${e.seq}: transfer from ${e.actor.name} to ${to.name}; open until ${to.name} runs custos ledger accept`);
    return e;
  }
}
