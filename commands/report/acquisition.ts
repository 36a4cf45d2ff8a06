import { Args, Flags } from '@oclif/core';
import { acquisitionReport, writeReport, type WrittenReport } from '../../reports';
import { generationTime } from '../../reports/layout';
import { record } from '../../src/recorded';
import { CustosCommand, custodyFlags } from '../_base';

export default class ReportAcquisition extends CustosCommand {
  static override summary = 'Write the PDF acquisition report of a manifest (PDF/A-3b, manifest embedded).';
  static override description =
    'The body states the times the manifest records; the footer of every page states when the PDF was generated: the clock, or SOURCE_DATE_EPOCH when set, so that the same manifest and SOURCE_DATE_EPOCH give a byte-identical PDF. With --case-dir, a report-export entry with the PDF\'s SHA-256 is appended to the ledger.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json --out EV-0001-acquisition.pdf',
    'SOURCE_DATE_EPOCH=$(date +%s) <%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json --out EV-0001-acquisition.pdf',
  ];
  static override args = { manifest: Args.string({ description: 'BASE.manifest.json written by custos acquire', required: true }) };
  static override flags = {
    ...custodyFlags,
    out: Flags.string({ char: 'o', summary: 'PDF file to write.', required: true }),
    now: Flags.boolean({ hidden: true, deprecated: { message: 'the generation time is now always the clock (or SOURCE_DATE_EPOCH); --now does nothing' } }),
    force: Flags.boolean({ summary: 'Replace an existing file.' }),
  };

  async run(): Promise<WrittenReport> {
    const { args, flags } = await this.parse(ReportAcquisition);
    const now = generationTime(process.env, () => new Date());
    const custody = await this.custody(flags);
    const w = writeReport('acquisition', flags.out, await acquisitionReport(args.manifest, { now }), flags.force);
    if (custody) await record(custody, { action: 'report-export', details: { ...w, source: args.manifest } });
    this.log(`wrote ${w.path} (${w.size} bytes, SHA-256 ${w.sha256})`);
    return w;
  }
}
