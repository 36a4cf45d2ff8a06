/**
 * The project's fault-injection harness (README.md beside this file): a read-only source with
 * unreadable sectors at exact byte ranges, served by nbdkit and presented as a FUSE regular file
 * (libnbd's nbdfuse) and, optionally, as a read-only loop device with direct I/O. The source can
 * fail as a whole (every read an error) or disconnect (its server killed) and come back.
 *
 * Stack: nbdkit PLUGIN --filter=error --filter=ddrescue [--filter=rate] on a Unix socket
 *        -> nbdfuse over a regular file ("naked" mount point) -> losetup -r --direct-io=on.
 *
 * Everything is started here, recorded (process ids and loop devices, in memory and in the
 * state folder's state.json) and stopped here: stop() ends exactly the processes it started and
 * detaches exactly its loop devices; stopAll() runs on process exit; folders left by a run that
 * died are reaped on the next start, again only processes whose command line names that folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A range of bytes of the source. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** What the source holds (an nbdkit plugin); the bytes are the same every time it is served. */
export type Content =
  /** nbdkit-random-plugin: pseudo-random bytes from a seed. */
  | { kind: 'random'; seed?: number }
  /** nbdkit-pattern-plugin: every 8 bytes hold their own offset, big-endian. */
  | { kind: 'pattern' }
  /** nbdkit-memory-plugin, never written: zeros. */
  | { kind: 'zero' }
  /** nbdkit-file-plugin, read-only: the bytes of a file. */
  | { kind: 'file'; path: string };

export interface FaultyOptions {
  /** Bytes; required unless the content is a file (then its size). */
  size?: number;
  /** Default: random bytes, seed 1. */
  content?: Content;
  /** Unreadable byte ranges (every read touching one fails with EIO); 512-byte aligned for exact sectors. */
  bad?: readonly ByteRange[];
  /** Also attach a read-only loop device (needs root). */
  loop?: boolean;
  /** Loop device with direct I/O (default true): O_DIRECT readers see 512-byte error granularity, else 4 KiB. */
  directIo?: boolean;
  /**
   * Upper bound on the read rate in bytes per second (nbdkit-rate-filter, with bursts of at most
   * 0.1 s worth), so that a run lasts long enough to be interrupted.
   */
  rate?: number;
  /** The error every read returns after fail(): EIO (a medium that died) or ESHUTDOWN (a connection shut down). */
  failWith?: 'EIO' | 'ESHUTDOWN';
}

/** How a source disconnects: its NBD server dies, its FUSE daemon dies, or both. */
export type DisconnectHow = 'server' | 'fuse' | 'both';

/** Root of the state folders, one per source. */
export const STATE_ROOT = join(tmpdir(), 'custos-faults');

const live = new Set<FaultySource>();
let counter = 0;
let reaped = false;

/**
 * Why the harness cannot run here (naming the Debian package or root), or undefined when it can.
 * `loop`: loop devices are wanted too.
 */
export function faultSkipReason(o: { loop?: boolean } = {}): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root (FUSE mounts and loop devices need root; CI runs as root)';
  if (!hasTool('nbdkit')) return 'nbdkit missing (apt-get install nbdkit)';
  if (!hasTool('nbdfuse') || !hasTool('nbdcopy')) return 'nbdfuse or nbdcopy missing (apt-get install libnbd-bin)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse (the kernel FUSE device: modprobe fuse; in a container, pass the device /dev/fuse; apt-get install fuse3)';
  const filters = spawnSync('nbdkit', ['--filter=error', '--filter=ddrescue', '--filter=rate', 'null', '--dump-plugin'], { encoding: 'utf8' });
  if (filters.status !== 0) return `nbdkit lacks the error, ddrescue or rate filter (apt-get install nbdkit): ${filters.stderr.trim()}`;
  if (o.loop && (!hasTool('losetup') || !hasTool('blockdev'))) return 'losetup or blockdev missing (apt-get install mount util-linux)';
  return undefined;
}

/** Stops every source this process started and has not stopped yet. */
export function stopAll(): void {
  for (const s of [...live]) s.stop();
}
process.once('exit', stopAll);

/** A running faulty source. */
export class FaultySource {
  /** The state folder: mapfile, socket, logs, pid files, state.json. */
  readonly dir: string;
  /** The FUSE regular file that presents the source. */
  readonly file: string;
  readonly size: number;
  /** Sorted, merged unreadable ranges. */
  readonly badRanges: ByteRange[];
  /** The read-only loop device over `file`, when asked for. */
  loop?: string;
  private readonly options: FaultyOptions;
  private readonly content: Content;
  private server?: number;
  private fuse?: number;
  /** Every process id this source ever started (for the record in state.json and for reaping). */
  private readonly started: number[] = [];
  private stopped = false;

  private constructor(options: FaultyOptions) {
    this.options = options;
    this.content = options.content ?? { kind: 'random', seed: 1 };
    this.size = this.content.kind === 'file' ? statSync(this.content.path).size : (options.size ?? NaN);
    if (!Number.isSafeInteger(this.size) || this.size <= 0) throw new Error(`faulty source: size ${options.size} is not a positive number of bytes`);
    this.badRanges = mergeRanges(options.bad ?? [], this.size);
    this.dir = join(STATE_ROOT, `${process.pid}-${++counter}`);
    this.file = join(this.dir, 'disk');
  }

  /** Starts nbdkit, nbdfuse and (if asked) the loop device; waits until the file has its size. */
  static start(options: FaultyOptions): FaultySource {
    if (!reaped) {
      reaped = true;
      reapStale();
    }
    const s = new FaultySource(options);
    mkdirSync(s.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(s.dir, 'map'), ddrescueMap(s.badRanges, s.size));
    live.add(s);
    try {
      s.serve();
    } catch (err) {
      s.stop();
      throw err;
    }
    return s;
  }

  /** Process ids running now for this source (NBD server, FUSE daemon). */
  get pids(): number[] {
    return [this.server, this.fuse].filter((p): p is number => p !== undefined && isAlive(p));
  }

  /** Every process id this source started, alive or not. */
  get startedPids(): number[] {
    return [...this.started];
  }

  /** From now on every read fails with `failWith` (nbdkit-error-filter, error-pread-file trigger). */
  fail(): void {
    writeFileSync(join(this.dir, 'fail'), '');
  }

  /** Reads work again (the trigger file is removed). */
  heal(): void {
    rmSync(join(this.dir, 'fail'), { force: true });
  }

  /** Changes the read-rate limit of the running server (bytes per second; nbdkit-rate-filter rate-file). */
  setRate(bytesPerSecond: number): void {
    if (this.options.rate === undefined) throw new Error('faulty source: started without a rate limit');
    const tmp = join(this.dir, 'rate.new');
    writeFileSync(tmp, `${Math.max(1, Math.round(bytesPerSecond * 8))}\n`);
    renameSync(tmp, join(this.dir, 'rate'));
  }

  /**
   * The source disappears: SIGKILL to the NBD server (a dropped network disk: reads through the
   * FUSE file and the loop device fail), to the FUSE daemon (the mount is dead: ENOTCONN), or both.
   */
  disconnect(how: DisconnectHow = 'server'): void {
    const victims = [how !== 'fuse' ? this.server : undefined, how !== 'server' ? this.fuse : undefined].filter((p): p is number => p !== undefined);
    for (const p of victims) signal(p, 'SIGKILL');
    for (const p of victims) waitDead(p, 5000);
  }

  /**
   * The source comes back with the same bytes on the same path: the loop device is detached
   * and attached again (the same device number when it is still free), the dead mount is
   * unmounted, and nbdkit and nbdfuse are started again on the same file.
   */
  reconnect(): void {
    const previousLoop = this.loop;
    this.teardown();
    this.heal();
    this.serve(previousLoop);
  }

  /** The bytes a perfect acquisition yields: the plugin read without filters (nbdcopy), bad ranges zeroed. */
  expectedBytes(): Buffer {
    const r = spawnSync('nbdcopy', ['--', '[', 'nbdkit', '-r', ...this.pluginArgs(), ']', '-'], { maxBuffer: this.size + (1 << 20) });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`nbdcopy failed: ${r.stderr.toString()}`);
    const bytes = r.stdout;
    if (bytes.length !== this.size) throw new Error(`nbdcopy gave ${bytes.length} bytes, not ${this.size}`);
    for (const b of this.badRanges) bytes.fill(0, b.offset, b.offset + b.length);
    return bytes;
  }

  /** Hex digests (node:crypto) of expectedBytes(), keyed by algorithm name. */
  expectedHashes(algorithms: readonly string[] = ['md5', 'sha1', 'sha256']): Record<string, string> {
    const bytes = this.expectedBytes();
    return Object.fromEntries(algorithms.map((a) => [a, createHash(a).update(bytes).digest('hex')]));
  }

  /** Writes expectedBytes() to `path`, for cmp. */
  writeExpected(path: string): void {
    writeFileSync(path, this.expectedBytes(), { flag: 'wx' });
  }

  /** Detaches the loop device, unmounts the file, ends the processes it started, removes the state folder. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.teardown();
    } finally {
      live.delete(this);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private pluginArgs(): string[] {
    const c = this.content;
    switch (c.kind) {
      case 'random':
        return ['random', `size=${this.size}`, `seed=${c.seed ?? 1}`];
      case 'pattern':
        return ['pattern', `size=${this.size}`];
      case 'zero':
        return ['memory', `size=${this.size}`];
      case 'file':
        return ['file', `file=${c.path}`];
    }
  }

  private serve(preferredLoop?: string): void {
    const d = this.dir;
    for (const f of ['nbd.sock', 'nbdkit.pid', 'nbdfuse.pid']) rmSync(join(d, f), { force: true });
    const rate = this.options.rate;
    const nbdkitArgs = [
      '-f',
      '-r',
      '--exit-with-parent',
      '-U',
      join(d, 'nbd.sock'),
      '-P',
      join(d, 'nbdkit.pid'),
      '--filter=error',
      '--filter=ddrescue',
      ...(rate !== undefined ? ['--filter=rate'] : []),
      ...this.pluginArgs(),
      `ddrescue-mapfile=${join(d, 'map')}`,
      `error-pread=${this.options.failWith ?? 'EIO'}`,
      'error-pread-rate=100%',
      `error-pread-file=${join(d, 'fail')}`,
      // The token bucket starts full: a short burst keeps the first reads within the rate too.
      ...(rate !== undefined ? [`rate=${Math.max(1, Math.round(rate * 8))}`, `rate-file=${join(d, 'rate')}`, 'burstiness=0.1'] : []),
    ];
    this.server = this.daemon('nbdkit', nbdkitArgs, 'nbdkit');
    writeFileSync(this.file, '');
    this.fuse = this.daemon('nbdfuse', ['-r', '-P', join(d, 'nbdfuse.pid'), this.file, '--unix', join(d, 'nbd.sock')], 'nbdfuse');
    const deadline = Date.now() + 10_000;
    while (statSync(this.file).size !== this.size) {
      if (Date.now() > deadline) throw new Error(`faulty source: ${this.file} did not reach ${this.size} bytes`);
      sleep(20);
    }
    if (this.options.loop) this.attachLoop(preferredLoop);
  }

  /** Starts a daemon in its own session, logging to the state folder, and waits for its pid file. */
  private daemon(cmd: string, args: string[], name: string): number {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    let pid: number | undefined;
    try {
      const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log] });
      child.on('error', () => undefined);
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(log);
    }
    if (pid === undefined) throw new Error(`faulty source: could not start ${cmd}`);
    this.started.push(pid);
    this.record();
    const pidFile = join(this.dir, `${name}.pid`);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(pid)) return pid;
      if (!isAlive(pid) || Date.now() > deadline) {
        signal(pid, 'SIGKILL');
        throw new Error(`faulty source: ${cmd} did not start: ${readFileSync(join(this.dir, `${name}.log`), 'utf8').trim()}`);
      }
      sleep(10);
    }
  }

  private attachLoop(preferred?: string): void {
    const dio = `--direct-io=${this.options.directIo === false ? 'off' : 'on'}`;
    let dev: string | undefined;
    if (preferred) {
      const r = spawnSync('losetup', ['-r', dio, preferred, this.file], { encoding: 'utf8' });
      if (r.status === 0) dev = preferred;
    }
    dev ??= run('losetup', ['-r', '-f', '--show', dio, this.file]);
    this.loop = dev;
    this.record();
    if (run('blockdev', ['--getro', dev]) !== '1') throw new Error(`faulty source: ${dev} is not read-only`);
  }

  /** Loop device off, mount off, processes ended; the state folder stays. */
  private teardown(): void {
    if (this.loop) {
      // The kernel keeps a read-only flag set by BLKROSET across detach; leave the device as found.
      spawnSync('blockdev', ['--setrw', this.loop]);
      spawnSync('losetup', ['-d', this.loop]);
      this.loop = undefined;
      this.record();
    }
    if (isMounted(this.file)) {
      if (spawnSync('umount', [this.file]).status !== 0) spawnSync('umount', ['-l', this.file]);
    }
    // nbdfuse exits by itself once unmounted; nbdkit once asked.
    if (this.fuse !== undefined && !waitDead(this.fuse, 2000)) signal(this.fuse, 'SIGKILL');
    if (this.server !== undefined && isAlive(this.server)) {
      signal(this.server, 'SIGTERM');
      if (!waitDead(this.server, 2000)) signal(this.server, 'SIGKILL');
    }
    for (const p of [this.fuse, this.server]) if (p !== undefined) waitDead(p, 2000);
    this.fuse = undefined;
    this.server = undefined;
  }

  private record(): void {
    if (!existsSync(this.dir)) return;
    writeFileSync(join(this.dir, 'state.json'), `${JSON.stringify({ owner: process.pid, pids: this.started, loop: this.loop ?? null, file: this.file })}\n`);
  }
}

/** Sorted, merged ranges, each checked to lie inside the source. */
export function mergeRanges(ranges: readonly ByteRange[], size: number): ByteRange[] {
  for (const r of ranges) {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < 0 || r.length <= 0 || r.offset + r.length > size) {
      throw new Error(`faulty source: bad range ${r.offset}+${r.length} is not inside ${size} bytes`);
    }
  }
  const out: ByteRange[] = [];
  for (const r of [...ranges].sort((a, b) => a.offset - b.offset)) {
    const last = out[out.length - 1];
    if (last && r.offset <= last.offset + last.length) last.length = Math.max(last.length, r.offset + r.length - last.offset);
    else out.push({ ...r });
  }
  return out;
}

/** A GNU ddrescue mapfile: '+' for the readable gaps, '-' for the bad ranges (nbdkit-ddrescue-filter). */
export function ddrescueMap(bad: readonly ByteRange[], size: number): string {
  const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;
  const lines = ['# Mapfile written by custos test/faults', '# current_pos  current_status  current_pass', '0x0 + 1', '#      pos        size  status'];
  let pos = 0;
  for (const b of bad) {
    if (b.offset > pos) lines.push(`${hex(pos)}\t${hex(b.offset - pos)}\t+`);
    lines.push(`${hex(b.offset)}\t${hex(b.length)}\t-`);
    pos = b.offset + b.length;
  }
  if (pos < size) lines.push(`${hex(pos)}\t${hex(size - pos)}\t+`);
  return `${lines.join('\n')}\n`;
}

/**
 * Cleans up after runs that died without stopping their sources: only state folders whose
 * owner process is gone, only processes whose command line names that folder, only loop
 * devices whose backing file is in it.
 */
function reapStale(): void {
  let dirs: string[];
  try {
    dirs = readdirSync(STATE_ROOT);
  } catch {
    return;
  }
  for (const name of dirs) {
    const dir = join(STATE_ROOT, name);
    let state: { owner?: number; pids?: number[]; loop?: string | null };
    try {
      state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    } catch {
      continue;
    }
    if (typeof state.owner !== 'number' || state.owner === process.pid || isAlive(state.owner)) continue;
    const file = join(dir, 'disk');
    if (state.loop && /^\/dev\/loop\d+$/.test(state.loop)) {
      const backing = readText(`/sys/block/${state.loop.slice(5)}/loop/backing_file`);
      if (backing?.startsWith(`${dir}/`)) {
        spawnSync('blockdev', ['--setrw', state.loop]);
        spawnSync('losetup', ['-d', state.loop]);
      }
    }
    if (isMounted(file)) spawnSync('umount', ['-l', file]);
    for (const p of state.pids ?? []) {
      if (Number.isSafeInteger(p) && isAlive(p) && (readText(`/proc/${p}/cmdline`) ?? '').includes(dir)) signal(p, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

/** True while `pid` runs (a zombie, which nobody has reaped yet, counts as ended). */
export function isAlive(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

function waitDead(pid: number, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    sleep(10);
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function isMounted(path: string): boolean {
  const mounts = readText('/proc/mounts') ?? '';
  return mounts.split('\n').some((l) => l.split(' ')[1]?.replace(/\\040/g, ' ') === path);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
