import { Flags } from '@oclif/core';
import { ledgerExport } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerExport extends CustosCommand {
  static override summary = 'Export the ledger so that anyone can verify it with openssl and sha256sum alone.';
  static override description = 'Writes, for each entry, its canonical bytes and its signature, the certificates as PEM, and verify.sh, which checks every signature and the whole chain without custos.';
  static override flags = { 'case-dir': custodyFlags['case-dir'], openssl: Flags.string({ summary: 'Folder to export into (new or empty).', required: true }) };

  async run(): Promise<{ entries: number; script: string }> {
    const { flags } = await this.parse(LedgerExport);
    const r = await ledgerExport({ caseDir: this.caseDir(flags), outDir: flags.openssl });
    this.log(`exported ${r.entries} entries; check them with: sh ${r.script}`);
    return r;
  }
}
