import { Flags } from '@oclif/core';
import { custodyReport, writeReport, type WrittenReport } from '../../reports';
import { record } from '../../src/recorded';
import { CustosCommand, custodyFlags } from '../_base';

export default class ReportCustody extends CustosCommand {
  static override summary = "Write the case's chain of custody as a PDF: timeline, transfers, verdict, signed head.";
  static override description = 'The ledger is verified first; a ledger that fails is still reported, with the failure in red on page 1. The head is signed by your identity (so a later truncation shows against the printed page); the ledger and certificates are embedded. Dates come from the ledger (--now: the clock). A report-export entry is appended afterwards.';
  static override examples = ['<%= config.bin %> <%= command.id %> --case-dir /cases/2026-0314 --out custody.pdf'];
  static override flags = {
    ...custodyFlags,
    out: Flags.string({ char: 'o', summary: 'PDF file to write.', required: true }),
    now: Flags.boolean({ summary: 'State the current time as the generation time.' }),
    force: Flags.boolean({ summary: 'Replace an existing file.' }),
  };

  async run(): Promise<WrittenReport> {
    const { flags } = await this.parse(ReportCustody);
    const caseDir = this.caseDir(flags);
    const custody = (await this.custody(flags))!;
    const w = writeReport('custody', flags.out, await custodyReport(caseDir, { signer: custody.signer, now: flags.now ? new Date() : undefined }), flags.force);
    await record(custody, { action: 'report-export', details: { ...w } });
    this.log(`wrote ${w.path} (${w.size} bytes, SHA-256 ${w.sha256})`);
    return w;
  }
}
