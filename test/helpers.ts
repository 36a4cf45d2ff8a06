import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');
export const SAMPLE_IMAGE = join(ROOT, 'samples', 'fat-disk.img');

/** Runs the built `custos` binary exactly as a user would (npm test builds first). */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {
    encoding: 'utf8',
    cwd: options.cwd ?? ROOT,
    // jest sets NODE_ENV=test, which makes oclif load the TypeScript sources; users run dist/.
    env: { ...process.env, NODE_ENV: 'production', ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Runs an independent tool (coreutils, b3sum, …) and returns its stdout; fails the test if it fails. */
export function tool(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The hex digest from a `md5sum`-style line (which starts with "\\" when the name was escaped). */
export function digestOf(cmd: string, file: string): string {
  return tool(cmd, [file]).replace(/^\\/, '').split(/\s+/)[0]!;
}

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A fresh temporary folder, removed by the returned cleanup. */
export function makeTempDir(prefix = 'custos-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic bytes (xorshift32) so failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 0x2545f491): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A fixed world for reproducible manifests: clock, host, time zone and command line. */
export function fixedEnvironment(at = '2026-03-14T09:26:53Z'): import('../src/host').Environment {
  let t = Date.parse(at);
  return {
    now: () => new Date((t += 1000)),
    host: () => ({ hostname: 'lab-ws-07', user: 'examiner', platform: 'linux', release: '6.1.0-test', arch: 'x64', osVersion: '#1 SMP test', os: 'Debian GNU/Linux 12 (bookworm)' }),
    timeZone: () => 'Europe/Berlin',
    utcOffsetMinutes: () => 60,
    commandLine: () => ['custos', 'acquire', 'test'],
  };
}

/** Byte-for-byte comparison by coreutils cmp: true when identical. */
export function sameBytes(a: string, b: string): boolean {
  return spawnSync('cmp', ['-s', a, b]).status === 0;
}

/** A clock that advances one second per call from `at`, for ledgers with ordered timestamps. */
export function tickingEnvironment(at = '2026-03-14T09:26:53Z'): import('../src/host').Environment {
  return fixedEnvironment(at);
}
