import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editDistance, nearest } from '../../commands/_not-found';
import { hasTool, makeTempDir, pseudoRandomBytes, ROOT, runCli, SAMPLE_IMAGE } from '../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let big: string;
const BIG = 96 << 20;
beforeAll(() => {
  tmp = makeTempDir();
  big = join(tmp.dir, 'big.bin');
  writeFileSync(big, pseudoRandomBytes(BIG, 77));
});
afterAll(() => {
  if (TMUX) tmux(['kill-server']);
  tmp.cleanup();
});

let n = 0;
const outDir = () => {
  const d = join(tmp.dir, `o${n++}`);
  mkdirSync(d);
  return d;
};

// ---------------------------------------------------------------------------------------------
// A real terminal: tmux, on a server of this test's own, without the user's configuration.

const TMUX = hasTool('tmux');
// The server's socket lives in this test's temporary folder, removed with it.
const tmux = (args: string[]) => spawnSync('tmux', ['-S', join(tmp.dir, 'tmux.sock'), '-f', '/dev/null', ...args], { encoding: 'utf8' });
const sh = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs custos in a detached terminal of `width` columns; the pane stays open after it exits ("EXIT=<code>"). */
function terminal(name: string, args: string[], env: Record<string, string> = {}, width = 80, height = 40) {
  const vars = Object.entries({ NODE_ENV: 'production', ...env }).map(([k, v]) => `${k}=${sh(v)}`);
  const command = `cd ${sh(ROOT)} && env -u CUSTOS_PASSPHRASE ${vars.join(' ')} ${sh(process.execPath)} bin/run.js ${args.map(sh).join(' ')}; echo EXIT=$?; sleep 600`;
  const r = tmux(['new-session', '-d', '-x', String(width), '-y', String(height), '-s', name, command]);
  if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
  /** The screen, wrapped lines joined (-J): a line longer than the terminal is one that wrapped. */
  const screen = () => tmux(['capture-pane', '-p', '-J', '-t', name]).stdout.replace(/\s+$/gm, '');
  return {
    screen,
    keys: (...keys: string[]) => tmux(['send-keys', '-t', name, ...keys]),
    async waitFor(re: RegExp, ms = 30000): Promise<string> {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
        const s = screen();
        if (re.test(s)) return s;
      }
      throw new Error(`the terminal never showed ${re}; it shows:\n${screen()}`);
    },
  };
}

const ifTmux = TMUX ? test : test.skip;
if (!TMUX) console.warn('tmux is not installed: the terminal tests (progress on screen, passphrase prompts) are skipped');

describe('progress on an 80-column terminal, as a user sees it', () => {
  ifTmux('one progress line per phase, redrawn in place, never wider than the terminal', async () => {
    const out = outDir();
    const t = terminal('progress', ['acquire', big, '-o', out, '--max-rate', '32MB', '--verify', '--hash', 'md5,sha256']);
    const progressLines = (s: string) => s.split('\n').filter((l) => /^(\[[#-]+\] )?(acquire|verify image)\s.*%/.test(l));

    // Mid-run: the bar is being redrawn; there must be one line of it, whatever the number of updates so far.
    const mid = await t.waitFor(/acquire\s+\d+\.\d\d MiB \/ 96\.00 MiB\s+\((?!100)\d+\.\d%\)/);
    await sleep(600);
    const later = t.screen();
    for (const s of [mid, later]) {
      expect(progressLines(s)).toHaveLength(1);
      for (const line of s.split('\n')) expect({ line, width: [...line].length <= 80 }).toEqual({ line, width: true });
    }

    const end = await t.waitFor(/^EXIT=\d+$/m);
    expect(end).toMatch(/^EXIT=0$/m);
    expect(end).toContain('custos acquire: complete');
    for (const line of end.split('\n')) expect({ line, width: [...line].length <= 80 }).toEqual({ line, width: true });
    const lines = progressLines(end);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[#{5,}\] acquire\s+96\.00 MiB \/ 96\.00 MiB\s+\(100\.0%\)\s+\d+\.\d MB\/s\s+ETA 0:00:00$/);
    expect(lines[1]).toMatch(/^(\[#+\] )?verify image\s+.*100\.0%/);
    // The rate shown agrees with --max-rate (32 MB/s, give or take the first chunk).
    const rate = Number(/(\d+\.\d) MB\/s/.exec(lines[0]!)![1]);
    expect(rate).toBeGreaterThan(20);
    expect(rate).toBeLessThan(40);
  });

  ifTmux('Ctrl-C: the echoed ^C and the message do not break the bar; one line, then the message above it', async () => {
    const out = outDir();
    const t = terminal('ctrl-c', ['acquire', big, '-o', out, '--max-rate', '32MB', '--hash', 'md5']);
    await t.waitFor(/acquire\s+\d+\.\d\d MiB \/ 96\.00 MiB\s+\((?!0\.0)\d+\.\d%\)/);
    t.keys('C-c');
    const s = await t.waitFor(/^EXIT=\d+$/m);
    const lines = s.split('\n');
    expect(lines[0]).toMatch(/^custos: SIGINT received: finishing the chunks in flight/);
    expect(lines[1]).toMatch(/^\[[#-]+\] acquire\s+\d+\.\d\d MiB \/ 96\.00 MiB\s+\(\d+\.\d%\)\s+\d+\.\d MB\/s\s+ETA \S+$/);
    expect(lines[2]).toMatch(/^custos: error: acquisition interrupted after \d+ of 100663296 bytes/);
    expect(lines[3]).toBe('EXIT=130');
    expect(lines).toHaveLength(4);
    expect([...lines[1]!].length).toBeLessThanOrEqual(80);
  });

  ifTmux('a 40-column terminal gets a shorter line, still one and still inside', async () => {
    const out = outDir();
    const t = terminal('narrow', ['acquire', big, '-o', out, '--max-rate', '200MB', '--hash', 'md5'], {}, 40);
    const end = await t.waitFor(/^EXIT=\d+$/m);
    expect(end).toMatch(/^EXIT=0$/m);
    const lines = end.split('\n').filter((l) => /^acquire\s.*%/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^acquire 100\.0%/);
    expect([...lines[0]!].length).toBeLessThanOrEqual(37);
  });
});

describe('--progress modes', () => {
  /** stderr lines of type progress, and everything else. */
  const parse = (stderr: string) => {
    const objects = stderr.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { progress: objects.filter((o) => o.type === 'progress'), notes: objects.filter((o) => o.type === 'note') };
  };

  /** Within each phase: bytes and time never go back, one final object, last. */
  const checkPhases = (progress: Record<string, unknown>[], total: number): string[] => {
    const phases: string[] = [];
    for (const o of progress) if (phases.at(-1) !== o.phase) phases.push(o.phase as string);
    for (const phase of phases) {
      const own = progress.filter((o) => o.phase === phase);
      expect(new Set(own.map((o) => o.phase)).size).toBe(1);
      expect(own.filter((o) => o.final)).toEqual([own.at(-1)]);
      for (let i = 1; i < own.length; i++) {
        expect(own[i]!.bytesDone as number).toBeGreaterThanOrEqual(own[i - 1]!.bytesDone as number);
        expect(own[i]!.elapsedSeconds as number).toBeGreaterThanOrEqual(own[i - 1]!.elapsedSeconds as number);
      }
      for (const o of own) {
        expect(o).toMatchObject({ bytesTotal: total, readErrorRanges: 0, readErrorBytes: 0 });
        expect(o.bytesDone as number).toBeLessThanOrEqual(total);
        expect(typeof o.bytesPerSecond).toBe('number');
        expect(o.etaSeconds === null || typeof o.etaSeconds === 'number').toBe(true);
      }
      expect(own.at(-1)).toMatchObject({ bytesDone: total, etaSeconds: 0, final: true });
    }
    return phases;
  };

  test('--progress json with --json: JSON lines on stderr (monotonic, a final one per phase), the result on stdout', () => {
    const out = outDir();
    const r = runCli(['acquire', big, '-o', out, '--max-rate', '48MB', '--verify', '--hash', 'md5', '--progress', 'json', '--json']);
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.status).toBe('complete');
    const { progress, notes } = parse(r.stderr);
    expect(notes).toEqual([]);
    expect(checkPhases(progress, BIG)).toEqual(['acquire', 'verify image']);
    // 96 MiB at 48 MB/s takes about 2 s: a first object, about one a second, and the final one.
    const acquire = progress.filter((o) => o.phase === 'acquire');
    expect(acquire.length).toBeGreaterThanOrEqual(3);
    const final = acquire.at(-1)!;
    expect(final.elapsedSeconds as number).toBeGreaterThan(1.2);
    expect(final.bytesPerSecond as number).toBeGreaterThan(30e6);
    expect(final.bytesPerSecond as number).toBeLessThan(60e6);
    // The rate and time agree with the acquisition's own record.
    expect(result.durations.acquireSeconds).toBeGreaterThanOrEqual(final.elapsedSeconds as number);
  });

  test('messages become JSON lines too under --progress json', () => {
    const r = runCli(['acquire', SAMPLE_IMAGE, '-o', join(tmp.dir, 'fresh'), '--progress', 'json']);
    expect(r.status).toBe(0);
    const { progress, notes } = parse(r.stderr);
    expect(notes).toEqual([{ type: 'note', message: `created output folder ${join(tmp.dir, 'fresh')}` }]);
    expect(progress.at(-1)).toMatchObject({ phase: 'acquire', final: true });
  });

  test('hash: one display for all files, bytes of the files before plus the current one', () => {
    const small = join(tmp.dir, 'small.bin');
    writeFileSync(small, pseudoRandomBytes(5 << 20, 5));
    const r = runCli(['hash', '-a', 'md5', '--progress', 'json', small, big, small]);
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);
    const { progress } = parse(r.stderr);
    expect(checkPhases(progress, BIG + (10 << 20))).toEqual(['hash']);
  });

  test('--json alone shows no progress; an explicit --progress line is honoured; --no-progress and --progress none are silent', () => {
    const quiet = runCli(['acquire', SAMPLE_IMAGE, '-o', outDir(), '--json']);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
    const line = runCli(['acquire', SAMPLE_IMAGE, '-o', outDir(), '--json', '--progress', 'line']);
    expect(line.status).toBe(0);
    expect(JSON.parse(line.stdout).status).toBe('complete');
    expect(line.stderr).toMatch(/^acquire\s+\d+\.\d\d MiB \/ \d+\.\d\d MiB\s+\(100\.0%\).*read errors: 0\n$/);
    const manifest = JSON.parse(line.stdout).manifestPath as string;
    // A verify of the sample with an explicit line mode prints its last line; every way of turning progress off prints nothing.
    expect(runCli(['verify', manifest, '--progress', 'line']).stderr).toMatch(/^verify image .*\(100\.0%\).*\n$/);
    for (const [args, env] of [
      [['--no-progress'], {}],
      [['--progress', 'none'], {}],
      [['--progress', 'line', '--no-progress'], {}],
      [['--no-progress'], { CUSTOS_PROGRESS: 'line' }],
      [[], { CUSTOS_PROGRESS: 'none' }],
    ] as [string[], NodeJS.ProcessEnv][]) {
      const r = runCli(['verify', manifest, ...args], { env });
      expect({ args, env, status: r.status, stderr: r.stderr }).toEqual({ args, env, status: 0, stderr: '' });
    }
    const env = runCli(['verify', manifest], { env: { CUSTOS_PROGRESS: 'json' } });
    expect(parse(env.stderr).progress.at(-1)).toMatchObject({ phase: 'verify image', final: true });
  });

  test('--help documents the modes on every command that shows progress', () => {
    for (const cmd of ['acquire', 'verify', 'hash']) {
      const help = runCli([cmd, '--help']).stdout;
      for (const s of ['--progress=<option>', 'auto|bar|line|json|none', 'CUSTOS_PROGRESS', '--no-progress', 'one JSON object per line', 'none with --json']) {
        expect({ cmd, s, found: help.includes(s) }).toEqual({ cmd, s, found: true });
      }
    }
  });
});

describe('command typos', () => {
  const oneLine = (args: string[]) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(2);
    return r.stderr.trimEnd();
  };

  test('a typo names the command meant, exit 2, for commands and for topics', () => {
    expect(oneLine(['aquire', '/dev/sdb', '-o', '/cases/x'])).toBe("custos: error: unknown command 'aquire'. Did you mean acquire? 'custos --help' lists every command.");
    expect(oneLine(['ledger', 'verfy', '--case-dir', tmp.dir])).toBe("custos: error: unknown command 'ledger verfy'. Did you mean ledger verify? 'custos --help' lists every command.");
    expect(oneLine(['leger', 'verify'])).toContain('Did you mean ledger verify?');
    expect(oneLine(['identity', 'lsit'])).toContain('Did you mean identity list?');
    expect(oneLine(['verfiy'])).toContain('Did you mean verify?');
    expect(oneLine(['acq'])).toContain('Did you mean acquire?');
  });

  test('nothing near: no guess, only where the commands are listed', () => {
    expect(oneLine(['zzz'])).toBe("custos: error: unknown command 'zzz'. 'custos --help' lists every command.");
    expect(oneLine(['ledger', 'frobnicate'])).toBe("custos: error: unknown command 'ledger frobnicate'. 'custos --help' lists every command.");
  });

  test('under --json the error is JSON on stdout as well', () => {
    const r = runCli(['aquire', '--json']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'USAGE', kind: 'usage', message: "unknown command 'aquire'", hint: "Did you mean acquire? 'custos --help' lists every command.", exitCode: 2 },
    });
  });

  test('edit distance: known answers (optimal string alignment)', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('verfiy', 'verify')).toBe(1); // one transposition
    expect(editDistance('ca', 'abc')).toBe(3); // OSA, unlike true Damerau-Levenshtein (2)
    expect(editDistance('acquire', 'acquire')).toBe(0);
    expect(editDistance('abcdefgh', 'zzzzzzzz', 2)).toBe(3); // gave up past the limit
    expect(nearest('hsah', ['hash', 'info', 'verify'])).toEqual({ distance: 1, names: ['hash'] });
    expect(nearest('zzz', ['hash', 'info'])).toEqual({ distance: Infinity, names: [] });
  });
});

describe('flag values from the environment', () => {
  const fails = (args: string[], env: NodeJS.ProcessEnv, code = 2) => {
    const r = runCli(args, { env });
    expect({ args, env, status: r.status }).toEqual({ args, env, status: code });
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^custos: error: /);
    return lines[0]!;
  };
  const acquire = (...extra: string[]) => ['acquire', SAMPLE_IMAGE, '-o', join(tmp.dir, 'never'), ...extra];

  test('a bad value from the environment names the variable, the flag and what a good value looks like', () => {
    expect(fails(acquire(), { CUSTOS_RETRIES: 'abc' })).toBe(
      "custos: error: CUSTOS_RETRIES='abc' in the environment (the value of --retries): expected an integer but received: abc. Use a whole number from 0 to 100, e.g. CUSTOS_RETRIES=2. Correct or unset CUSTOS_RETRIES, or give --retries on the command line, which takes precedence.",
    );
    expect(fails(acquire('--format', 'split'), { CUSTOS_SPLIT_SIZE: 'lots' })).toBe(
      "custos: error: CUSTOS_SPLIT_SIZE='lots' in the environment (the value of --split-size): --split-size 'lots' is not a size. Write it like 650MiB, 4GB, 2G or 1048576 (bytes). Correct or unset CUSTOS_SPLIT_SIZE, or give --split-size on the command line, which takes precedence.",
    );
    const hash = fails(acquire(), { CUSTOS_HASH: 'md5,crc' });
    expect(hash).toMatch(/^custos: error: CUSTOS_HASH='md5,crc' in the environment \(the value of --hash\): unknown hash algorithm 'crc'\. Use a comma-separated list of: md5, sha1, sha256/);
    expect(fails(acquire(), { CUSTOS_FORMAT: 'zip' })).toContain("CUSTOS_FORMAT='zip' in the environment (the value of --format): 'zip' is not one of raw, split, e01. For example CUSTOS_FORMAT=raw.");
    expect(fails(acquire(), { CUSTOS_MAX_RATE: 'fast' })).toContain("CUSTOS_MAX_RATE='fast'");
    expect(fails(acquire(), { CUSTOS_CASE_FILE: join(tmp.dir, 'nope.json') }, 3)).toContain(`CUSTOS_CASE_FILE='${join(tmp.dir, 'nope.json')}' in the environment (the value of --case-file): ${join(tmp.dir, 'nope.json')}: no such file`);
    expect(fails(['hash', SAMPLE_IMAGE], { CUSTOS_HASH: 'crc' })).toContain("CUSTOS_HASH='crc'");
    expect(fails(['verify', SAMPLE_IMAGE, '--expect', 'md5=00'], { CUSTOS_HASH: 'crc' })).toContain("CUSTOS_HASH='crc'");
    expect(fails(['verify', SAMPLE_IMAGE], { CUSTOS_PROGRESS: 'fancy' })).toContain("CUSTOS_PROGRESS='fancy' in the environment (the value of --progress): 'fancy' is not one of auto, bar, line, json, none.");
  });

  test('the same bad value on the command line names the flag, not the variable (short names and --flag=value too)', () => {
    for (const [args, env] of [
      [acquire('--retries', 'abc'), {}],
      [acquire('--retries=abc'), { CUSTOS_RETRIES: 'abc' }],
      [acquire('--retries', 'abc'), { CUSTOS_RETRIES: '3' }],
    ] as [string[], NodeJS.ProcessEnv][]) {
      const line = fails(args, env);
      expect(line).toBe("custos: error: --retries: expected an integer but received: abc. Use a whole number from 0 to 100, e.g. --retries 2. See 'custos acquire --help'.");
    }
    const crc = fails(acquire('-a', 'crc'), { CUSTOS_HASH: 'crc' });
    expect(crc).toContain("unknown hash algorithm 'crc'");
    expect(crc).not.toContain('CUSTOS_HASH');
  });

  test('a good value on the command line wins over a bad one in the environment', () => {
    const r = runCli(['acquire', SAMPLE_IMAGE, '-o', outDir(), '--retries', '1', '--hash', 'md5', '--no-progress'], { env: { CUSTOS_RETRIES: 'abc', CUSTOS_HASH: 'crc' } });
    expect(r.status).toBe(0);
  });

  test('under --json the error names the variable too', () => {
    const r = runCli(acquire('--json'), { env: { CUSTOS_RETRIES: 'abc' } });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'USAGE', message: expect.stringContaining("CUSTOS_RETRIES='abc'"), hint: expect.stringContaining('Correct or unset CUSTOS_RETRIES') });
  });
});

describe('passphrase prompts', () => {
  const PASS = 'correct horse battery';
  let home: string;
  let caseDir: string;
  let fingerprint: string;
  beforeAll(() => {
    home = join(tmp.dir, 'home');
    caseDir = join(tmp.dir, 'case');
    const env = { CUSTOS_HOME: home, CUSTOS_PASSPHRASE: PASS };
    const created = runCli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'forensic examiner', '--json'], { env });
    expect(created.status).toBe(0);
    fingerprint = JSON.parse(created.stdout).fingerprint;
    expect(runCli(['case', 'init', caseDir, '--case', 'C-1'], { env }).status).toBe(0);
  });
  const entries = () => readFileSync(join(caseDir, 'custody.jsonl'), 'utf8').trimEnd().split('\n').length;
  const prompt = () => `Passphrase for Alex Morgan (forensic examiner, ${fingerprint.slice(0, 8)}…):`;

  ifTmux('names the identity; a wrong passphrase is asked again; the right one on the third try signs', async () => {
    const before = entries();
    const t = terminal('pass-ok', ['ledger', 'note', 'seal intact', '--case-dir', caseDir], { CUSTOS_HOME: home }, 100);
    await t.waitFor(new RegExp(`^${escapeRegExp(prompt())}$`, 'm'));
    t.keys('wrong one', 'Enter');
    await t.waitFor(/2 tries left/);
    t.keys('wrong two', 'Enter');
    await t.waitFor(/1 try left/);
    t.keys(PASS, 'Enter');
    const s = await t.waitFor(/^EXIT=\d+$/m);
    expect(s.split('\n')).toEqual([
      prompt(),
      'custos: wrong passphrase for Alex Morgan; 2 tries left',
      prompt(),
      'custos: wrong passphrase for Alex Morgan; 1 try left',
      prompt(),
      `recorded entry #${before} (note) signed by Alex Morgan`,
      'EXIT=0',
    ]);
    expect(entries()).toBe(before + 1);
  });

  ifTmux('three wrong passphrases: WRONG_PASSPHRASE (exit 3), nothing recorded', async () => {
    const before = entries();
    const t = terminal('pass-bad', ['ledger', 'note', 'never', '--case-dir', caseDir], { CUSTOS_HOME: home }, 200);
    for (const left of ['2 tries left', '1 try left']) {
      await t.waitFor(new RegExp(`${escapeRegExp(prompt())}$`));
      t.keys('nope', 'Enter');
      await t.waitFor(new RegExp(left));
    }
    t.keys('still nope', 'Enter');
    const s = await t.waitFor(/^EXIT=\d+$/m);
    expect(s).toMatch(/^EXIT=3$/m);
    expect(s).toContain(`custos: error: 3 wrong passphrases for Alex Morgan (${fingerprint.slice(0, 8)}…). Run the command again`);
    expect(s.split('\n').filter((l) => l === prompt())).toHaveLength(3);
    expect(s).not.toContain('nope'); // nothing typed is echoed
    expect(entries()).toBe(before);
  });

  ifTmux('CUSTOS_PASSPHRASE is used once, never retried, even on a terminal', async () => {
    const t = terminal('pass-env', ['ledger', 'note', 'x', '--case-dir', caseDir], { CUSTOS_HOME: home, CUSTOS_PASSPHRASE: 'wrong' }, 200);
    const s = await t.waitFor(/^EXIT=\d+$/m);
    expect(s).toMatch(/^EXIT=3$/m);
    expect(s).not.toContain('Passphrase for');
    expect(s).toContain('wrong passphrase');
  });

  test('an unknown identity is named before any passphrase is asked, with the variable it came from', () => {
    const r = runCli(['ledger', 'note', 'x', '--case-dir', caseDir], { env: { CUSTOS_HOME: home, CUSTOS_IDENTITY: 'Sam Lee', CUSTOS_PASSPHRASE: '' } });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^custos: error: CUSTOS_IDENTITY='Sam Lee' in the environment \(the value of --identity\): identity 'Sam Lee' not found\./);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
