/**
 * What the hidden-area tests share: the recorded outputs of hdparm and nvme-cli
 * (test/fixtures/hidden-areas/README.md), replaying them as runs, and the seeded mutations that
 * fuzz the parsers and the decisions. Not a test file itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandResult } from '../../../src/source/drive-tools';
import { pseudoRandomBytes, ROOT } from '../../helpers';

export const FIX = join(ROOT, 'test', 'fixtures', 'hidden-areas');
export const text = (name: string) => readFileSync(join(FIX, name), 'utf8');
/** A run recorded on the test machine: command, status, stdout, stderr. */
export const recorded = (name: string): CommandResult => {
  const j = JSON.parse(text(name)) as CommandResult & { command: string[] };
  return { status: j.status, stdout: j.stdout, stderr: j.stderr };
};
/** Output posted by someone: what the terminal showed, as stdout of a successful run. */
export const posted = (name: string, status: number | null = 0): CommandResult => ({ status, stdout: text(name), stderr: '' });

/** Real outputs of every tool, the seeds of the mutations (the last one an id-ns JSON in nvme-cli's shape). */
export const fuzzSamples = (): string[] => [
  ...[
    'hdparm-N-hpa-disabled-hercules-sda.txt',
    'hdparm-N-hpa-enabled-hercules-sdb.txt',
    'hdparm-N-invalid-dco-hint.txt',
    'hdparm-IC-sas-sg-io-failure.txt',
    'hdparm-dco-identify-seagate-sde.txt',
    'hdparm-dco-identify-wd5000bmvv.txt',
    'hdparm-I-wd5000bmvv.txt',
    'nvme-id-ctrl-wdc-sn730.json',
    'nvme-id-ctrl-micron-9200.txt',
    'nvme-id-ctrl-H-locale-grouping.txt',
    'nvme-id-ns-H-udisks-1194.txt',
  ].map(text),
  JSON.stringify({ nsze: 2000409264, ncap: 2000409264, nuse: 1, flbas: 0, lbafs: [{ ms: 0, ds: 9, rp: 0 }] }),
];

const pieces = ['max sectors   = ', '/', ', HPA is enabled', 'Real max sectors: ', '99999999999999999999999', '-1', '{', '}', '"nsze":', '"lbafs":[', '\n', '\0', '0x', 'ffffffffffffffffffffffffffffffff', '(in use)', 'lbads:', '1e400', '[[[[[[[['];

/** Mutations of real outputs: bytes flipped, cut, duplicated, tokens spliced in. */
export function mutate(s: string, rnd: Buffer, i: number): string {
  const r = (k: number) => rnd[(i * 7 + k) % rnd.length]!;
  let out = s;
  const n = 1 + (r(0) % 6);
  for (let k = 0; k < n; k++) {
    const at = (r(k + 1) * 257 + r(k + 2)) % (out.length + 1);
    switch (r(k + 3) % 5) {
      case 0:
        out = out.slice(0, at) + String.fromCharCode(r(k + 4)) + out.slice(at + 1);
        break;
      case 1:
        out = out.slice(0, at);
        break;
      case 2:
        out = out.slice(0, at) + pieces[r(k + 5) % pieces.length]! + out.slice(at);
        break;
      case 3:
        out = out + out.slice(at, at + 200);
        break;
      default:
        out = out.slice(0, at) + out.slice(at + (r(k + 6) % 40));
    }
  }
  return out;
}

type Parser = (t: string) => { ok: boolean };

/**
 * Feeds 6000 mutated real outputs to each parser: an answer or a reason, never an exception;
 * every number safe. Returns how many answers were accepted.
 */
export function fuzzParsers(parsers: Parser[]): number {
  const samples = fuzzSamples();
  const rnd = pseudoRandomBytes(1 << 16, 0x5eed1234);
  let accepted = 0;
  for (let i = 0; i < 6000; i++) {
    const input = mutate(samples[i % samples.length]!, rnd, i);
    for (const p of parsers) {
      const r = p(input) as Record<string, unknown>;
      if (r.ok === true) {
        accepted++;
        for (const v of Object.values(r)) if (typeof v === 'number') expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
      } else {
        expect(typeof r.reason).toBe('string');
        expect((r.reason as string).length).toBeLessThanOrEqual(200);
      }
    }
  }
  return accepted;
}

/** Random bytes, 200 blocks of 4 KiB, to each parser: none throws. */
export function randomBytesToParsers(parsers: Parser[]): void {
  const rnd = pseudoRandomBytes(1 << 20, 42);
  for (let i = 0; i < 200; i++) {
    const s = rnd.subarray(i * 4096, i * 4096 + 4096).toString('latin1');
    for (const p of parsers) expect(() => p(s)).not.toThrow();
  }
}
