/**
 * What a manifest records of the machine: the operating system's name from os-release(5) texts of
 * real systems (test/fixtures/os-release), RFC 3339 offsets and local times, and the system
 * environment agreeing with coreutils and the kernel.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { formatOffset, localTimestamp, parseOsRelease, systemEnvironment } from '../../src/host';
import { ROOT, tool } from '../helpers';

const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'os-release', name), 'utf8');

describe('parseOsRelease on the os-release files of real systems', () => {
  test.each([
    ['debian-12.txt', 'Debian GNU/Linux 12 (bookworm)'],
    ['ubuntu-22.04.txt', 'Ubuntu 22.04.4 LTS'],
    ['alpine-3.19.txt', 'Alpine Linux v3.19'],
    ['fedora-39-container.txt', 'Fedora Linux 39 (Container Image)'],
  ])('%s: PRETTY_NAME is %s', (file, pretty) => {
    expect(parseOsRelease(fixture(file))).toBe(pretty);
  });

  test.each([
    ['debian-12.txt', 'Debian GNU/Linux 12 (bookworm)'],
    ['ubuntu-22.04.txt', 'Ubuntu 22.04.4 LTS (Jammy Jellyfish)'],
    ['fedora-39-container.txt', 'Fedora Linux 39 (Container Image)'],
    // Alpine has no VERSION: the name alone.
    ['alpine-3.19.txt', 'Alpine Linux'],
  ])('%s without its PRETTY_NAME line: NAME and VERSION, %s', (file, name) => {
    const text = fixture(file)
      .split('\n')
      .filter((l) => !l.startsWith('PRETTY_NAME='))
      .join('\n');
    expect(parseOsRelease(text)).toBe(name);
  });

  test('the file of this machine, as the shell reads it: what `. /etc/os-release; echo "$PRETTY_NAME"` prints', () => {
    const shell = tool('sh', ['-c', '. /etc/os-release 2>/dev/null || . /usr/lib/os-release; printf %s "${PRETTY_NAME:-$NAME${VERSION:+ $VERSION}}"']);
    let text: string;
    try {
      text = readFileSync('/etc/os-release', 'utf8');
    } catch {
      text = readFileSync('/usr/lib/os-release', 'utf8');
    }
    expect(parseOsRelease(text)).toBe(shell);
  });
});

describe('parseOsRelease on quoted, escaped and odd texts (os-release(5): shell-style assignments)', () => {
  test('double-quoted values with shell escapes for " $ ` and \\ — decoded as sh decodes them', () => {
    const text = 'PRETTY_NAME="Lab \\"Triage\\" build \\$1 \\`x\\` C:\\\\evidence"\n';
    expect(parseOsRelease(text)).toBe('Lab "Triage" build $1 `x` C:\\evidence');
    expect(parseOsRelease(text)).toBe(tool('sh', ['-c', `${text.trim()}; printf %s "$PRETTY_NAME"`]));
  });

  test('single-quoted and unquoted values; an empty PRETTY_NAME falls back to NAME and VERSION', () => {
    expect(parseOsRelease("PRETTY_NAME='Custom OS 1.0'\n")).toBe('Custom OS 1.0');
    expect(parseOsRelease('PRETTY_NAME=Minimal\n')).toBe('Minimal');
    expect(parseOsRelease('PRETTY_NAME=""\nNAME="Gentoo"\n')).toBe('Gentoo');
    expect(parseOsRelease('NAME=Gentoo\nVERSION=""\n')).toBe('Gentoo');
  });

  test('comments, blank lines, CRLF line ends, indentation and lower-case keys', () => {
    const text = '# written by hand\r\n\r\n  NAME="Slackware"\r\nVERSION="15.0"\r\npretty_name="not a key"\r\n';
    expect(parseOsRelease(text)).toBe('Slackware 15.0');
  });

  test('neither PRETTY_NAME nor NAME: undefined (nothing is invented); empty text too', () => {
    expect(parseOsRelease('ID=debian\nVERSION_ID="12"\n')).toBeUndefined();
    expect(parseOsRelease('')).toBeUndefined();
    expect(parseOsRelease('garbage without equals\n\0\0\0')).toBeUndefined();
  });

  test('a later assignment wins, as in sh', () => {
    expect(parseOsRelease('PRETTY_NAME="first"\nPRETTY_NAME="second"\n')).toBe('second');
  });

  test('bounded: values are cut at 200 characters, and only the first 200 lines are read', () => {
    expect(parseOsRelease(`PRETTY_NAME="${'x'.repeat(5000)}"\n`)).toBe('x'.repeat(200));
    const late = `${'X_PAD=1\n'.repeat(200)}PRETTY_NAME="too late"\nNAME="Never"\n`;
    expect(parseOsRelease(late)).toBeUndefined();
    expect(parseOsRelease(`NAME="Early"\n${late}`)).toBe('Early');
  });
});

describe('RFC 3339 offsets and local times', () => {
  test.each([
    [0, '+00:00'],
    [60, '+01:00'],
    [-300, '-05:00'],
    [330, '+05:30'],
    [345, '+05:45'],
    [-570, '-09:30'],
    [840, '+14:00'],
  ])('formatOffset(%i) is %s', (minutes, text) => {
    expect(formatOffset(minutes)).toBe(text);
  });

  test.each([
    ['2026-03-14T09:26:53Z', 60, '2026-03-14T10:26:53+01:00'],
    ['2026-03-14T09:26:53.999Z', 60, '2026-03-14T10:26:53+01:00'],
    ['2026-12-31T23:30:00Z', 345, '2027-01-01T05:15:00+05:45'],
    ['2026-01-01T02:00:00Z', -300, '2025-12-31T21:00:00-05:00'],
  ])('localTimestamp(%s, %i) is %s', (at, offset, text) => {
    expect(localTimestamp(new Date(at), offset)).toBe(text);
  });

  test('localTimestamp agrees with date(1) in real zones (Kathmandu +05:45, St. John\'s -02:30 in summer)', () => {
    // Known offsets (tz database): the last second of summer time in Berlin is still +02:00.
    for (const [zone, at, known] of [
      ['Asia/Kathmandu', '2026-03-14T09:26:53Z', 345],
      ['America/St_Johns', '2026-07-01T12:00:00Z', -150],
      ['Europe/Berlin', '2026-10-25T00:59:59Z', 120],
    ] as const) {
      const seconds = Date.parse(at) / 1000;
      const z = tool('sh', ['-c', `TZ=${zone} date -d @${seconds} +%z`]).trim();
      const minutes = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
      expect(minutes).toBe(known);
      const expected = tool('sh', ['-c', `TZ=${zone} date -d @${seconds} +%Y-%m-%dT%H:%M:%S%:z`]).trim();
      expect(localTimestamp(new Date(at), minutes)).toBe(expected);
      expect(formatOffset(minutes)).toBe(expected.slice(-6));
    }
  });
});

describe('the system environment', () => {
  test('host facts agree with the kernel and coreutils; os is what parseOsRelease makes of this machine\'s file', () => {
    const h = systemEnvironment.host();
    expect(h.hostname).toBe(hostname());
    expect(h.hostname).toBe(tool('uname', ['-n']).trim());
    expect(h.release).toBe(tool('uname', ['-r']).trim());
    expect(h.osVersion).toBe(tool('uname', ['-v']).trim());
    expect(h.platform).toBe('linux');
    expect(h.os).toBe(parseOsRelease(readFileSync('/etc/os-release', 'utf8')));
  });

  test('the UTC offset of now is date +%z', () => {
    const now = new Date();
    const z = tool('date', ['-d', `@${Math.floor(now.getTime() / 1000)}`, '+%z']).trim();
    expect(formatOffset(systemEnvironment.utcOffsetMinutes(now)).replace(':', '')).toBe(z);
  });

  test('the command line is custos and the arguments', () => {
    expect(systemEnvironment.commandLine()).toEqual(['custos', ...process.argv.slice(2)]);
    expect(systemEnvironment.now().getTime()).toBeLessThanOrEqual(Date.now());
  });
});
