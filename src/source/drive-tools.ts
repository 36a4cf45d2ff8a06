/**
 * Running the drive tools that hidden-area checks ask (hdparm, nvme-cli) and the basics of reading
 * what they print: bounded output and time, a missing tool told apart from a failing one, exact
 * counts, and the one line of a failure worth showing. Their output is outside data: the parsers
 * answer with numbers or with a reason, never with an exception.
 */
import { spawnSync } from 'node:child_process';

/** What running a tool gave: its exit status and output, or why it could not run. */
export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the tool did not run to the end. */
  error?: 'not-installed' | 'timed-out' | 'too-much-output' | 'failed-to-start';
}

/** Runs a tool; injectable so tests can replay recorded outputs. */
export type CommandRunner = (command: string, args: readonly string[]) => CommandResult;

/** Tool output beyond this is not what these tools print: the parsers refuse it. */
export const MAX_TOOL_OUTPUT = 1024 * 1024;
/** A drive that does not answer an identify command within this is not waited for longer. */
export const TOOL_TIMEOUT_MS = 30_000;

/** Runs `command` with a bounded output and time; sbin directories are searched too (hdparm lives there). */
export const systemRunner: CommandRunner = (command, args) => {
  const path = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean).join(':');
  const r = spawnSync(command, [...args], {
    encoding: 'latin1',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: MAX_TOOL_OUTPUT,
    timeout: TOOL_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    env: { ...process.env, PATH: path, LC_ALL: 'C' },
  });
  const out = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ...out, error: 'not-installed' };
    if (code === 'ETIMEDOUT') return { ...out, error: 'timed-out' };
    if (code === 'ENOBUFS') return { ...out, error: 'too-much-output' };
    return { ...out, error: 'failed-to-start' };
  }
  return out;
};

/** What a parser of tool output answers: the values, or why it could not tell them. */
export type Parsed<T> = ({ ok: true } & T) | { ok: false; reason: string };

/** A parser's answer when the output does not say what was asked. */
export const notParsed = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** A decimal count that must fit a JavaScript number exactly. */
export function safeCount(digits: string): number | undefined {
  if (!/^\d{1,40}$/.test(digits)) return undefined;
  const n = BigInt(digits);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}

/** The first line of `text` that says something, cleaned and cut for a one-line reason. */
export function firstMessage(text: string): string | undefined {
  for (const raw of text.slice(0, 64 * 1024).split('\n')) {
    const line = raw.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
    if (line && !/^\/\S+:$/.test(line)) return line.length > 160 ? `${line.slice(0, 157)}...` : line;
  }
  return undefined;
}

/** Why a run of a tool gave no usable output: it timed out, printed too much, could not start, or failed with this message. */
export function failedRun(tool: string, args: readonly string[], r: CommandResult): string {
  if (r.error === 'timed-out') return `${tool} ${args[0]} did not finish within ${TOOL_TIMEOUT_MS / 1000} s`;
  if (r.error === 'too-much-output') return `${tool} ${args[0]} printed more than 1 MiB`;
  if (r.error === 'failed-to-start') return `${tool} could not be started`;
  const msg = firstMessage(r.stderr) ?? firstMessage(r.stdout);
  return `${tool} ${args[0]} ${r.status === null ? 'was killed' : `exited ${r.status}`}${msg ? `: ${msg}` : ''}`;
}
