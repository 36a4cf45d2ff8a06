import { Args, Flags } from '@oclif/core';
import type { LedgerEntry } from '../../src/custody';
import { caseInit } from '../../src/services/case';
import { CustosCommand } from '../_base';

export default class CaseInit extends CustosCommand {
  static override summary = 'Open a case: a folder with a signed chain-of-custody ledger (custody.jsonl).';
  static override examples = ['<%= config.bin %> <%= command.id %> /cases/2026-0314 --case 2026-0314-HARBOUR --description "USB stick seized at the harbour office"'];
  static override args = { dir: Args.string({ description: 'case folder (created if missing)', required: true }) };
  static override flags = {
    case: Flags.string({ summary: 'Case number.', required: true, env: 'CUSTOS_CASE' }),
    description: Flags.string({ summary: 'What the case is about.' }),
    evidence: Flags.string({ summary: 'Evidence number(s) in the case (repeatable).', multiple: true }),
    identity: Flags.string({ summary: 'Identity that signs (name or fingerprint); its passphrase is asked by name, three tries, or read from CUSTOS_PASSPHRASE.', env: 'CUSTOS_IDENTITY' }),
    purpose: Flags.string({ summary: 'Authority for opening the case (warrant, request).', env: 'CUSTOS_PURPOSE' }),
    trust: Flags.string({ summary: 'Trust anchor: the lab CA certificate (PEM file), or sha256:FINGERPRINT pinning one examiner certificate (repeatable).', multiple: true }),
    tsa: Flags.string({ summary: 'Timestamp authority URL (RFC 3161): checkpoints are timestamped after every acquisition.', env: 'CUSTOS_TSA' }),
    'tsa-cert': Flags.string({ summary: 'Certificate (PEM) the TSA\'s tokens must chain to (repeatable).', multiple: true }),
  };

  async run(): Promise<LedgerEntry> {
    const { args, flags } = await this.parse(CaseInit);
    const e = await caseInit(
      {
        dir: args.dir,
        caseId: flags.case,
        description: flags.description,
        purpose: flags.purpose,
        evidence: flags.evidence,
        identity: flags.identity,
        trust: flags.trust,
        tsa: flags.tsa,
        tsaCerts: flags['tsa-cert'],
      },
      (s, open) => this.unlock(s, open),
    );
    this.log(`opened case ${e.case} in ${args.dir}: entry #0 case-open signed by ${e.actor.name}`);
    return e;
  }
}
