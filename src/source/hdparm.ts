/**
 * hdparm's answers about an ATA drive's maximum addresses: `hdparm -N` (READ NATIVE MAX ADDRESS:
 * HPA, or ACS-3's Accessible Max Address), `hdparm --dco-identify` (DEVICE CONFIGURATION
 * IDENTIFY: the DCO's real maximum) and `hdparm -I` (IDENTIFY DEVICE: whether the drive has the
 * DCO feature set). Bounded, never throwing: numbers that passed consistency checks, or a reason.
 */
import { firstMessage, MAX_TOOL_OUTPUT, notParsed as fail, type Parsed, safeCount } from './drive-tools';

/**
 * Parses `hdparm -N DEV` (hdparm 6.9 to 9.65): " max sectors   = VISIBLE/NATIVE, HPA is enabled",
 * "…, HPA is disabled", "…, ACCESSIBLE MAX ADDRESS enabled|disabled" (ACS-3 drives), or
 * "…/NATIVE(DCO?), HPA setting seems invalid" when the drive's answer makes no sense.
 */
export function parseHdparmN(text: string): Parsed<{ visible: number; native: number; feature: 'hpa' | 'accessible-max-address'; enabled: boolean }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('hdparm printed more than 1 MiB');
  const re = /max sectors\s*=\s*(\d+)\s*\/\s*(\d+)(\(\d+\?\))?\s*,\s*(HPA is enabled|HPA is disabled|ACCESSIBLE MAX ADDRESS enabled|ACCESSIBLE MAX ADDRESS disabled|HPA setting seems invalid)/g;
  const found = [...text.matchAll(re)].slice(0, 4);
  if (found.length === 0) return fail(firstMessage(text) ?? 'hdparm printed no "max sectors" line');
  if (found.length > 1 && found.some((m) => m[0] !== found[0]![0])) return fail('hdparm printed more than one, different "max sectors" line');
  const m = found[0]!;
  const visible = safeCount(m[1]!);
  const native = safeCount(m[2]!);
  if (visible === undefined || native === undefined) return fail(`hdparm's sector counts ${m[1]!.slice(0, 24)}/${m[2]!.slice(0, 24)} are out of range`);
  const state = m[4]!;
  if (state === 'HPA setting seems invalid') return fail(`hdparm: max sectors ${visible}/${native}, HPA setting seems invalid`);
  const enabled = state.endsWith('enabled');
  if (enabled !== visible < native) return fail(`hdparm: max sectors ${visible}/${native} contradicts "${state}"`);
  if (native === 0) return fail('hdparm: the drive reports a native maximum of 0 sectors');
  return { ok: true, visible, native, feature: state.startsWith('HPA') ? 'hpa' : 'accessible-max-address', enabled };
}

/** Parses `hdparm --dco-identify DEV`: "Real max sectors: N" from the DCO identify data. */
export function parseDcoIdentify(text: string): Parsed<{ realMax: number }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('hdparm printed more than 1 MiB');
  if (/DCO Checksum FAILED/i.test(text)) return fail('hdparm: the DCO identify data has a bad checksum');
  const found = [...text.matchAll(/Real max sectors:\s*(\d+)/g)].slice(0, 4);
  if (found.length === 0) return fail(firstMessage(text) ?? 'hdparm printed no "Real max sectors" line');
  if (found.some((m) => m[1] !== found[0]![1])) return fail('hdparm printed more than one, different "Real max sectors" line');
  const realMax = safeCount(found[0]![1]!);
  if (realMax === undefined) return fail('hdparm: "Real max sectors" is out of range');
  // All-zero DCO data (a bridge or driver that returned nothing) decodes as 0 + 1.
  if (realMax <= 1) return fail(`hdparm: "Real max sectors: ${realMax}" (the drive returned no DCO data)`);
  return { ok: true, realMax };
}

/**
 * Parses `hdparm -I DEV` for one fact: whether the drive has the DCO feature set (IDENTIFY DEVICE
 * word 83 bit 11, listed under "Commands/features"). Without it no DCO can exist.
 */
export function parseIdentifyDcoSupport(text: string): Parsed<{ supported: boolean }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('hdparm printed more than 1 MiB');
  const start = text.indexOf('Commands/features:');
  if (start < 0) return fail(firstMessage(text) ?? 'hdparm -I printed no feature list');
  return { ok: true, supported: /^\s*\*?\s*Device Configuration Overlay feature set\s*$/m.test(text.slice(start)) };
}
