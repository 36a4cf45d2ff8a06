/**
 * nvme-cli's answers (src/source/nvme-cli.ts) on recorded outputs (test/fixtures/hidden-areas/README.md)
 * and on id-ns JSON built in nvme-cli's shape, and fuzzed (seeded, bounded).
 */
import { parseNvmeIdCtrl, parseNvmeIdNs } from '../../../src/source/nvme-cli';
import { fuzzParsers, randomBytesToParsers, recorded, text } from './hidden-areas-fixtures';

describe('nvme id-ctrl / id-ns', () => {
  test('id-ctrl JSON (WDC SN730) and normal output (Micron 9200, Kingston SNV2S250G)', () => {
    expect(parseNvmeIdCtrl(text('nvme-id-ctrl-wdc-sn730.json'))).toEqual({
      ok: true,
      tnvmcap: 256060514304,
      unvmcap: 0,
      model: 'WDC PC SN730 SDBQNTY-256G-1001',
      serial: '1951B3444502',
      firmware: '11170101',
    });
    expect(parseNvmeIdCtrl(text('nvme-id-ctrl-micron-9200.txt'))).toMatchObject({ ok: true, tnvmcap: 1600321314816, unvmcap: 0, model: 'Micron_9200_MTFDHAL1T6TCU', serial: '18161E7964B7' });
    expect(parseNvmeIdCtrl(text('nvme-id-ctrl-kingston-snv2s250g.txt'))).toMatchObject({ ok: true, tnvmcap: 250059350016, unvmcap: 0, model: 'KINGSTON SNV2S250G' });
  });

  test('digit grouping from a locale ("512.110.190.592") is refused, not misread', () => {
    expect(parseNvmeIdCtrl(text('nvme-id-ctrl-H-locale-grouping.txt'))).toEqual({ ok: false, reason: 'nvme id-ctrl: TNVMCAP or UNVMCAP is not a byte count' });
  });

  test('id-ns: a listing cut before the LBA formats gives no block size; a refused ioctl gives no numbers', () => {
    expect(parseNvmeIdNs(text('nvme-id-ns-H-udisks-1194.txt'))).toEqual({ ok: false, reason: 'nvme id-ns: no LBA format is marked in use' });
    const eperm = recorded('nvme-id-ns-vda-eperm.json');
    expect(eperm.status).toBe(1);
    expect(parseNvmeIdNs(eperm.stdout).ok).toBe(false);
  });

  // No complete recorded id-ns JSON was found (fixtures README): these are built in the shape of
  // nvme-cli's json_nvme_id_ns, with the udisks#1194 namespace's numbers.
  const idNsJson = (nsze: number, flbas: number, lbafs: { ms: number; ds: number; rp: number }[]) =>
    JSON.stringify({ nsze, ncap: nsze, nuse: 0x6b6b9548, nsfeat: 0, nlbaf: lbafs.length - 1, flbas, lbafs }, null, 2);

  test('id-ns JSON: block size of the format FLBAS selects (bits 3:0 and 6:5), NSZE/NCAP/NUSE', () => {
    const lbafs = [
      { ms: 0, ds: 9, rp: 2 },
      { ms: 0, ds: 12, rp: 0 },
    ];
    expect(parseNvmeIdNs(idNsJson(0x773bd2b0, 0, lbafs))).toEqual({ ok: true, nsze: 2000409264, ncap: 2000409264, nuse: 0x6b6b9548, blockSize: 512 });
    expect(parseNvmeIdNs(idNsJson(0x773bd2b0, 1, lbafs))).toMatchObject({ ok: true, blockSize: 4096 });
    expect(parseNvmeIdNs(idNsJson(0x773bd2b0, 0x10 | 1, lbafs))).toMatchObject({ ok: true, blockSize: 4096 }); // bit 4: metadata placement, not the index
    expect(parseNvmeIdNs(idNsJson(0x773bd2b0, 0x20, lbafs)).ok).toBe(false); // index 16: no such format
    expect(parseNvmeIdNs(idNsJson(0x773bd2b0, 0, [{ ms: 0, ds: 40, rp: 0 }])).ok).toBe(false);
  });

  test('capacities beyond 2^53 are read from the text exactly, and refused when they do not fit a number', () => {
    const big = text('nvme-id-ctrl-wdc-sn730.json').replace('"tnvmcap" : 256060514304', '"tnvmcap" : 18446744073709551616');
    expect(parseNvmeIdCtrl(big)).toEqual({ ok: false, reason: 'nvme id-ctrl: TNVMCAP or UNVMCAP is not a byte count' });
    const exact = text('nvme-id-ctrl-wdc-sn730.json').replace('"tnvmcap" : 256060514304', '"tnvmcap" : 9007199254740991');
    expect(parseNvmeIdCtrl(exact)).toMatchObject({ ok: true, tnvmcap: 9007199254740991 });
    const negative = text('nvme-id-ctrl-wdc-sn730.json').replace('"unvmcap" : 0', '"unvmcap" : -2147483648');
    expect(parseNvmeIdCtrl(negative).ok).toBe(false);
  });
});

describe('fuzzing (seeded, bounded)', () => {
  const parsers = [parseNvmeIdNs, parseNvmeIdCtrl] as ((t: string) => { ok: boolean })[];

  test('every parser, 6000 mutated real outputs: an answer or a reason, never an exception; numbers safe', () => {
    expect(fuzzParsers(parsers)).toBeGreaterThan(0);
  });

  test('random bytes are refused with a reason', () => {
    randomBytesToParsers(parsers);
  });
});
