/**
 * npm run bench: custos acquire against its peers on the same source, in the same run.
 *
 *   npm run bench -- [--size 2GiB] [--out DIR] [--runs 3] [--keep]
 *
 * Builds a deterministic mixed source (random, zeros and text in 1 MiB blocks, like a used
 * disk), warms the page cache, then times each tool writing a raw image with md5+sha1+sha256:
 * custos, dc3dd (hash=md5 hash=sha1 hash=sha256) and dcfldd (hash=md5,sha1,sha256), when
 * installed; custos verify of the image it wrote and custos hash of the source (the same engine
 * reading back); then an E01 with fast compression and MD5+SHA-1: custos against ewfacquire -c fast. Each run's time includes flushing the image (custos fsyncs before it reports;
 * the peers get a `sync FILE` after they exit), and peak RSS comes from /usr/bin/time.
 * The output goes to a tmpfs (/dev/shm) by default, so the disk does not hide the tools' own
 * speed; pass --out to measure on a disk. The physical limit is measured in the same run:
 * `openssl dgst -md5` over the same cached source (MD5 cannot be split, so no tool computing it can
 * be faster). Results are ratios to dc3dd (ewfacquire for E01) and to that limit; nothing here asserts.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseSize } from '../../src/units';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const size = parseSize(opt('size', '2GiB'));
const runs = Number(opt('runs', '3'));
const outBase = opt('out', existsSync('/dev/shm') ? '/dev/shm' : '/tmp');
const work = join(outBase, `custos-bench-${process.pid}`);
const sourceDir = opt('source-dir', '/tmp');
const source = join(sourceDir, `custos-bench-source-${size}.bin`);
const ROOT = join(__dirname, '..', '..');

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Deterministic mixed content: per MiB, 40% random (xorshift), 30% zeros, 30% text. */
function makeSource(): void {
  if (existsSync(source) && statSync(source).size === size) return;
  process.stderr.write(`bench: writing ${size} bytes of mixed source to ${source}\n`);
  const fd = openSync(source, 'w');
  const block = Buffer.alloc(1 << 20);
  const text = Buffer.from('The quick brown fox jumps over the lazy dog. Ledger 2026-03-14, container MSKU 493 118 7.\n');
  let x = 0x9e3779b9;
  for (let off = 0; off < size; off += block.length) {
    const i = off >> 20;
    const kind = i % 10 < 4 ? 'random' : i % 10 < 7 ? 'zero' : 'text';
    if (kind === 'random') {
      for (let j = 0; j < block.length; j += 4) {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        block.writeUInt32LE(x, j);
      }
    } else if (kind === 'zero') block.fill(0);
    else for (let j = 0; j < block.length; j += text.length) text.copy(block, j, 0, Math.min(text.length, block.length - j));
    writeSync(fd, block, 0, Math.min(block.length, size - off));
  }
  closeSync(fd);
}

interface Measure {
  tool: string;
  seconds: number;
  rssMiB: number;
  ok: boolean;
  note?: string;
}

function timed(tool: string, cmd: string[], after?: string[]): Measure {
  const t = spawnSync('/usr/bin/time', ['-f', '%e %M', ...cmd], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let extra = 0;
  if (after) {
    const t0 = process.hrtime.bigint();
    spawnSync(after[0]!, after.slice(1));
    extra = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const last = t.stderr.trim().split('\n').pop() ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  return { tool, seconds: (secs ?? NaN) + extra, rssMiB: (kb ?? NaN) / 1024, ok: t.status === 0 || t.status === 6, note: t.status ? `exit ${t.status}` : undefined };
}

function cleanOut(): string {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  return work;
}

function main(): void {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'acquire.js'))) {
    console.error('bench: build first (npm run build)');
    process.exit(2);
  }
  const free = statfsSync(outBase).bavail * statfsSync(outBase).bsize;
  if (free < size * 1.1) {
    console.error(`bench: ${outBase} has ${free} bytes free, needs ${size}; pass --out DIR`);
    process.exit(2);
  }
  makeSource();
  spawnSync('sh', ['-c', `cat ${source} > /dev/null`]);
  const results: Measure[] = [];
  for (let r = 0; r < runs; r++) {
    if (has('openssl')) results.push(timed('openssl-md5', ['openssl', 'dgst', '-md5', source]));
    let out = cleanOut();
    results.push(timed('custos', [process.execPath, join(ROOT, 'bin', 'run.js'), 'acquire', source, '-o', out, '--name', 'img', '--no-progress', '--hash', 'md5,sha1,sha256']));
    // The same engine reading back: verify the image just written, and hash the source.
    results.push(timed('custos-verify', [process.execPath, join(ROOT, 'bin', 'run.js'), 'verify', join(out, 'img.manifest.json'), '--no-progress']));
    results.push(timed('custos-hash', [process.execPath, join(ROOT, 'bin', 'run.js'), 'hash', '--hash', 'md5,sha1,sha256', source]));
    if (has('dc3dd')) {
      out = cleanOut();
      const img = join(out, 'dc3dd.raw');
      results.push(timed('dc3dd', ['dc3dd', `if=${source}`, `of=${img}`, 'hash=md5', 'hash=sha1', 'hash=sha256', `log=${join(out, 'log')}`], ['sync', img]));
    }
    out = cleanOut();
    results.push(timed('custos-e01', [process.execPath, join(ROOT, 'bin', 'run.js'), 'acquire', source, '-o', out, '--name', 'img', '--no-progress', '--hash', 'md5,sha1', '--format', 'e01', '--compression', 'fast', '--segment-size', '64GiB']));
    if (has('ewfacquire')) {
      out = cleanOut();
      // -S as large as ewfacquire allows here, so both write one segment; -d sha1 so both compute MD5 and SHA-1.
      results.push(timed('ewfacquire', ['ewfacquire', '-u', '-q', '-t', join(out, 'ewf'), '-f', 'encase6', '-c', 'fast', '-d', 'sha1', '-S', '7.9EiB', source], ['sync', join(out, 'ewf.E01')]));
    }
    if (has('dcfldd')) {
      out = cleanOut();
      const img = join(out, 'dcfldd.raw');
      results.push(timed('dcfldd', ['dcfldd', `if=${source}`, `of=${img}`, 'bs=1M', 'hash=md5,sha1,sha256', `hashlog=${join(out, 'hashes')}`], ['sync', img]));
    }
  }
  if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });

  const best = new Map<string, Measure>();
  for (const m of results) if (m.ok && (!best.has(m.tool) || m.seconds < best.get(m.tool)!.seconds)) best.set(m.tool, m);
  const mbps = (m: Measure) => size / m.seconds / 1e6;
  const base = best.get('dc3dd');
  const limit = best.get('openssl-md5');
  console.log(`custos acquire benchmark: ${size} bytes (${(size / 2 ** 30).toFixed(2)} GiB) mixed source to ${outBase}, warm page cache, best of ${runs}`);
  const row = (label: string, m: Measure, ref: Measure | undefined, refName: string) =>
    console.log(
      `${label.padEnd(34)} ${m.seconds.toFixed(2).padStart(8)} ${mbps(m).toFixed(0).padStart(7)} ${`${m.rssMiB.toFixed(0)} MiB`.padStart(10)} ${(ref ? `${(mbps(m) / mbps(ref)).toFixed(2)}× ${refName}` : '').padEnd(18)} ${limit ? `${(mbps(m) / mbps(limit)).toFixed(2)}× openssl md5` : ''}`,
    );
  if (limit) console.log(`physical limit: openssl dgst -md5 over the cached source: ${limit.seconds.toFixed(2)} s, ${mbps(limit).toFixed(0)} MB/s`);
  console.log(`${'raw image, md5+sha1+sha256'.padEnd(34)}  seconds    MB/s   peak RSS   ratio`);
  for (const t of ['custos', 'dc3dd', 'dcfldd']) if (best.has(t)) row(t, best.get(t)!, base, 'dc3dd');
  console.log(`${'reading back, md5+sha1+sha256'.padEnd(34)}  seconds    MB/s   peak RSS   ratio`);
  if (best.has('custos-verify')) row('custos verify (image)', best.get('custos-verify')!, undefined, '');
  if (best.has('custos-hash')) row('custos hash (source)', best.get('custos-hash')!, undefined, '');
  console.log(`${'E01 fast compression, md5+sha1'.padEnd(34)}  seconds    MB/s   peak RSS   ratio`);
  for (const t of ['custos-e01', 'ewfacquire']) if (best.has(t)) row(t === 'custos-e01' ? 'custos --format e01' : 'ewfacquire -c fast', best.get(t)!, best.get('ewfacquire'), 'ewfacquire');
  for (const m of results.filter((x) => !x.ok)) console.log(`${m.tool}: failed (${m.note})`);
  console.log(`all runs: ${results.map((m) => `${m.tool} ${mbps(m).toFixed(0)} MB/s`).join(', ')}`);
}

main();
