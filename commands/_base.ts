import { Command, Flags, Parser } from '@oclif/core';
import { CustosError, describeFailure, isCustosError, type Outcome, outcomeExitCode } from '../src/errors';
import { type Custody, openCustody } from '../src/services/session';
import { custosHome, findIdentity, type IdentityRecord } from '../src/custody/identity';
import type { PipelineProgress } from '../src/stream/pipeline';
import { PROGRESS_MODES, ProgressDisplay, type ProgressMode } from '../src/acquire/progress';

/** Flags of every command that records into a case's chain-of-custody ledger. */
export const custodyFlags = {
  'case-dir': Flags.string({ summary: 'Case folder whose custody ledger records this action (custody.jsonl).', env: 'CUSTOS_CASE_DIR' }),
  identity: Flags.string({
    summary: 'Identity that signs the ledger entry (name or fingerprint; default: the only one).',
    description: 'Its passphrase is asked on the terminal by name ("Passphrase for Alex Morgan (forensic examiner, 3f2a9c01…): "), three tries in all, or taken from CUSTOS_PASSPHRASE in scripts (used once, never retried).',
    env: 'CUSTOS_IDENTITY',
  }),
  purpose: Flags.string({ summary: 'Why, and under what authority (warrant, request number).', env: 'CUSTOS_PURPOSE' }),
};

/** Flags of every command that shows progress while it reads. */
export const progressFlags = {
  progress: Flags.option({
    options: PROGRESS_MODES,
    summary: 'How progress is shown on stderr: auto, bar, line, json or none (default: auto; none with --json).',
    description: `auto: a bar on a terminal, a line every 5 s otherwise (a log, CI). bar: redrawn in place, always narrower than the terminal. line: a plain line every 5 s. json: one JSON object per line every second, {"type":"progress", "phase", "bytesDone", "bytesTotal", "bytesPerSecond", "etaSeconds", "readErrorRanges", "readErrorBytes", "elapsedSeconds", "final"}, with a final object (final: true) at the end of each phase; messages become {"type":"note","message"} lines. none: nothing. With --json (the result on stdout) the default is none, but an explicit --progress is honoured.`,
    env: 'CUSTOS_PROGRESS',
  })(),
  'no-progress': Flags.boolean({ summary: 'Show no progress (the same as --progress none).' }),
};

/** Tries at a wrong passphrase on a terminal before giving up. */
const PASSPHRASE_TRIES = 3;

/** Errors raised while `interpret` worked on a flag's value, with that flag's name. */
const flagOfError = new WeakMap<object, string>();

/**
 * What every custos command shares: `--json` on stdout, and failures turned into the one
 * documented report and exit code (src/errors.ts) even when --json is on.
 */
export abstract class CustosCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(caught: Error & { exitCode?: number }): Promise<unknown> {
    const err = await this.explainFlagError(caught);
    if (!this.jsonEnabled()) throw err;
    const report = describeFailure(err, this.config.bin);
    process.stderr.write(`${report.text}\n`);
    this.logJson(report.json);
    process.exitCode = report.exitCode;
    return undefined;
  }

  /**
   * Interprets a flag's value (a size, a list of algorithms, an identity): an error raised here
   * is about that flag, and names its environment variable when the value came from there.
   */
  protected interpret<T>(flag: string, work: () => T): T {
    try {
      return work();
    } catch (err) {
      if (typeof err === 'object' && err !== null) flagOfError.set(err, flag);
      throw err;
    }
  }

  /**
   * An error about a flag's value names the flag, and when the value came from the flag's
   * environment variable (not from the command line) names the variable and its value: a
   * script's stale CUSTOS_RETRIES=abc is otherwise hard to find. Covers oclif's own parse
   * errors and CustosErrors raised in `interpret`; says what a good value looks like.
   */
  private async explainFlagError(err: Error): Promise<Error> {
    const flag = flagOfError.get(err) ?? oclifFlagError(err);
    if (!flag) return err;
    const def = (this.ctor.flags as Record<string, FlagDefinition> | undefined)?.[flag];
    if (!def) return err;
    const variable = def.env;
    const value = variable ? process.env[variable] : undefined;
    const fromEnv = Boolean(variable && value && !(await this.givenOnCommandLine(flag)));
    const custos = isCustosError(err);
    if (custos && (!fromEnv || !['usage', 'input'].includes(err.kind))) return err;
    const reason = custos ? err.message : oclifReason(err);
    if (!fromEnv) {
      const good = goodValue(def, (v) => `--${flag} ${v}`);
      return new CustosError('USAGE', `--${flag}: ${reason}`, { hint: `${good}See '${this.config.bin} ${this.id ? this.id.split(':').join(' ') : 'COMMAND'} --help'.`, cause: err });
    }
    const good = custos ? sentence(err.hint) : goodValue(def, (v) => `${variable}=${v}`);
    return new CustosError(custos ? err.code : 'USAGE', `${variable}=${quote(value!)} in the environment (the value of --${flag}): ${reason}`, {
      hint: `${good}Correct or unset ${variable}, or give --${flag} on the command line, which takes precedence.`,
      cause: err,
      ...(custos && err.path ? { path: err.path } : {}),
    });
  }

  /** True when `flag` appears on the command line, tokenised as oclif does (values, `--`, short names, aliases). */
  private async givenOnCommandLine(flag: string): Promise<boolean> {
    const defs = (this.ctor.flags ?? {}) as Record<string, FlagDefinition>;
    // The same tokens as the command's own flags, without values to check, defaults or environment.
    const loose: Record<string, unknown> = { json: Flags.boolean({}) };
    for (const [name, d] of Object.entries(defs)) {
      const common = { char: d.char as never, aliases: d.aliases };
      loose[name] = d.type === 'boolean' ? Flags.boolean({ ...common, allowNo: Boolean(d.allowNo) }) : d.multiple ? Flags.string({ ...common, multiple: true }) : Flags.string(common);
    }
    try {
      const out = await Parser.parse(this.argv, { flags: loose as never, args: {}, strict: false, context: this });
      return out.raw.some((t) => t.type === 'flag' && t.flag === flag);
    } catch {
      // The command line itself does not tokenise; then the flag is assumed to be on it.
      return true;
    }
  }

  private progressState: { phase: string; display: ProgressDisplay; last: PipelineProgress } | undefined;
  private progressMode: Exclude<ProgressMode, 'none'> | undefined;

  /**
   * A progress callback for --progress (one display per phase on stderr), or undefined when no
   * progress is wanted: --no-progress, --progress none, or --json without an explicit --progress.
   */
  protected progress(flags: { progress?: ProgressMode; 'no-progress'?: boolean }): ((phase: string, total: number, p: PipelineProgress) => void) | undefined {
    const mode = flags['no-progress'] ? 'none' : (flags.progress ?? (this.jsonEnabled() ? 'none' : 'auto'));
    if (mode === 'none') return undefined;
    this.progressMode = mode;
    return (phase, total, p) => {
      if (this.progressState?.phase !== phase) {
        this.endProgress();
        this.progressState = { phase, display: new ProgressDisplay({ stream: process.stderr, label: phase, total, mode }), last: p };
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
      // The message goes above the bar, which goes on to the chunks in flight and ends in `finally`.
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
   * A new passphrase (or one for a key not yet stored): CUSTOS_PASSPHRASE for scripts, else
   * asked on the terminal without echo. Never logged, never printed.
   */
  protected async passphrase(prompt = 'Passphrase: ', confirm = false, variable = 'CUSTOS_PASSPHRASE'): Promise<string> {
    const fromEnv = process.env[variable];
    if (fromEnv) return fromEnv;
    requireTerminal(variable);
    const first = await askHidden(prompt);
    if (confirm && (await askHidden('Again: ')) !== first) throw new CustosError('USAGE', 'the two passphrases differ', { hint: 'Type the same passphrase twice.' });
    return first;
  }

  /**
   * Unlocks the identity that signs: it is found first and named in the prompt ("Passphrase for
   * Alex Morgan (forensic examiner, 3f2a9c01…): "), and on a terminal a wrong passphrase is asked
   * again, three tries in all. CUSTOS_PASSPHRASE (scripts) is used once, never retried.
   * `open` gets the passphrase and the identity found, and throws WRONG_PASSPHRASE on a wrong one.
   */
  protected async unlock<T>(selector: string | undefined, open: (passphrase: string, identity: IdentityRecord) => T): Promise<T> {
    const identity = this.interpret('identity', () => findIdentity(custosHome(), selector));
    const fromEnv = process.env.CUSTOS_PASSPHRASE;
    if (fromEnv) return open(fromEnv, identity);
    requireTerminal();
    const about = [identity.role, `${identity.fingerprint.slice(0, 8)}…`].filter(Boolean).join(', ');
    for (let attempt = 1; ; attempt++) {
      const passphrase = await askHidden(`Passphrase for ${identity.name} (${about}): `);
      try {
        return open(passphrase, identity);
      } catch (err) {
        if (!isCustosError(err) || err.code !== 'WRONG_PASSPHRASE') throw err;
        const left = PASSPHRASE_TRIES - attempt;
        if (left === 0) {
          throw new CustosError('WRONG_PASSPHRASE', `${PASSPHRASE_TRIES} wrong passphrases for ${identity.name} (${identity.fingerprint.slice(0, 8)}…)`, {
            path: err.path,
            cause: err,
            hint: `Run the command again and type this identity's passphrase, or choose another identity with --identity (custos identity list).`,
          });
        }
        this.note(`custos: wrong passphrase for ${identity.name}; ${left} ${left === 1 ? 'try' : 'tries'} left`);
      }
    }
  }

  /** The case folder of a ledger command, which cannot work without one. */
  protected caseDir(flags: { 'case-dir'?: string }): string {
    if (!flags['case-dir']) throw new CustosError('USAGE', 'no case folder given', { hint: 'Pass --case-dir DIR or set CUSTOS_CASE_DIR.' });
    return flags['case-dir'];
  }

  /** The custody session for --case-dir, or undefined when no case folder was given. */
  protected async custody(flags: { 'case-dir'?: string; identity?: string; purpose?: string }): Promise<Custody | undefined> {
    const caseDir = flags['case-dir'];
    if (!caseDir) return undefined;
    // The identity found is the one unlocked: its full fingerprint selects it again.
    return this.unlock(flags.identity, (passphrase, id) => openCustody({ caseDir, identity: id.fingerprint, purpose: flags.purpose, passphrase }));
  }

  /** Sets the exit code of a command that completed, from its outcome (the one map is in src/errors.ts). */
  protected conclude(outcome: Outcome): void {
    if (outcome !== 'ok') process.exitCode = outcomeExitCode(outcome);
  }

  /** Logs a line to stderr (never stdout, which carries only results), on a line of its own even while a bar is drawn. */
  protected note(message: string): void {
    if (this.progressMode === 'json') {
      process.stderr.write(`${JSON.stringify({ type: 'note', message })}\n`);
      return;
    }
    this.progressState?.display.clear();
    process.stderr.write(`${message}\n`);
  }
}

/** The parts of an oclif flag definition that custos looks at. */
interface FlagDefinition {
  type: 'boolean' | 'option';
  env?: string;
  char?: string;
  aliases?: string[];
  allowNo?: boolean;
  multiple?: boolean;
  options?: readonly string[];
  min?: number;
  max?: number;
  default?: unknown;
}

/** The flag an oclif parse error is about: "Parsing --retries …" or "Expected --format=zip to be one of: …". */
function oclifFlagError(err: Error): string | undefined {
  if (isCustosError(err) || typeof (err as { oclif?: { exit?: unknown } }).oclif?.exit !== 'number') return undefined;
  return /^(?:Parsing --([\w-]+)|Expected --([\w-]+)=)/.exec(err.message)?.slice(1).find(Boolean);
}

/** oclif's reason without its "Parsing --flag" preamble and "See more help" trailer. */
function oclifReason(err: Error): string {
  const text = err.message.split('\n').map((l) => l.trim()).filter((l) => l && !/^See more help/.test(l)).join(' ');
  const option = /^Expected --[\w-]+=(.*) to be one of: (.*)$/s.exec(text);
  if (option) return `${quote(option[1]!)} is not one of ${option[2]}`;
  const reason = text.replace(/^Parsing --[\w-]+\s*/, '');
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}

/** What a good value for a flag looks like, from its definition, as a sentence with a trailing space (or nothing). */
function goodValue(def: FlagDefinition, example: (value: string) => string): string {
  const sample = def.default !== undefined && typeof def.default !== 'function' ? String(def.default) : def.options?.[0];
  const eg = sample === undefined ? '' : `, e.g. ${example(sample)}`;
  if (def.options) return sentence(`For example ${example(sample!)}`);
  if (def.min !== undefined && def.max !== undefined) return sentence(`Use a whole number from ${def.min} to ${def.max}${eg}`);
  if (def.min !== undefined) return sentence(`Use a whole number of at least ${def.min}${eg}`);
  if (def.max !== undefined) return sentence(`Use a whole number of at most ${def.max}${eg}`);
  return sample === undefined ? '' : sentence(`A good value looks like ${example(sample)}`);
}

/** Text as a sentence followed by a space, or nothing. */
function sentence(text: string | undefined): string {
  if (!text) return '';
  return /[.!?]$/.test(text) ? `${text} ` : `${text}. `;
}

/** A value as the shell would need it quoted, bounded so that a huge variable cannot flood the message. */
function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return `'${shown.replace(/[\x00-\x1f\x7f]/g, '?').replace(/'/g, "'\\''")}'`;
}

function requireTerminal(variable = 'CUSTOS_PASSPHRASE'): void {
  if (!process.stdin.isTTY) {
    throw new CustosError('NO_PASSPHRASE', 'a passphrase is needed and there is no terminal to ask it on', {
      hint: `Set ${variable} in the environment of scripts.`,
    });
  }
}

/** Keys typed after Enter in the same burst (a paste, a fast typist), kept for the next prompt. */
let typedAhead = '';

/** Reads a line from the terminal with echo off. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const take = (chars: string): boolean => {
      const list = [...chars];
      for (let i = 0; i < list.length; i++) {
        const ch = list[i]!;
        if (ch === '\r' || ch === '\n') {
          typedAhead = list.slice(i + 1).join('').replace(/^\n/, '');
          done();
          resolve(text);
          return true;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          typedAhead = '';
          done();
          reject(new CustosError('INTERRUPTED', 'cancelled at the passphrase prompt'));
          return true;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch === '\u0015') text = '';
        else text += ch;
      }
      return false;
    };
    const onData = (d: Buffer) => void take(d.toString('utf8'));
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
    const ahead = typedAhead;
    typedAhead = '';
    if (ahead) take(ahead);
  });
}
