import { Flags } from '@oclif/core';
import type { WrittenReport } from '../../reports';
import { reportCustody } from '../../src/services/report';
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
    this.caseDir(flags);
    const r = await reportCustody((await this.custody(flags))!, { out: flags.out, force: flags.force });
    const { outcome, problem, ...written } = r;
    this.conclude(outcome);
    if (r.verdict === 'invalid') this.note(`custos: the ledger fails verification (${(problem ?? 'see the report').slice(0, 300)}); the report says so on page 1, and no report-export entry was appended`);
    this.log(`wrote ${r.path} (${r.size} bytes, SHA-256 ${r.sha256})`);
    return written;
  }
}
