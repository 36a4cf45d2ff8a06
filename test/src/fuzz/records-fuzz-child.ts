/**
 * The records fuzz loop, run by records-fuzz.test.ts in a child node process with a small heap,
 * so unbounded memory fails the run instead of the machine.
 *
 * Usage: node --max-old-space-size=N -r ts-node/register/transpile-only records-fuzz-child.ts KIND BASE WORK SEED COUNT
 * KIND: manifest (BASE holds m.raw, m.windows.json, m.manifest.json), ledger or certificate (BASE
 * is a case folder; BASE/../home holds the identities, passphrase in CUSTOS_PASSPHRASE).
 * Prints one JSON line: outcomes per operation, anything that was not a CustosError, the slowest case.
 */
import { cpSync, linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { custodyReport, acquisitionReport } from '../../../reports';
import { exportForOpenssl } from '../../../src/custody/export';
import { certPublicKey, describeCert, importIdentity, loadSigner, parseCert } from '../../../src/custody/identity';
import { appendEntry, protectCaseRecords, readEntries, verifyLedger } from '../../../src/custody';
import { isCustosError } from '../../../src/errors';
import { readManifest } from '../../../src/manifest/manifest';
import { forgetProtectedEvidence } from '../../../src/protect';
import { verifyTarget } from '../../../src/verify/verify';
import { mutateBytes, mutateJson, Rng } from './mutate';

const [kind, base, work, seedArg, countArg] = process.argv.slice(2) as [string, string, string, string, string];
const r = new Rng(Number(seedArg));
const count = Number(countArg);
const outcomes: Record<string, Record<string, number>> = {};
const others: { case: number; op: string; error: string }[] = [];
let slowest = { case: -1, ms: 0 };

async function attempt(i: number, op: string, fn: () => unknown | Promise<unknown>): Promise<unknown> {
  const tally = (outcomes[op] ??= {});
  if (process.env.FUZZ_TRACE) process.stderr.write(`case ${i} ${op} rss ${Math.round(process.memoryUsage().rss / 1048576)} MiB\n`);
  try {
    const v = await fn();
    tally.ok = (tally.ok ?? 0) + 1;
    return v;
  } catch (err) {
    if (isCustosError(err)) {
      tally[err.code] = (tally[err.code] ?? 0) + 1;
      // One line, naming something: a message users can act on.
      if (err.message.includes('\n') || err.message.length > 2000) others.push({ case: i, op, error: `multi-line or huge message: ${err.message.slice(0, 200)}` });
    } else {
      tally.OTHER = (tally.OTHER ?? 0) + 1;
      others.push({ case: i, op, error: String((err as Error)?.stack ?? err).split('\n').slice(0, 3).join(' | ') });
    }
    return undefined;
  }
}

async function manifestCase(i: number): Promise<void> {
  const dir = join(work, String(i));
  mkdirSync(dir);
  for (const f of ['m.raw', 'm.windows.json']) linkSync(join(base, f), join(dir, f));
  const original = readFileSync(join(base, 'm.manifest.json'));
  const text = r.next() < 0.7 ? Buffer.from(JSON.stringify(mutateJson(JSON.parse(original.toString('utf8')), r), null, 1)) : mutateBytes(original, r);
  const path = join(dir, 'm.manifest.json');
  writeFileSync(path, text);
  const m = await attempt(i, 'readManifest', () => readManifest(path));
  if (!m) return;
  await attempt(i, 'verify', () => verifyTarget(path));
  if (i % 4 === 0) await attempt(i, 'report', () => acquisitionReport(path, { now: new Date(0) }));
}

function mutateLedger(dir: string): void {
  const file = join(dir, 'custody.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const k = r.int(lines.length);
  switch (r.int(7)) {
    case 0:
      lines.splice(k, 1);
      break;
    case 1:
      lines.splice(k, 0, lines[k]!);
      break;
    case 2: {
      const j = r.int(lines.length);
      [lines[k], lines[j]] = [lines[j]!, lines[k]!];
      break;
    }
    case 3:
      lines[k] = JSON.stringify(mutateJson(JSON.parse(lines[k]!), r));
      break;
    case 4:
      lines[k] = mutateBytes(Buffer.from(lines[k]!), r).toString('latin1').replace(/\n/g, ' ');
      break;
    case 5:
      lines.splice(k, 0, 'x'.repeat(r.pick([10, 1 << 20, (1 << 20) + 5])));
      break;
    default:
      writeFileSync(file, mutateBytes(readFileSync(file), r));
      return;
  }
  writeFileSync(file, lines.map((l) => `${l}\n`).join('') + (r.int(8) === 0 ? '{"torn":' : ''));
}

async function ledgerCase(i: number, signer: ReturnType<typeof loadSigner>): Promise<void> {
  const dir = join(work, String(i));
  cpSync(base, dir, { recursive: true });
  mutateLedger(dir);
  await attempt(i, 'verifyLedger', () => verifyLedger(dir, { parallel: i % 3 === 0 }));
  await attempt(i, 'readEntries', () => readEntries(dir));
  await attempt(i, 'protectCaseRecords', () => protectCaseRecords(dir));
  await attempt(i, 'export', () => exportForOpenssl(dir, join(work, `${i}-export`)));
  if (i % 4 === 0) await attempt(i, 'report', () => custodyReport(dir, { now: new Date(0) }));
  if (i % 5 === 0) await attempt(i, 'append', () => appendEntry(dir, { action: 'note', details: { text: 'fuzz' } }, signer));
  forgetProtectedEvidence();
}

async function certificateCase(i: number, keyPath: string): Promise<void> {
  const dir = join(work, String(i));
  cpSync(base, dir, { recursive: true });
  const certs = readdirSync(join(dir, 'certs')).sort();
  const victim = join(dir, 'certs', r.pick(certs));
  const pem = readFileSync(victim, 'utf8');
  let mutated: Buffer;
  if (r.next() < 0.5) {
    // Damage inside the DER, re-encoded as valid base64, so the ASN.1 parser itself meets it.
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const der = mutateBytes(Buffer.from(body, 'base64'), r);
    const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
    mutated = Buffer.from(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
  } else mutated = mutateBytes(Buffer.from(pem), r);
  writeFileSync(victim, mutated);
  const text = mutated.toString('utf8');
  const report = (await attempt(i, 'verifyLedger', () => verifyLedger(dir))) as { verdict?: string; firstBad?: { reason: string } } | undefined;
  // A certificate that cannot be used is a verdict about the ledger, never an exception.
  if (!report) others.push({ case: i, op: 'verifyLedger', error: 'threw instead of giving a verdict' });
  await attempt(i, 'parseCert', () => parseCert(text, victim));
  await attempt(i, 'describeCert', () => describeCert(text, victim));
  await attempt(i, 'certPublicKey', () => certPublicKey(text, victim));
  if (i % 8 === 0) {
    await attempt(i, 'importIdentity', () =>
      importIdentity({ certPath: victim, keyPath, passphrase: 'fuzz passphrase', keyPassphrase: process.env.CUSTOS_PASSPHRASE, home: join(work, `${i}-home`) }),
    );
  }
}

(async () => {
  const home = join(base, '..', 'home');
  const signer = kind === 'manifest' ? undefined : loadSigner(home, 'Alex Morgan', process.env.CUSTOS_PASSPHRASE ?? '');
  const keyPath = kind === 'certificate' ? join(home, 'identities', readdirSync(join(home, 'identities')).sort()[0]!, 'key.pem') : '';
  for (let i = 0; i < count; i++) {
    const t0 = Date.now();
    if (kind === 'manifest') await manifestCase(i);
    else if (kind === 'ledger') await ledgerCase(i, signer!);
    else await certificateCase(i, keyPath);
    const ms = Date.now() - t0;
    if (ms > slowest.ms) slowest = { case: i, ms };
  }
  process.stdout.write(`${JSON.stringify({ kind, count, outcomes, others, slowest, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
})().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ kind, fatal: String((err as Error)?.stack ?? err) })}\n`);
  process.exit(1);
});
