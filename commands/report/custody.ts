import { Flags } from '@oclif/core';
import { writeReport, type WrittenReport } from '../../reports';
import { custodyReportWithVerdict } from '../../reports/custody';
import { generationTime } from '../../reports/layout';
import { ExitCode } from '../../src/errors';
import { record } from '../../src/recorded';
import { CustosCommand, custodyFlags } from '../_base';

export default class ReportCustody extends CustosCommand {
  static override summary = "Write the case's chain of custody as a PDF: timeline, transfers, verdict, signed head.";
  static override description =
    'The ledger is verified first; a ledger that fails (or holds a line that is not an entry) is still reported, with the failure in red on page 1, and the exit code is 4. The head is signed by your identity (so a later truncation shows against the printed page); the ledger and certificates are embedded. The footer states when the PDF was generated: the clock, or SOURCE_DATE_EPOCH when set. A report-export entry is appended afterwards, unless the ledger fails verification (it is not extended then).';
  static override examples = ['<%= config.bin %> <%= command.id %> --case-dir /cases/2026-0314 --out custody.pdf'];
  static override flags = {
    ...custodyFlags,
    out: Flags.string({ char: 'o', summary: 'PDF file to write.', required: true }),
    now: Flags.boolean({ hidden: true, deprecated: { message: 'the generation time is now always the clock (or SOURCE_DATE_EPOCH); --now does nothing' } }),
    force: Flags.boolean({ summary: 'Replace an existing file.' }),
  };

  async run(): Promise<WrittenReport & { verdict: 'intact' | 'invalid' }> {
    const { flags } = await this.parse(ReportCustody);
    const now = generationTime(process.env, () => new Date());
    const caseDir = this.caseDir(flags);
    const custody = (await this.custody(flags))!;
    const r = await custodyReportWithVerdict(caseDir, { signer: custody.signer, now });
    const w = writeReport('custody', flags.out, r.pdf, flags.force);
    if (r.failed) {
      process.exitCode = ExitCode.MISMATCH;
      this.note(`custos: the ledger fails verification (${(r.problem ?? 'see the report').slice(0, 300)}); the report says so on page 1, and no report-export entry was appended`);
    } else {
      await record(custody, { action: 'report-export', details: { ...w } });
    }
    this.log(`wrote ${w.path} (${w.size} bytes, SHA-256 ${w.sha256})`);
    return { ...w, verdict: r.failed ? 'invalid' : 'intact' };
  }
}
