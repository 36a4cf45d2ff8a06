/**
 * hdparm's answers (src/source/hdparm.ts) on recorded outputs (test/fixtures/hidden-areas/README.md),
 * checked against the strings of the installed hdparm where there is one, and fuzzed (seeded, bounded).
 */
import { spawnSync } from 'node:child_process';
import { parseDcoIdentify, parseHdparmN, parseIdentifyDcoSupport } from '../../../src/source/hdparm';
import { fuzzParsers, randomBytesToParsers, recorded, text } from './hidden-areas-fixtures';

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

describe('fuzzing (seeded, bounded)', () => {
  const parsers = [parseHdparmN, parseDcoIdentify, parseIdentifyDcoSupport] as ((t: string) => { ok: boolean })[];

  test('every parser, 6000 mutated real outputs: an answer or a reason, never an exception; numbers safe', () => {
    expect(fuzzParsers(parsers)).toBeGreaterThan(0);
  });

  test('random bytes and an oversized output are refused with a reason', () => {
    randomBytesToParsers(parsers);
    const huge = 'max sectors = 1/1, HPA is disabled\n'.repeat(40_000);
    expect(parseHdparmN(huge)).toEqual({ ok: false, reason: 'hdparm printed more than 1 MiB' });
  });
});
