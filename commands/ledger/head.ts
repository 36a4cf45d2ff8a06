import { Flags } from '@oclif/core';
import type { SignedHead } from '../../src/custody';
import { ledgerHead } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerHead extends CustosCommand {
  static override summary = 'Print the ledger head (sequence number and hash), signed, for anchoring elsewhere.';
  static override description = 'Keep the signed head outside the case folder (a report, an e-mail, another system): custos ledger verify --expect-head FILE then detects entries cut off the end.';
  static override flags = {
    ...custodyFlags,
    out: Flags.string({ summary: 'Also write the signed head to this file (created new; never a link or evidence).' }),
    force: Flags.boolean({ summary: 'Replace an existing --out file (never a link or evidence).' }),
  };

  async run(): Promise<SignedHead> {
    const { flags } = await this.parse(LedgerHead);
    const caseDir = this.caseDir(flags);
    const h = await ledgerHead({ caseDir, identity: flags.identity, purpose: flags.purpose, out: flags.out, force: flags.force }, (s, open) => this.unlock(s, open));
    this.log(`case ${h.case}: head seq ${h.seq} sha256 ${h.hash}\nsigned by ${h.signer.name} (${h.signer.cert}) at ${h.at}`);
    return h;
  }
}
