import { Command, Flags } from '@oclif/core';
import { CustosError } from '../src/errors';
import { type Custody, openCustody } from '../src/recorded';
import type { PipelineProgress } from '../src/acquire/pipeline';
import { ProgressDisplay } from '../src/acquire/progress';
import { describeFailure } from '../src/errors';

/** Flags of every command that records into a case's chain-of-custody ledger. */
export const custodyFlags = {
  'case-dir': Flags.string({ summary: 'Case folder whose custody ledger records this action (custody.jsonl).', env: 'CUSTOS_CASE_DIR' }),
  identity: Flags.string({ summary: 'Identity that signs the ledger entry (name or fingerprint; default: the only one).', env: 'CUSTOS_IDENTITY' }),
  purpose: Flags.string({ summary: 'Why, and under what authority (warrant, request number).', env: 'CUSTOS_PURPOSE' }),
};

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

  /**
   * The examiner's passphrase: CUSTOS_PASSPHRASE for scripts, else asked on the terminal
   * without echo. Never logged, never printed.
   */
  protected async passphrase(prompt = 'Passphrase: ', confirm = false): Promise<string> {
    const fromEnv = process.env.CUSTOS_PASSPHRASE;
    if (fromEnv) return fromEnv;
    if (!process.stdin.isTTY) {
      throw new CustosError('NO_PASSPHRASE', 'a passphrase is needed and there is no terminal to ask it on', {
        hint: 'Set CUSTOS_PASSPHRASE in the environment of scripts.',
      });
    }
    const first = await askHidden(prompt);
    if (confirm && (await askHidden('Again: ')) !== first) throw new CustosError('USAGE', 'the two passphrases differ', { hint: 'Type the same passphrase twice.' });
    return first;
  }

  /** The case folder of a ledger command, which cannot work without one. */
  protected caseDir(flags: { 'case-dir'?: string }): string {
    if (!flags['case-dir']) throw new CustosError('USAGE', 'no case folder given', { hint: 'Pass --case-dir DIR or set CUSTOS_CASE_DIR.' });
    return flags['case-dir'];
  }

  /** The custody session for --case-dir, or undefined when no case folder was given. */
  protected async custody(flags: { 'case-dir'?: string; identity?: string; purpose?: string }): Promise<Custody | undefined> {
    if (!flags['case-dir']) return undefined;
    return openCustody({ caseDir: flags['case-dir'], identity: flags.identity, purpose: flags.purpose, passphrase: await this.passphrase() });
  }

  /** Logs a line to stderr (never stdout, which carries only results). */
  protected note(message: string): void {
    process.stderr.write(`${message}\n`);
  }
}

/** Reads a line from the terminal with echo off. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new CustosError('INTERRUPTED', 'cancelled at the passphrase prompt'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
