import { Args, Flags } from '@oclif/core';
import type { WrittenReport } from '../../reports';
import { parseAlgorithms } from '../../src/hash/algorithms';
import { reportVerification } from '../../src/services/report';
import { CustosCommand, custodyFlags } from '../_base';

export default class ReportVerification extends CustosCommand {
  static override summary = 'Verify an image (or a manifest\'s image) and write the result as a PDF report.';
  static override description = 'Runs the same verification as custos verify, then writes a PDF with every expected and computed value and the verdict. The verification time and the generation time in the footer are the clock, or SOURCE_DATE_EPOCH when set (for reproducible output). Exit code 4 when the verdict is MISMATCH (the report is still written).';
  static override examples = ['<%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json --out EV-0001-verification.pdf --examiner "Sam Lee"'];
  static override args = { target: Args.string({ description: 'manifest, raw image or first segment of a split image', required: true }) };
  static override flags = {
    ...custodyFlags,
    out: Flags.string({ char: 'o', summary: 'PDF file to write.', required: true }),
    source: Flags.string({ summary: 'Also re-read this source and compare.' }),
    hash: Flags.string({ char: 'a', summary: 'Algorithms to compute (default: those recorded).' }),
    examiner: Flags.string({ summary: 'Who verifies (default: the signing identity, else the user).', env: 'CUSTOS_EXAMINER' }),
    force: Flags.boolean({ summary: 'Replace an existing file.' }),
  };

  async run(): Promise<WrittenReport & { verdict: string }> {
    const { args, flags } = await this.parse(ReportVerification);
    const algorithms = flags.hash ? this.interpret('hash', () => parseAlgorithms(flags.hash!)) : undefined;
    const r = await reportVerification(args.target, { out: flags.out, force: flags.force, source: flags.source, algorithms, examiner: flags.examiner }, await this.custody(flags));
    const { outcome, ...written } = r;
    this.conclude(outcome);
    this.log(`verdict ${r.verdict.toUpperCase()}; wrote ${r.path} (${r.size} bytes, SHA-256 ${r.sha256})`);
    return written;
  }
}
