/**
 * Running the drive tools (src/source/drive-tools.ts): real processes for the runner (a missing
 * tool, exit status and output, too much output, the C locale, sbin on the path), and the reasons
 * shown for a failed run, on the recorded failures of the test machine.
 */
import { type CommandResult, failedRun, firstMessage, MAX_TOOL_OUTPUT, safeCount, systemRunner } from '../../../src/source/drive-tools';
import { recorded } from './hidden-areas-fixtures';

describe('the real tools', () => {
  test('a tool that is not installed is reported as such', () => {
    expect(systemRunner('custos-no-such-tool', ['-N', '/dev/null'])).toMatchObject({ error: 'not-installed' });
  });

  test('exit status, stdout and stderr come back as the tool left them', () => {
    expect(systemRunner('sh', ['-c', 'printf out; printf err >&2; exit 3'])).toEqual({ status: 3, stdout: 'out', stderr: 'err' });
  });

  test('more output than any identify command prints is cut off and said', () => {
    const r = systemRunner('head', ['-c', String(MAX_TOOL_OUTPUT + 1), '/dev/zero']);
    expect(r.error).toBe('too-much-output');
  });

  test('tools run in the C locale (no digit grouping, English messages), with the sbin folders on the path', () => {
    expect(systemRunner('sh', ['-c', 'printf %s "$LC_ALL"']).stdout).toBe('C');
    expect(systemRunner('sh', ['-c', 'printf %s "$PATH"']).stdout.split(':')).toEqual(expect.arrayContaining(['/usr/local/sbin', '/usr/sbin', '/sbin']));
  });
});

describe('reasons for a run without an answer', () => {
  test('the first line that says something, without control characters or the "/dev/x:" header, cut to one line', () => {
    expect(firstMessage('\n/dev/sdb:\n SG_IO: bad/missing sense data\n')).toBe('SG_IO: bad/missing sense data');
    expect(firstMessage('a\x1b[2Jb\n')).toBe('a [2Jb');
    expect(firstMessage(`${'x'.repeat(300)}\n`)).toBe(`${'x'.repeat(157)}...`);
    expect(firstMessage('\n  \n/dev/loop0:\n')).toBeUndefined();
  });

  test('a failed run names the tool, its first argument and what it said', () => {
    const eperm = recorded('hdparm-N-vda-eperm.json');
    expect(failedRun('hdparm', ['-N', '/dev/vda'], eperm)).toBe('hdparm -N exited 1: /dev/vda: Operation not permitted');
    const killed: CommandResult = { status: null, stdout: '', stderr: '' };
    expect(failedRun('nvme', ['id-ns', '/dev/nvme0n1'], killed)).toBe('nvme id-ns was killed');
    expect(failedRun('hdparm', ['-N', '/dev/sdb'], { ...killed, error: 'timed-out' })).toBe('hdparm -N did not finish within 30 s');
    expect(failedRun('hdparm', ['-N', '/dev/sdb'], { ...killed, error: 'too-much-output' })).toBe('hdparm -N printed more than 1 MiB');
    expect(failedRun('hdparm', ['-N', '/dev/sdb'], { ...killed, error: 'failed-to-start' })).toBe('hdparm could not be started');
  });

  test('counts are exact or refused: nothing beyond 2^53 - 1, nothing but digits', () => {
    expect(safeCount('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(safeCount('9007199254740992')).toBeUndefined();
    expect(safeCount('12a')).toBeUndefined();
    expect(safeCount('')).toBeUndefined();
    expect(safeCount('1'.repeat(41))).toBeUndefined();
  });
});
