import { Command } from '@oclif/core';
import { describeFailure } from '../src/errors';

/**
 * What every custos command shares: `--json` on stdout, and failures turned into the one
 * documented report and exit code (src/errors.ts) even when --json is on.
 */
export abstract class CustosCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (!this.jsonEnabled()) throw err;
    const report = describeFailure(err, this.config.bin);
    process.stderr.write(`${report.text}\n`);
    this.logJson(report.json);
    process.exitCode = report.exitCode;
    return undefined;
  }
}
