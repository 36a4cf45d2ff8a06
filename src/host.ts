import { readFileSync } from 'node:fs';
import { arch, hostname, platform, release, userInfo, version } from 'node:os';

/** Facts about the machine an acquisition runs on, for the record. */
export interface HostFacts {
  hostname: string;
  user: string;
  platform: string;
  release: string;
  arch: string;
  /** The kernel's own description (uname -v). */
  osVersion: string;
  /** The operating system's name and version from os-release(5), e.g. "Debian GNU/Linux 12 (bookworm)". */
  os?: string;
}

/** PRETTY_NAME (else NAME and VERSION) from os-release(5) text; undefined when it has neither. */
export function parseOsRelease(text: string): string | undefined {
  const values = new Map<string, string>();
  for (const line of text.split('\n').slice(0, 200)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    values.set(m[1]!, v.slice(0, 200));
  }
  const pretty = values.get('PRETTY_NAME');
  if (pretty) return pretty;
  const name = values.get('NAME');
  return name ? [name, values.get('VERSION')].filter(Boolean).join(' ') : undefined;
}

function osRelease(): string | undefined {
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      const text = readFileSync(f, 'utf8').slice(0, 64 * 1024);
      const name = parseOsRelease(text);
      if (name) return name;
    } catch {
      // try the next location (os-release(5))
    }
  }
  return undefined;
}

/**
 * Everything custos asks of the world outside the evidence: time, host, command line.
 * Injected so that manifests, ledgers and reports are reproducible in tests.
 */
export interface Environment {
  now(): Date;
  host(): HostFacts;
  /** IANA time zone name, e.g. "Europe/Berlin". */
  timeZone(): string;
  /** Minutes east of UTC at instant `d` (so +60 for CET). */
  utcOffsetMinutes(d: Date): number;
  commandLine(): string[];
}

export const systemEnvironment: Environment = {
  now: () => new Date(),
  host: () => {
    let user = process.env.USER ?? '';
    try {
      user = userInfo().username;
    } catch {
      // No passwd entry (containers): keep $USER.
    }
    const os = osRelease();
    return { hostname: hostname(), user, platform: platform(), release: release(), arch: arch(), osVersion: version(), ...(os ? { os } : {}) };
  },
  timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
  utcOffsetMinutes: (d) => -d.getTimezoneOffset(),
  commandLine: () => ['custos', ...process.argv.slice(2)],
};

/** "+01:00" style offset (RFC 3339 §5.6). */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** The instant as local time with its offset, e.g. "2026-03-14T10:26:53+01:00" (RFC 3339). */
export function localTimestamp(d: Date, offsetMinutes: number): string {
  const shifted = new Date(d.getTime() + offsetMinutes * 60_000);
  return shifted.toISOString().replace(/\.\d{3}Z$/, '') + formatOffset(offsetMinutes);
}
