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
    return { hostname: hostname(), user, platform: platform(), release: release(), arch: arch(), osVersion: version() };
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
