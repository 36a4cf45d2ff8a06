import { Args, Flags } from '@oclif/core';
import { acquisitionReport, writeReport, type WrittenReport } from '../../reports';
import { record } from '../../src/recorded';
import { CustosCommand, custodyFlags } from '../_base';

export default class ReportAcquisition extends CustosCommand {
  static override summary = 'Write the PDF acquisition report of a manifest (PDF/A-3b, manifest embedded).';
  static override description = 'Dates come from the manifest, so the same manifest gives a byte-identical PDF (--now states the current time instead). With --case-dir, a report-export entry with the PDF\'s SHA-256 is appended to the ledger.';
  static override examples = ['<%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json --out EV-0001-acquisition.pdf'];
  static override args = { manifest: Args.string({ description: 'BASE.manifest.json written by custos acquire', required: true }) };
  static override flags = {
    ...custodyFlags,
    out: Flags.string({ char: 'o', summary: 'PDF file to write.', required: true }),
    now: Flags.boolean({ summary: 'State the current time as the generation time (the output is then not reproducible).' }),
    force: Flags.boolean({ summary: 'Replace an existing file.' }),
  };

  async run(): Promise<WrittenReport> {
    const { args, flags } = await this.parse(ReportAcquisition);
    const custody = await this.custody(flags);
    const w = writeReport('acquisition', flags.out, await acquisitionReport(args.manifest, { now: flags.now ? new Date() : undefined }), flags.force);
    if (custody) await record(custody, { action: 'report-export', details: { ...w, source: args.manifest } });
    this.log(`wrote ${w.path} (${w.size} bytes, SHA-256 ${w.sha256})`);
    return w;
  }
}
