import { Args, Flags } from '@oclif/core';
import type { WrittenReport } from '../../reports';
import { reportAcquisition } from '../../src/services/report';
import { CustosCommand, custodyFlags } from '../_base';

export default class ReportAcquisition extends CustosCommand {
  static override summary = 'Write the PDF acquisition report of a manifest (PDF/A-3b, manifest embedded).';
  static override description =
    'The body states the times the manifest records; the footer of every page states when the PDF was generated: the clock, or SOURCE_DATE_EPOCH when set, so that the same manifest and SOURCE_DATE_EPOCH give a byte-identical PDF. A derived copy (custos convert) says so and names its parent. With --case-dir, a report-export entry with the PDF\'s SHA-256 is appended to the ledger.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json --out EV-0001-acquisition.pdf',
    'SOURCE_DATE_EPOCH=$(date +%s) <%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json --out EV-0001-acquisition.pdf',
  ];
  static override args = { manifest: Args.string({ description: 'BASE.manifest.json written by custos acquire or convert', required: true }) };
  static override flags = {
    ...custodyFlags,
    out: Flags.string({ char: 'o', summary: 'PDF file to write.', required: true }),
    now: Flags.boolean({ hidden: true, deprecated: { message: 'the generation time is now always the clock (or SOURCE_DATE_EPOCH); --now does nothing' } }),
    force: Flags.boolean({ summary: 'Replace an existing file.' }),
  };

  async run(): Promise<WrittenReport> {
    const { args, flags } = await this.parse(ReportAcquisition);
    const w = await reportAcquisition(args.manifest, { out: flags.out, force: flags.force }, await this.custody(flags));
    this.log(`wrote ${w.path} (${w.size} bytes, SHA-256 ${w.sha256})`);
    return w;
  }
}
