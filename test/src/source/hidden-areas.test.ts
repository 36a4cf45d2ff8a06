/**
 * Hidden areas (HPA, DCO, NVMe capacity outside the namespace), the decisions of
 * src/source/hidden-areas.ts: on replayed runs of hdparm and nvme-cli recorded or posted
 * (test/fixtures/hidden-areas/README.md), on seeded mutations of them, and the real thing on a
 * loop device (root). The parsers have their own tests (hdparm.test.ts, nvme-cli.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { blockDeviceInfoByNumber, type BlockDeviceInfo } from '../../../src/source/device';
import { type CommandResult, type CommandRunner, systemRunner } from '../../../src/source/drive-tools';
import { parseHdparmN } from '../../../src/source/hdparm';
import { detectHiddenAreas, type HiddenAreas, hiddenAreasOfFile } from '../../../src/source/hidden-areas';
import { describeSource } from '../../../src/source/info';
import { SCHEMAS } from '../../../src/schema';
import { hasTool, isRoot, makeTempDir, pseudoRandomBytes, ROOT, runCli } from '../../helpers';
import { fuzzSamples, mutate, posted, recorded, text } from './hidden-areas-fixtures';

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
  const samples = fuzzSamples();

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
