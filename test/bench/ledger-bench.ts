/**
 * npm run bench:ledger: appending to and verifying the chain-of-custody ledger.
 *
 *   npm run bench:ledger -- [--appends 10000] [--verify 100000] [--dir /tmp]
 *
 * 1. Appends --appends entries one by one through the real path (lock, read head, sign with
 *    RSA-3072, append, fsync) and reports entries per second.
 *    Then writes the custody report (PDF) of that ledger and reports how long it took.
 * 2. Builds a ledger of --verify entries (the chain is computed in order; the signatures, which
 *    do not feed the chain, are made on every core), cached under --dir, then times a full
 *    verifyLedger (schema, chain, every signature, certificates, time, transfers).
 * 3. The same with trust: signed by an examiner the lab CA issued, the case trusting that CA (and a
 *    CRL), with a signed checkpoint of the whole ledger — verifyLedger then also checks every
 *    signer's chain at its entries' times and the checkpoint against the ledger's Merkle tree.
 */
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createIdentity, loadSigner } from '../../src/custody/identity';
import { appendEntry, entryBytes, entryHash, genesisHash, initCase, type LedgerEntry, verifyLedger } from '../../src/custody';
import { systemEnvironment } from '../../src/host';
import { toolInfo } from '../../src/tool';
import { custodyReport } from '../../reports/custody';
import { initCa, writeCrl } from '../../src/custody/ca';
import { writeCheckpoint } from '../../src/custody/checkpoint-store';
import { prepareTrust, type TrustRecord } from '../../src/custody/trust';

const PASS = 'bench passphrase';

function opt(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  const appends = Number(opt('appends', '10000'));
  const verifyCount = Number(opt('verify', '100000'));
  const base = opt('dir', '/tmp');
  const home = join(base, 'custos-bench-home');
  if (!existsSync(home)) createIdentity({ name: 'Bench Examiner', role: 'examiner', passphrase: PASS, home, days: 3650 });
  const signer = loadSigner(home, undefined, PASS);

  // 1. Appends through the real path.
  const appendDir = join(base, `custos-bench-append-${process.pid}`);
  rmSync(appendDir, { recursive: true, force: true });
  await initCase(appendDir, { caseId: 'BENCH-APPEND' }, signer);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < appends; i++) await appendEntry(appendDir, { action: 'note', evidence: ['EV-1'], details: { text: `entry ${i}` } }, signer);
  const appendSecs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`append: ${appends} entries in ${appendSecs.toFixed(1)} s (${(appends / appendSecs).toFixed(0)} entries/s; lock + RSA-3072 signature + fsync each)`);
  t0 = process.hrtime.bigint();
  const small = await verifyLedger(appendDir);
  console.log(`verify: ${small.entries} entries in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)} s (${small.verdict})`);
  t0 = process.hrtime.bigint();
  const pdf = await custodyReport(appendDir, { signer });
  console.log(`report: custody report of ${small.entries} entries in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s (${(pdf.length / 1e6).toFixed(1)} MB PDF)`);
  rmSync(appendDir, { recursive: true, force: true });

  // 2. Verification of a large ledger.
  const bigDir = join(base, `custos-bench-ledger-${verifyCount}`);
  if (!existsSync(join(bigDir, 'done'))) await buildLedger(bigDir, verifyCount, home);
  t0 = process.hrtime.bigint();
  const r = await verifyLedger(bigDir);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`verify: ${r.entries} entries in ${secs.toFixed(2)} s (${(r.entries / secs).toFixed(0)} entries/s, verdict ${r.verdict}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`);

  // 3. With anchors, a CRL and a checkpoint.
  const caDir = join(base, 'custos-bench-ca');
  const caHome = join(base, 'custos-bench-home-ca');
  if (!existsSync(caDir)) initCa({ dir: caDir, name: 'Bench Lab CA', passphrase: PASS, now: new Date(Date.now() - 86_400_000) });
  if (!existsSync(caHome)) createIdentity({ name: 'Bench Examiner', role: 'examiner', passphrase: PASS, home: caHome, days: 3650 }, { dir: caDir, passphrase: PASS });
  const anchoredDir = join(base, `custos-bench-ledger-anchored-${verifyCount}`);
  if (!existsSync(join(anchoredDir, 'done'))) {
    const caPem = readFileSync(join(caDir, 'ca-cert.pem'), 'utf8');
    const trust = prepareTrust({ anchors: [join(caDir, 'ca-cert.pem')] });
    await buildLedger(anchoredDir, verifyCount, caHome, trust.record);
    writeFileSync(join(anchoredDir, 'trust', `${trust.files[0]!.fingerprint}.pem`), caPem);
    writeFileSync(join(anchoredDir, 'trust', 'lab.crl.pem'), writeCrl({ caDir, passphrase: PASS }));
    writeCheckpoint(anchoredDir, 'BENCH-VERIFY', [loadSigner(caHome, undefined, PASS)]);
  }
  t0 = process.hrtime.bigint();
  const a = await verifyLedger(anchoredDir);
  const asecs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`verify, anchored: ${a.entries} entries, ${a.checkpoints?.length ?? 0} checkpoint, signers checked against ${a.anchors?.anchors.length ?? 0} CA and its CRL, in ${asecs.toFixed(2)} s (verdict ${a.verdict}${a.firstBad ? `: ${a.firstBad.reason}` : ''})`);
}

/** A valid ledger of `count` entries: unsigned chain in order, signatures in parallel workers. */
async function buildLedger(dir: string, count: number, home: string, trust?: TrustRecord): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'certs'), { recursive: true });
  mkdirSync(join(dir, 'trust'), { recursive: true });
  const signer = loadSigner(home, undefined, PASS);
  writeFileSync(join(dir, 'certs', `${signer.identity.fingerprint}.pem`), signer.certPem);
  process.stderr.write(`bench: building a ${count}-entry ledger in ${dir} (cached for later runs)\n`);
  const env = systemEnvironment;
  const start = Date.now();
  const unsigned: Omit<LedgerEntry, 'sig'>[] = [];
  let prev = genesisHash('BENCH-VERIFY');
  for (let i = 0; i < count; i++) {
    const e: Omit<LedgerEntry, 'sig'> = {
      v: 1,
      seq: i,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      case: 'BENCH-VERIFY',
      evidence: ['EV-1'],
      action: i === 0 ? 'case-open' : 'note',
      actor: { name: signer.identity.name, role: signer.identity.role, cert: signer.identity.fingerprint },
      time: { utc: new Date(start + i).toISOString(), offset: '+00:00', zone: 'UTC' },
      host: env.host(),
      tool: toolInfo(),
      commandLine: ['custos', 'ledger', 'note'],
      details: i === 0 && trust ? { trust } : { text: `entry ${i}` },
      prev,
    };
    prev = entryHash(e);
    unsigned.push(e);
  }
  const workers = availableParallelism();
  const per = Math.ceil(count / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const slice = unsigned.slice(w * per, (w + 1) * per).map((e) => entryBytes(e).toString('base64'));
      return new Promise<string[]>((resolve, reject) => {
        const worker = new Worker(__filename, { workerData: { home, slice }, execArgv: ['--require', 'ts-node/register/transpile-only'] });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  const sigs = parts.flat();
  const out = createWriteStream(join(dir, 'custody.jsonl'));
  unsigned.forEach((e, i) => out.write(`${JSON.stringify({ ...e, sig: { alg: 'RS256', cert: signer.identity.fingerprint, value: sigs[i] } })}\n`));
  await new Promise<void>((r) => out.end(r));
  writeFileSync(join(dir, 'done'), '');
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const { home, slice } = workerData as { home: string; slice: string[] };
  const s = loadSigner(home, undefined, PASS);
  parentPort!.postMessage(slice.map((b) => s.sign(Buffer.from(b, 'base64'))));
}
