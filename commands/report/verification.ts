import { Args, Flags } from '@oclif/core';
import { verificationReport, writeReport, type WrittenReport } from '../../reports';
import { generationTime } from '../../reports/layout';
import { ExitCode } from '../../src/errors';
import { parseAlgorithms } from '../../src/hash/algorithms';
import { systemEnvironment } from '../../src/host';
import { record, verifyRecorded } from '../../src/recorded';
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
    const clock = () => new Date();
    const at = generationTime(process.env, clock);
    const reproducible = Boolean(process.env.SOURCE_DATE_EPOCH);
    const custody = await this.custody(flags);
    const t0 = Date.now();
    const result = await verifyRecorded(args.target, { source: flags.source, algorithms: flags.hash ? parseAlgorithms(flags.hash) : undefined }, custody);
    const examiner = flags.examiner ?? custody?.signer.identity.name ?? systemEnvironment.host().user;
    const pdf = await verificationReport({ result, at, examiner, durationSeconds: reproducible ? undefined : (Date.now() - t0) / 1000 }, { now: generationTime(process.env, clock) });
    const w = writeReport('verification', flags.out, pdf, flags.force);
    // Damage or differing windows make it a mismatch even if a hash agreed (the report says MISMATCH too).
    const verdict = result.verdict === 'match' && !(result.image.damaged && result.image.damaged.count > 0) && (result.image.windows?.differing.length ?? 0) === 0 ? 'match' : 'mismatch';
    if (custody) await record(custody, { action: 'report-export', details: { ...w, source: args.target, verdict } });
    if (verdict !== 'match') process.exitCode = ExitCode.MISMATCH;
    this.log(`verdict ${verdict.toUpperCase()}; wrote ${w.path} (${w.size} bytes, SHA-256 ${w.sha256})`);
    return { ...w, verdict };
  }
}
