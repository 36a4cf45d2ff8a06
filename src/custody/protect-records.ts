/**
 * What opening a case protects for the rest of the process: its records (ledger, certificates)
 * and the evidence its entries and the manifests they pin name. Never-write marks only; nothing
 * here reads evidence bytes.
 */
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readBoundedFile } from '../fsutil';
import { protectFile } from '../protect';
import type { LedgerEntry } from './entry';
import { CERTS_DIR, ledgerPath, readEntries } from './storage';
import { TRUST_DIR } from './trust';

/**
 * Marks a case's records and the evidence its ledger names as never-write targets for this
 * process: the ledger, its certificates and trust anchors, and every existing file an entry names as a source,
 * target, output or manifest. So `--out`/`--force` of any command run in the case cannot replace
 * them (a report written over custody.jsonl, a signed head written over an image).
 */
export function protectCaseRecords(dir: string): void {
  const file = ledgerPath(dir);
  const mark = (p: unknown) => {
    if (typeof p !== 'string' || p.length === 0 || p.length > 4096) return;
    try {
      const st = lstatSync(p);
      if (st.isFile()) protectFile(p, st);
    } catch {
      // not there (any more): nothing to protect
    }
  };
  mark(file);
  for (const c of listDir(join(dir, CERTS_DIR))) mark(join(dir, CERTS_DIR, c));
  for (const c of listDir(join(dir, TRUST_DIR))) mark(join(dir, TRUST_DIR, c));
  if (!existsSync(file)) return;
  let entries: LedgerEntry[];
  try {
    entries = readEntries(dir).entries;
  } catch {
    return; // verification reports what is wrong with the ledger; protection takes what it can
  }
  const manifests = new Set<string>();
  for (const e of entries) {
    const d = e.details as Record<string, unknown>;
    mark(d.source);
    mark(d.target);
    const m = d.manifest as { path?: unknown } | undefined;
    mark(m?.path);
    mark((d.results as { path?: unknown } | undefined)?.path);
    if (typeof m?.path === 'string') manifests.add(m.path);
    const outs = d.outputs as { path?: unknown }[] | { first?: { path?: unknown }[] } | undefined;
    for (const f of Array.isArray(outs) ? outs : (outs?.first ?? [])) mark(f?.path);
  }
  // An entry lists only the first files of a large set; the manifest it pins lists them all.
  for (const m of manifests) for (const f of filesOfManifest(m)) mark(f);
}

/** The image files (and hash-window file) a manifest names, beside it; nothing when it cannot be read. */
function filesOfManifest(path: string): string[] {
  let data: { outputs?: unknown; hashWindows?: { file?: unknown } };
  try {
    data = JSON.parse(readBoundedFile(path, 'manifest').toString('utf8')) as typeof data;
  } catch {
    return [];
  }
  const names = [...(Array.isArray(data?.outputs) ? data.outputs.map((o: { name?: unknown } | null) => o?.name) : []), data?.hashWindows?.file];
  // Only plain names: a manifest is untrusted and never points custos outside its own folder.
  return names.filter((n): n is string => typeof n === 'string' && n.length > 0 && n.length <= 255 && n === basename(n) && n !== '.' && n !== '..').map((n) => join(dirname(path), n));
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
