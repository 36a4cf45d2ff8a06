/**
 * Hidden areas (HPA, DCO, NVMe capacity outside the namespace): the parsers on recorded outputs of
 * hdparm and nvme-cli (test/fixtures/hidden-areas/README.md), the decisions on replayed runs,
 * seeded fuzzing of every parser, and the real thing on a loop device (root).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { blockDeviceInfoByNumber, type BlockDeviceInfo } from '../../../src/source/device';
import {
  type CommandResult,
  type CommandRunner,
  detectHiddenAreas,
  type HiddenAreas,
  hiddenAreasOfFile,
  parseDcoIdentify,
  parseHdparmN,
  parseIdentifyDcoSupport,
  parseNvmeIdCtrl,
  parseNvmeIdNs,
  systemRunner,
} from '../../../src/source/hidden-areas';
import { describeSource } from '../../../src/source/info';
import { SCHEMAS } from '../../../src/schema';
import { hasTool, isRoot, makeTempDir, pseudoRandomBytes, ROOT, runCli } from '../../helpers';

const FIX = join(ROOT, 'test', 'fixtures', 'hidden-areas');
const text = (name: string) => readFileSync(join(FIX, name), 'utf8');
/** A run recorded on the test machine: command, status, stdout, stderr. */
const recorded = (name: string): CommandResult => {
  const j = JSON.parse(text(name)) as CommandResult & { command: string[] };
  return { status: j.status, stdout: j.stdout, stderr: j.stderr };
};
/** Output posted by someone: what the terminal showed, as stdout of a successful run. */
const posted = (name: string, status: number | null = 0): CommandResult => ({ status, stdout: text(name), stderr: '' });
const notInstalled: CommandResult = { status: null, stdout: '', stderr: '', error: 'not-installed' };

/** Replays results by the tool's first argument, and records every command asked for. */
function replay(byArg: Record<string, CommandResult>): CommandRunner & { calls: string[][] } {
  const calls: string[][] = [];
  const run = ((cmd: string, args: readonly string[]) => {
    calls.push([cmd, ...args]);
    const r = byArg[`${cmd} ${args[0]}`];
    if (!r) throw new Error(`unexpected command ${cmd} ${args.join(' ')}`);
    return r;
  }) as CommandRunner & { calls: string[][] };
  run.calls = calls;
  return run;
}

/** A whole ATA disk as the kernel describes it: only what the decisions look at. */
function ataDisk(sectors512: number, over: Partial<BlockDeviceInfo> = {}): BlockDeviceInfo {
  return {
    name: 'sdb',
    devNumber: '8:16',
    isPartition: false,
    sizeBytes: sectors512 * 512,
    logicalSectorSize: 512,
    physicalSectorSize: 4096,
    transport: 'ata',
    removable: false,
    rotational: true,
    readOnly: true,
    partitions: [],
    holders: [],
    ...over,
  };
}

/** Commands that only identify or read: any other hdparm or nvme argument would be a bug. */
const READ_ONLY = [/^hdparm -N \/dev\/\S+$/, /^hdparm --dco-identify \/dev\/\S+$/, /^hdparm -I \/dev\/\S+$/, /^nvme id-ns \/dev\/\S+ -o json$/, /^nvme id-ctrl \/dev\/\S+ -o json$/];
const allCalls: string[][] = [];
afterAll(() => {
  for (const c of allCalls) expect(READ_ONLY.some((re) => re.test(c.join(' ')))).toBe(true);
});
function detect(d: BlockDeviceInfo, byArg: Record<string, CommandResult>, dev = '/dev/sdb'): HiddenAreas {
  const run = replay(byArg);
  const r = detectHiddenAreas(d, dev, run);
  allCalls.push(...run.calls);
  expect(validHiddenAreas(r)).toBe(true);
  return r;
}

// The manifest's own schema for source.device.hiddenAreas, with the definitions it refers to.
const manifestSchema = SCHEMAS['acquisition-manifest'] as unknown as {
  $defs: Record<string, unknown> & { source: { properties: { device: { properties: { hiddenAreas: object } } } } };
};
const validHiddenAreas = new Ajv2020({ strict: true, allErrors: true }).compile({
  $defs: manifestSchema.$defs,
  ...manifestSchema.$defs.source.properties.device.properties.hiddenAreas,
});

describe('hdparm -N (recorded)', () => {
  test.each([
    ['hdparm-N-hpa-disabled-hercules-sda.txt', 312581808, 312581808, false],
    ['hdparm-N-hpa-enabled-hercules-sdb.txt', 312579695, 312581808, true],
    ['hdparm-N-hpa-enabled-leonidas.txt', 976771055, 976773168, true],
    ['hdparm-N-hpa-disabled-leonidas-after.txt', 976773168, 976773168, false],
    ['hdparm-N-hpa-enabled-sebeka-wiki.txt', 78125000, 78165360, true],
    ['hdparm-N-hpa-disabled-nwipe-444.txt', 1953525168, 1953525168, false],
  ])('%s: %d of %d, enabled %s', (file, visible, native, enabled) => {
    expect(parseHdparmN(text(file))).toEqual({ ok: true, visible, native, feature: 'hpa', enabled });
  });

  test('"HPA setting seems invalid" (a USB bridge answering 0/1, a driver answering 66055248/1) is never taken as numbers', () => {
    const a = parseHdparmN(text('hdparm-N-invalid-usb-bridge.txt'));
    expect(a).toEqual({ ok: false, reason: 'hdparm: max sectors 0/1, HPA setting seems invalid' });
    const b = parseHdparmN(text('hdparm-N-invalid-dco-hint.txt'));
    expect(b).toEqual({ ok: false, reason: 'hdparm: max sectors 66055248/1, HPA setting seems invalid' });
  });

  test('ACS-3 drives answer "ACCESSIBLE MAX ADDRESS" (hdparm 9.65 strings, checked in the installed binary when present)', () => {
    // The exact strings this hdparm prints, so the parser follows the tool and not a guess.
    const binary = spawnSync('sh', ['-c', 'command -v strings >/dev/null && strings "$(PATH=$PATH:/usr/sbin:/sbin command -v hdparm)"'], { encoding: 'latin1', maxBuffer: 64 << 20 }).stdout;
    if (binary) {
      for (const s of [' max sectors   = %llu/%llu', ', HPA is enabled', ', HPA is disabled', ', HPA setting seems invalid', ', ACCESSIBLE MAX ADDRESS enabled', ', ACCESSIBLE MAX ADDRESS disabled']) {
        expect(binary).toContain(s);
      }
    }
    // The same recorded numbers, printed the way hdparm does for an ACS-3 drive (hdparm.c, get_native_max_sectors).
    const acs3 = text('hdparm-N-hpa-enabled-leonidas.txt').replace(', HPA is enabled', ', ACCESSIBLE MAX ADDRESS enabled\nPower cycle your device after every ACCESSIBLE MAX ADDRESS');
    expect(parseHdparmN(acs3)).toEqual({ ok: true, visible: 976771055, native: 976773168, feature: 'accessible-max-address', enabled: true });
  });

  test('failures: no "max sectors" line gives the first thing hdparm said', () => {
    const loop = recorded('hdparm-N-loop0.json');
    expect(loop.status).toBe(0);
    expect(parseHdparmN(loop.stdout + loop.stderr)).toEqual({ ok: false, reason: 'hdparm printed no "max sectors" line' });
    const eperm = recorded('hdparm-N-vda-eperm.json');
    expect(parseHdparmN(eperm.stdout + eperm.stderr)).toEqual({ ok: false, reason: '/dev/vda: Operation not permitted' });
    const sas = parseHdparmN(text('hdparm-IC-sas-sg-io-failure.txt'));
    expect(sas.ok === false && sas.reason).toMatch(/^SG_IO: bad\/missing sense data, sb\[\]: {2}72 05 20/);
  });

  test('contradictions are refused: "enabled" with equal counts, two different lines', () => {
    const t = text('hdparm-N-hpa-disabled-hercules-sda.txt');
    expect(parseHdparmN(t.replace('disabled', 'enabled')).ok).toBe(false);
    expect(parseHdparmN(t + text('hdparm-N-hpa-enabled-hercules-sdb.txt')).ok).toBe(false);
    expect(parseHdparmN(t + t).ok).toBe(true);
  });
});

describe('hdparm --dco-identify and -I (recorded)', () => {
  test('real max sectors', () => {
    expect(parseDcoIdentify(text('hdparm-dco-identify-seagate-sde.txt'))).toEqual({ ok: true, realMax: 23437770752 });
    expect(parseDcoIdentify(text('hdparm-dco-identify-wd5000bmvv.txt'))).toEqual({ ok: true, realMax: 976773168 });
  });

  test('failures: ioctl refused, no data ("Real max sectors: 1"), bad checksum', () => {
    const loop = recorded('hdparm-dco-identify-loop0.json');
    expect(parseDcoIdentify(loop.stdout + loop.stderr)).toEqual({ ok: false, reason: 'HDIO_DRIVE_CMD(dco_identify) failed: Invalid argument' });
    const zero = text('hdparm-dco-identify-wd5000bmvv.txt').replace('976773168', '1');
    expect(parseDcoIdentify(zero).ok).toBe(false);
    expect(parseDcoIdentify(text('hdparm-dco-identify-seagate-sde.txt').replace('verified.', 'FAILED!')).ok).toBe(false);
  });

  test('IDENTIFY DEVICE lists the DCO feature set; without its line the drive has none', () => {
    const t = text('hdparm-I-wd5000bmvv.txt');
    expect(parseIdentifyDcoSupport(t)).toEqual({ ok: true, supported: true });
    expect(parseIdentifyDcoSupport(t.replace(/^.*Device Configuration Overlay feature set\n/m, ''))).toEqual({ ok: true, supported: false });
    expect(parseIdentifyDcoSupport(text('hdparm-IC-sas-sg-io-failure.txt')).ok).toBe(false);
  });
});

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

describe('decisions (replayed runs)', () => {
  const eperm = recorded('hdparm-dco-identify-vda-eperm.json');
  const identifyFails: CommandResult = { ...eperm }; // hdparm -I refused too, as on the test machine

  test('HPA enabled (Hercules sdb, kernel sees 312579695 sectors): found, with the hidden sectors and bytes; DCO not determined', () => {
    const r = detect(ataDisk(312579695), {
      'hdparm -N': posted('hdparm-N-hpa-enabled-hercules-sdb.txt'),
      'hdparm --dco-identify': eperm,
      'hdparm -I': identifyFails,
    });
    expect(r.status).toBe('found');
    expect(r.summary).toBe(
      'HPA enabled — 312579695 of 312581808 sectors visible (2113 sectors, 1081856 bytes hidden); DCO not determined (hdparm --dco-identify exited 1: /dev/vda: Operation not permitted)',
    );
    expect(r.hiddenBytes).toBe((312581808 - 312579695) * 512);
    expect(r.hpa).toMatchObject({ status: 'checked', feature: 'hpa', visibleSectors: 312579695, nativeMaxSectors: 312581808, enabled: true, hiddenSectors: 2113 });
    expect(r.dco).toMatchObject({ status: 'undetermined' });
  });

  test('nothing hidden: HPA disabled and the DCO real maximum equals the native one (976773168 sectors)', () => {
    const r = detect(ataDisk(976773168), {
      'hdparm -N': posted('hdparm-N-hpa-disabled-leonidas-after.txt'),
      'hdparm --dco-identify': posted('hdparm-dco-identify-wd5000bmvv.txt'),
    });
    expect(r).toMatchObject({ status: 'none', summary: 'none — all 976773168 sectors visible (HPA disabled, DCO real maximum 976773168)', sectorSize: 512 });
    expect(r.dco).toMatchObject({ status: 'checked', supported: true, realMaxSectors: 976773168, hiddenSectors: 0 });
  });

  test('DCO hides sectors that hdparm -N no longer shows (after --dco-setmax both counts shrink, nwipe#444)', () => {
    // The Leonidas drive's -N line as nwipe#444 describes it after a DCO set-max: both counts equal.
    const setmax = text('hdparm-N-hpa-disabled-leonidas-after.txt').replace('976773168/976773168', '976771055/976771055');
    const r = detect(ataDisk(976771055), { 'hdparm -N': { status: 0, stdout: setmax, stderr: '' }, 'hdparm --dco-identify': posted('hdparm-dco-identify-wd5000bmvv.txt') });
    expect(r.status).toBe('found');
    expect(r.summary).toBe('DCO restricts the drive — 976771055 of 976773168 real sectors (2113 sectors, 1081856 bytes hidden)');
    expect(r.hpa).toMatchObject({ enabled: false, hiddenSectors: 0 });
  });

  test('hdparm counts that do not fit the kernel\'s size (USB bridge answering 0/1) are not trusted; DCO still compared', () => {
    // WD My Passport (fixtures README): the kernel saw 976717824 sectors, DCO IDENTIFY says 976773168.
    const d = ataDisk(976717824, { transport: 'usb', usb: { vendorId: '1058', productId: '071a', port: '2-1' } });
    const r = detect(d, {
      'hdparm -N': posted('hdparm-N-invalid-usb-bridge.txt'),
      'hdparm --dco-identify': posted('hdparm-dco-identify-wd5000bmvv.txt'),
    });
    expect(r.hpa).toMatchObject({ status: 'undetermined', reason: 'hdparm: max sectors 0/1, HPA setting seems invalid' });
    expect(r.status).toBe('found');
    expect(r.hiddenBytes).toBe((976773168 - 976717824) * 512);
    expect(r.summary).toBe('55344 sectors beyond the visible end (DCO real maximum 976773168; HPA or DCO, hdparm -N failed)');
  });

  test('the same through a bridge showing 4096-byte sectors: the DCO count stays in 512-byte ATA sectors', () => {
    const d = ataDisk(976717824, { transport: 'usb', logicalSectorSize: 4096, usb: { vendorId: '1058', productId: '071a', port: '2-1' } });
    const r = detect(d, { 'hdparm -N': posted('hdparm-N-invalid-usb-bridge.txt'), 'hdparm --dco-identify': posted('hdparm-dco-identify-wd5000bmvv.txt') });
    expect(r).toMatchObject({ status: 'found', sectorSize: 512, hiddenBytes: (976773168 - 976717824) * 512 });
  });

  test('a drive without the DCO feature set: DCO IDENTIFY is rejected, IDENTIFY DEVICE says why, nothing hidden', () => {
    const noDco = text('hdparm-I-wd5000bmvv.txt').replace(/^.*Device Configuration Overlay feature set\n/m, '');
    const r = detect(ataDisk(312581808), {
      'hdparm -N': posted('hdparm-N-hpa-disabled-hercules-sda.txt'),
      'hdparm --dco-identify': recorded('hdparm-dco-identify-loop0.json'),
      'hdparm -I': { status: 0, stdout: noDco, stderr: '' },
    });
    expect(r).toMatchObject({ status: 'none', summary: 'none — all 312581808 sectors visible (HPA disabled, no DCO feature set)' });
    expect(r.dco).toMatchObject({ status: 'checked', supported: false });
  });

  test('4096-byte logical sectors through a bridge: hdparm counts 512-byte ATA sectors, and the unit is found from the kernel size', () => {
    const d = ataDisk(976773168, { logicalSectorSize: 4096 });
    const r = detect(d, { 'hdparm -N': posted('hdparm-N-hpa-disabled-leonidas-after.txt'), 'hdparm --dco-identify': posted('hdparm-dco-identify-wd5000bmvv.txt') });
    expect(r).toMatchObject({ status: 'none', sectorSize: 512 });
    expect(detect(ataDisk(976773168 * 8, { logicalSectorSize: 4096 }), { 'hdparm -N': posted('hdparm-N-hpa-disabled-leonidas-after.txt'), 'hdparm --dco-identify': posted('hdparm-dco-identify-wd5000bmvv.txt') }).sectorSize).toBe(4096);
  });

  test('a USB bridge that does not pass ATA commands through: not applicable, with what hdparm said', () => {
    const d = ataDisk(976773168, { transport: 'usb', usb: { vendorId: '152d', productId: '0567', port: '2-2' } });
    const run = replay({ 'hdparm -N': { status: 5, stdout: '', stderr: text('hdparm-IC-sas-sg-io-failure.txt') } });
    const r = detectHiddenAreas(d, '/dev/sdb', run);
    expect(r.status).toBe('not-applicable');
    expect(r.summary).toMatch(/^not applicable \(USB bridge that does not pass ATA commands through \(hdparm -N exited 5: SG_IO: bad\/missing sense data/);
    expect(run.calls).toEqual([['hdparm', '-N', '/dev/sdb']]);
  });

  test('the same failure on a SATA disk is not "not applicable" but "could not determine"', () => {
    const r = detect(ataDisk(312581808), { 'hdparm -N': recorded('hdparm-N-vda-eperm.json'), 'hdparm --dco-identify': eperm, 'hdparm -I': identifyFails });
    expect(r.status).toBe('undetermined');
    expect(r.summary).toBe('could not determine: HPA: hdparm -N exited 1: /dev/vda: Operation not permitted; DCO: hdparm --dco-identify exited 1: /dev/vda: Operation not permitted');
  });

  test('hdparm missing: "not checked: hdparm not installed", nothing else tried', () => {
    const run = replay({ 'hdparm -N': notInstalled });
    expect(detectHiddenAreas(ataDisk(8), '/dev/sdb', run)).toEqual({ status: 'not-checked', summary: 'not checked: hdparm not installed', reason: 'hdparm not installed (Debian package hdparm)' });
    expect(run.calls.length).toBe(1);
  });

  test('a drive that does not answer in time is asked nothing more', () => {
    const run = replay({ 'hdparm -N': { status: null, stdout: '', stderr: '', error: 'timed-out' } });
    expect(detectHiddenAreas(ataDisk(8), '/dev/sdb', run)).toMatchObject({ status: 'undetermined', summary: 'could not determine: hdparm -N did not finish within 30 s' });
    expect(run.calls.length).toBe(1);
  });

  const nvmeDisk = (bytes: number): BlockDeviceInfo => ({ ...ataDisk(bytes / 512), name: 'nvme0n1', devNumber: '259:0', transport: 'nvme', namespaceId: 1 });
  const idNs = (nsze: number) => JSON.stringify({ nsze, ncap: nsze, nuse: 1000, nsfeat: 0, nlbaf: 0, flbas: 0, lbafs: [{ ms: 0, ds: 9, rp: 0 }] });

  test('NVMe: a namespace holding all of TNVMCAP (WDC SN730, 256060514304 bytes): none', () => {
    const r = detect(nvmeDisk(256060514304), { 'nvme id-ns': { status: 0, stdout: idNs(256060514304 / 512), stderr: '' }, 'nvme id-ctrl': posted('nvme-id-ctrl-wdc-sn730.json') }, '/dev/nvme0n1');
    expect(r).toMatchObject({ status: 'none', summary: "none — namespace 1 holds all 256060514304 bytes of the controller's capacity" });
    expect(r.nvme).toMatchObject({ status: 'checked', blockSize: 512, sizeBlocks: 500118192, namespaceBytes: 256060514304, controllerTotalBytes: 256060514304, controllerUnallocatedBytes: 0, bytesOutsideNamespace: 0 });
  });

  test('NVMe: a namespace smaller than the controller (Micron 9200, 1600321314816 bytes): found, with the difference', () => {
    const nsBytes = 1_000_000_000 * 512;
    const r = detect(nvmeDisk(nsBytes), { 'nvme id-ns': { status: 0, stdout: idNs(1_000_000_000), stderr: '' }, 'nvme id-ctrl': posted('nvme-id-ctrl-micron-9200.txt') }, '/dev/nvme0n1');
    expect(r.status).toBe('found');
    expect(r.hiddenBytes).toBe(1600321314816 - nsBytes);
    expect(r.summary).toBe(`namespace 1 holds ${nsBytes} of 1600321314816 bytes of the controller — ${1600321314816 - nsBytes} bytes outside it (0 bytes unallocated; other namespaces may hold the rest)`);
  });

  test('NVMe: refused ioctl, missing nvme-cli, a namespace the kernel sizes differently', () => {
    const eperm = recorded('nvme-id-ns-vda-eperm.json');
    const a = detect(nvmeDisk(512 * 8), { 'nvme id-ns': eperm, 'nvme id-ctrl': eperm }, '/dev/nvme0n1');
    expect(a).toMatchObject({ status: 'undetermined', summary: 'could not determine: nvme id-ns exited 1: /dev/vda: Operation not permitted' });
    expect(detectHiddenAreas(nvmeDisk(4096), '/dev/nvme0n1', replay({ 'nvme id-ns': notInstalled }))).toMatchObject({ status: 'not-checked', summary: 'not checked: nvme not installed' });
    const b = detect(nvmeDisk(512 * 8), { 'nvme id-ns': { status: 0, stdout: idNs(16), stderr: '' }, 'nvme id-ctrl': posted('nvme-id-ctrl-kingston-snv2s250g.txt') }, '/dev/nvme0n1');
    expect(b.summary).toBe('could not determine: nvme id-ns reports 8192 bytes, the kernel 4096');
  });

  test('not applicable, without running anything: loop, virtio, MMC, partition, SCSI; regular files', () => {
    const none = replay({});
    const virtio = blockDeviceInfoByNumber('254:0', join(ROOT, 'test', 'fixtures', 'sysfs', 'virtio'));
    const mmc = blockDeviceInfoByNumber('179:0', join(ROOT, 'test', 'fixtures', 'sysfs', 'mmc'));
    const part = blockDeviceInfoByNumber('8:4', join(ROOT, 'test', 'fixtures', 'sysfs', 'sata'));
    expect(detectHiddenAreas({ ...ataDisk(8), name: 'loop3', transport: 'loop' }, '/dev/loop3', none).summary).toBe('not applicable (loop device)');
    expect(detectHiddenAreas(virtio, '/dev/vda', none).summary).toMatch(/^not applicable \(virtio block device/);
    expect(detectHiddenAreas(mmc, '/dev/mmcblk0', none).summary).toMatch(/^not applicable \(MMC\/SD card/);
    expect(detectHiddenAreas(part, '/dev/sda4', none).summary).toBe('not applicable (partition of sda; hidden areas belong to the whole disk)');
    expect(detectHiddenAreas({ ...ataDisk(8), transport: 'scsi', vendor: 'SEAGATE' }, '/dev/sdb', none).summary).toBe('not applicable (SCSI disk (vendor SEAGATE): HPA and DCO are ATA features)');
    expect(detectHiddenAreas({ ...ataDisk(8), name: 'dm-0', transport: 'device-mapper' }, '/dev/dm-0', none).status).toBe('not-applicable');
    expect(none.calls).toEqual([]);
    expect(hiddenAreasOfFile().summary).toBe('not applicable (regular file)');
    for (const r of [hiddenAreasOfFile(), detectHiddenAreas(mmc, '/dev/mmcblk0', none)]) expect(validHiddenAreas(r)).toBe(true);
  });
});

describe('fuzzing (seeded, bounded)', () => {
  const samples = [
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
  const parsers = [parseHdparmN, parseDcoIdentify, parseIdentifyDcoSupport, parseNvmeIdNs, parseNvmeIdCtrl] as ((t: string) => { ok: boolean })[];
  const pieces = ['max sectors   = ', '/', ', HPA is enabled', 'Real max sectors: ', '99999999999999999999999', '-1', '{', '}', '"nsze":', '"lbafs":[', '\n', '\0', '0x', 'ffffffffffffffffffffffffffffffff', '(in use)', 'lbads:', '1e400', '[[[[[[[['];

  /** Mutations of real outputs: bytes flipped, cut, duplicated, tokens spliced in. */
  function mutate(s: string, rnd: Buffer, i: number): string {
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

  test('every parser, 6000 mutated real outputs: an answer or a reason, never an exception; numbers safe', () => {
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
    expect(accepted).toBeGreaterThan(0);
  });

  test('random bytes and an oversized output are refused with a reason', () => {
    const rnd = pseudoRandomBytes(1 << 20, 42);
    for (let i = 0; i < 200; i++) {
      const s = rnd.subarray(i * 4096, i * 4096 + 4096).toString('latin1');
      for (const p of parsers) expect(() => p(s)).not.toThrow();
    }
    const huge = 'max sectors = 1/1, HPA is disabled\n'.repeat(40_000);
    expect(parseHdparmN(huge)).toEqual({ ok: false, reason: 'hdparm printed more than 1 MiB' });
  });

  test('decisions on mutated runs stay within the manifest schema', () => {
    const rnd = pseudoRandomBytes(1 << 16, 0xabcdef);
    for (let i = 0; i < 1500; i++) {
      const m = (name: string) => ({ status: rnd[i % rnd.length]! % 3 === 0 ? 1 : 0, stdout: mutate(text(name), rnd, i), stderr: '' });
      const ata = detectHiddenAreas(ataDisk(312579695), '/dev/sdb', replay({
        'hdparm -N': m('hdparm-N-hpa-enabled-hercules-sdb.txt'),
        'hdparm --dco-identify': m('hdparm-dco-identify-wd5000bmvv.txt'),
        'hdparm -I': m('hdparm-I-wd5000bmvv.txt'),
      }));
      expect(validHiddenAreas(ata)).toBe(true);
      const nvme = detectHiddenAreas({ ...ataDisk(500118192), transport: 'nvme' }, '/dev/nvme0n1', replay({
        'nvme id-ns': { status: 0, stdout: mutate(samples[samples.length - 1]!, rnd, i), stderr: '' },
        'nvme id-ctrl': m('nvme-id-ctrl-wdc-sn730.json'),
      }));
      expect(validHiddenAreas(nvme)).toBe(true);
    }
  });
});

describe('the real tools', () => {
  test('a tool that is not installed is reported as such', () => {
    expect(systemRunner('custos-no-such-tool', ['-N', '/dev/null'])).toMatchObject({ error: 'not-installed' });
  });
});

const hdparmInstalled = systemRunner('hdparm', ['-V']).error !== 'not-installed';
const skipRoot = isRoot ? undefined : 'not root (loop devices need root; CI runs as root)';
const skipLoop = skipRoot ?? (hasTool('losetup') ? undefined : 'losetup missing (util-linux)');
if (skipLoop) test.skip(`loop-device hidden-area tests skipped: ${skipLoop}`, () => undefined);

(skipLoop ? describe.skip : describe)('a real loop device (root)', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let loop = '';
  beforeAll(() => {
    tmp = makeTempDir();
    const img = join(tmp.dir, 'disk.img');
    writeFileSync(img, Buffer.alloc(1 << 20));
    loop = spawnSync('losetup', ['-f', '--show', '-r', img], { encoding: 'utf8' }).stdout.trim();
  });
  afterAll(() => {
    if (loop) spawnSync('losetup', ['-d', loop]);
    tmp?.cleanup();
  });

  test('describeSource: "not applicable (loop device)", in a record the manifest schema accepts', () => {
    const info = describeSource(loop, { hiddenAreas: true });
    expect(info.device?.transport).toBe('loop');
    expect(info.device?.hiddenAreas).toEqual({ status: 'not-applicable', summary: 'not applicable (loop device)', reason: 'loop device' });
    expect(validHiddenAreas(info.device!.hiddenAreas)).toBe(true);
  });

  (hdparmInstalled ? test : test.skip)(`hdparm itself on the loop device says nothing about max sectors (as recorded in the fixtures)${hdparmInstalled ? '' : ': skipped, hdparm not installed'}`, () => {
    const r = systemRunner('hdparm', ['-N', loop]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`\n${loop}:\n`);
    expect(parseHdparmN(r.stdout + r.stderr).ok).toBe(false);
  });

  test('custos info shows it, in words and in --json', () => {
    if (!existsSync(join(ROOT, 'dist', 'commands', 'info.js'))) {
      throw new Error('dist/ is missing: run npx tsc -p tsconfig.build.json first');
    }
    const human = runCli(['info', loop]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^hidden areas +not applicable \(loop device\)$/m);
    expect(human.stdout).toMatch(/^transport +loop$/m);
    const j = JSON.parse(runCli(['info', '--json', loop]).stdout);
    expect(j.device.hiddenAreas).toEqual({ status: 'not-applicable', summary: 'not applicable (loop device)', reason: 'loop device' });
  });
});
