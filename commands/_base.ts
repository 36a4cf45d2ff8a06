import { Command } from '@oclif/core';
import type { PipelineProgress } from '../src/acquire/pipeline';
import { ProgressDisplay } from '../src/acquire/progress';
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

  private progressState: { phase: string; display: ProgressDisplay; last: PipelineProgress } | undefined;

  /** A progress callback that draws on stderr (one display per phase), or nothing when disabled. */
  protected progress(enabled: boolean): ((phase: string, total: number, p: PipelineProgress) => void) | undefined {
    if (!enabled) return undefined;
    return (phase, total, p) => {
      if (this.progressState?.phase !== phase) {
        this.endProgress();
        this.progressState = { phase, display: new ProgressDisplay({ stream: process.stderr, label: phase, total }), last: p };
      }
      this.progressState.last = p;
      this.progressState.display.update(p);
    };
  }

  /** Draws the final state of the current progress display, before results are printed. */
  protected endProgress(): void {
    const s = this.progressState;
    this.progressState = undefined;
    s?.display.finish(s.last);
  }

  /** Runs `work` with Ctrl-C (and SIGTERM) turned into a clean stop through an AbortSignal; a second Ctrl-C kills. */
  protected async interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(130);
      this.endProgress();
      this.note(`custos: ${sig} received: finishing the chunks in flight and saving the state (press Ctrl-C again to abort at once)`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      return await work(controller.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      this.endProgress();
    }
  }

  /** Logs a line to stderr (never stdout, which carries only results). */
  protected note(message: string): void {
    process.stderr.write(`${message}\n`);
  }
}
