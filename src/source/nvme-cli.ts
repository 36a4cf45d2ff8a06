/**
 * nvme-cli's answers about an NVMe namespace and its controller (NVMe Base Specification 2.0,
 * Identify): `nvme id-ns` (NSZE, NCAP, NUSE and the block size of the LBA format in use) and
 * `nvme id-ctrl` (TNVMCAP, UNVMCAP, model, serial, firmware), in its JSON or its normal output.
 * Capacities beyond 2^53 are read exactly from the text or refused, never rounded.
 */
import { firstMessage, MAX_TOOL_OUTPUT, notParsed as fail, type Parsed, safeCount } from './drive-tools';

/** One unsigned field of nvme-cli's JSON, exactly: big values are read from the text, not from a lossy double. */
function jsonCount(obj: Record<string, unknown>, raw: string, key: string): number | undefined | 'bad' {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v >= 0 ? v : 'bad';
  if (typeof v === 'string') return safeCount(v.trim()) ?? 'bad';
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    // nvme-cli prints 128-bit capacities as bare integers, and some versions as doubles ("123.000000").
    const m = new RegExp(`"${key}"\\s*:\\s*(\\d{1,40})(?:\\.0+)?\\s*[,}\\n]`).exec(raw);
    return m ? (safeCount(m[1]!) ?? 'bad') : 'bad';
  }
  return 'bad';
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** "key : value" lines of nvme-cli's normal output; the first of each key wins. */
function normalFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(0, 10_000)) {
    const m = /^([a-z][a-z0-9_]{0,15})\s*:\s*(.*)$/.exec(line.trimEnd());
    if (m && !out.has(m[1]!)) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** A value of the normal output: "0x773bd2b0", "0x773bd2b0(2000409264)" or "1600321314816". */
function normalCount(v: string | undefined): number | undefined | 'bad' {
  if (v === undefined) return undefined;
  const hex = /^0x([0-9a-f]{1,32})\b/i.exec(v.trim());
  if (hex) {
    const n = BigInt(`0x${hex[1]}`);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : 'bad';
  }
  const dec = /^(\d{1,40})\s*$/.exec(v.trim());
  return dec ? (safeCount(dec[1]!) ?? 'bad') : 'bad';
}

/** Logical block sizes NVMe namespaces use: 512 bytes to 64 KiB (LBADS 9 to 16). */
const validLbads = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 9 && n <= 16;

/**
 * Parses `nvme id-ns DEV -o json` (nvme-cli 1.x/2.x; the normal output is understood too):
 * NSZE, NCAP, NUSE and the block size of the LBA format in use (FLBAS bits 3:0 and 6:5).
 */
export function parseNvmeIdNs(text: string): Parsed<{ nsze: number; ncap?: number; nuse?: number; blockSize: number }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('nvme printed more than 1 MiB');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const o = parseJsonObject(trimmed);
    if (!o) return fail('nvme id-ns printed JSON that does not parse');
    const nsze = jsonCount(o, trimmed, 'nsze');
    const ncap = jsonCount(o, trimmed, 'ncap');
    const nuse = jsonCount(o, trimmed, 'nuse');
    const flbas = jsonCount(o, trimmed, 'flbas');
    if (nsze === undefined || nsze === 'bad' || ncap === 'bad' || nuse === 'bad') return fail('nvme id-ns: NSZE, NCAP or NUSE missing or not a count');
    if (flbas === undefined || flbas === 'bad' || flbas > 255) return fail('nvme id-ns: FLBAS missing or invalid');
    const index = (flbas & 0xf) | (((flbas >> 5) & 0x3) << 4);
    const lbafs = o.lbafs;
    const lbaf = Array.isArray(lbafs) && index < lbafs.length ? (lbafs[index] as Record<string, unknown> | null) : undefined;
    const ds = lbaf && typeof lbaf === 'object' ? lbaf.ds : undefined;
    if (!validLbads(ds)) return fail(`nvme id-ns: LBA format ${index} (in use) has no valid data size`);
    return { ok: true, nsze, ...(ncap !== undefined ? { ncap } : {}), ...(nuse !== undefined ? { nuse } : {}), blockSize: 2 ** ds };
  }
  const f = normalFields(text);
  const nsze = normalCount(f.get('nsze'));
  const ncap = normalCount(f.get('ncap'));
  const nuse = normalCount(f.get('nuse'));
  if (nsze === undefined || nsze === 'bad' || ncap === 'bad' || nuse === 'bad') return fail(firstMessage(text) ?? 'nvme id-ns printed no NSZE');
  const inUse =
    /^\s*lbaf\s+\d+\s*:.*\blbads:(\d+).*\(in use\)/m.exec(text) ?? /^\s*LBA Format\s+\d+\s*:.*Data Size:\s*(\d+)\s*bytes.*\(in use\)/m.exec(text);
  if (!inUse) return fail('nvme id-ns: no LBA format is marked in use');
  const v = Number(inUse[1]);
  const blockSize = inUse[0].includes('lbads:') ? (validLbads(v) ? 2 ** v : undefined) : [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536].includes(v) ? v : undefined;
  if (blockSize === undefined) return fail('nvme id-ns: the LBA format in use has no valid data size');
  return { ok: true, nsze, ...(ncap !== undefined ? { ncap } : {}), ...(nuse !== undefined ? { nuse } : {}), blockSize };
}

/** Parses `nvme id-ctrl DEV -o json` (normal output too): TNVMCAP and UNVMCAP in bytes, model, serial. */
export function parseNvmeIdCtrl(text: string): Parsed<{ tnvmcap?: number; unvmcap?: number; model?: string; serial?: string; firmware?: string }> {
  if (text.length > MAX_TOOL_OUTPUT) return fail('nvme printed more than 1 MiB');
  const trimmed = text.trim();
  let tnvmcap: number | undefined | 'bad';
  let unvmcap: number | undefined | 'bad';
  let strings: (string | undefined)[];
  if (trimmed.startsWith('{')) {
    const o = parseJsonObject(trimmed);
    if (!o) return fail('nvme id-ctrl printed JSON that does not parse');
    tnvmcap = jsonCount(o, trimmed, 'tnvmcap');
    unvmcap = jsonCount(o, trimmed, 'unvmcap');
    strings = ['mn', 'sn', 'fr'].map((k) => (typeof o[k] === 'string' ? (o[k] as string) : undefined));
    if (strings[0] === undefined && tnvmcap === undefined) return fail('nvme id-ctrl printed JSON without controller fields');
  } else {
    const f = normalFields(text);
    if (!f.has('mn') && !f.has('tnvmcap')) return fail(firstMessage(text) ?? 'nvme id-ctrl printed no controller fields');
    tnvmcap = normalCount(f.get('tnvmcap'));
    unvmcap = normalCount(f.get('unvmcap'));
    strings = ['mn', 'sn', 'fr'].map((k) => f.get(k));
  }
  if (tnvmcap === 'bad' || unvmcap === 'bad') return fail('nvme id-ctrl: TNVMCAP or UNVMCAP is not a byte count');
  const [model, serial, firmware] = strings.map((s) => s?.replace(/[\x00-\x1f\x7f]/g, '?').trim().slice(0, 64) || undefined);
  return {
    ok: true,
    ...(tnvmcap !== undefined ? { tnvmcap } : {}),
    ...(unvmcap !== undefined ? { unvmcap } : {}),
    ...(model ? { model } : {}),
    ...(serial ? { serial } : {}),
    ...(firmware ? { firmware } : {}),
  };
}
