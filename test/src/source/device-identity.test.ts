/**
 * What a disk is and how it is attached (src/source/device-identity.ts), on fake sysfs trees that
 * reproduce the kernel's layouts with values recorded from real machines
 * (test/fixtures/sysfs/README.md): the transport, the USB device behind a bridge, and the identity
 * each transport keeps in its own files, checked against independent decodings where there are any.
 */
import { join } from 'node:path';
import { blockDeviceInfoByNumber } from '../../../src/source/device';
import { vpdSerial } from '../../../src/source/device-identity';
import { ROOT } from '../../helpers';

const FIX = join(ROOT, 'test', 'fixtures', 'sysfs');
const tree = (name: string) => join(FIX, name);

describe('sysfs layouts (recorded values)', () => {
  test('SATA disk behind a SAS HBA and expander: the SAT vendor "ATA" makes it an ATA disk; left-padded serial trimmed', () => {
    const d = blockDeviceInfoByNumber('8:208', tree('sas-sata'));
    expect(d).toMatchObject({ name: 'sdn', transport: 'ata', vendor: 'ATA', model: 'HGST HUH728080AL', serial: 'ZZZZH3VX', wwid: 'naa.5000cca23be1dc3c' });
  });

  test('USB bridge: the SCSI inquiry is the bridge\'s, the USB device is recorded apart (vendor/product IDs, serial, port)', () => {
    const d = blockDeviceInfoByNumber('8:16', tree('usb-bridge'));
    expect(d).toMatchObject({ name: 'sdb', transport: 'usb', vendor: 'External', model: 'USB3.0 DISK02', firmwareRevision: '5203' });
    // The bridge offers no VPD page 0x80: no SCSI serial, and the USB serial is not passed off as one.
    expect(d.serial).toBeUndefined();
    expect(d.usb).toEqual({ vendorId: '152d', productId: '0567', serial: '20170331000C3', port: '2-2' });
  });

  test('NVMe namespace below its controller: model/serial/firmware from the controller, padding trimmed, nsid from the namespace', () => {
    const d = blockDeviceInfoByNumber('259:0', tree('nvme'));
    expect(d).toMatchObject({
      name: 'nvme0n1',
      transport: 'nvme',
      model: 'KINGSTON SNV2S250G',
      serial: '50026B7685F13C1E',
      firmwareRevision: 'ELFK0S.4',
      namespaceId: 1,
    });
    expect(d.vendor).toBeUndefined();
  });

  test('NVMe namespace under native multipath: identity from the subsystem, agreeing with the hex fields of its wwid', () => {
    const d = blockDeviceInfoByNumber('259:6', tree('nvme-multipath'));
    expect(d).toMatchObject({ name: 'nvme6n1', transport: 'nvme', namespaceId: 1 });
    // The kernel's fallback wwid is "nvme.VVVV-hex(serial)-hex(model)-NSID": decode it independently.
    const [vid, sn, mn, nsid] = d.wwid!.replace(/^nvme\./, '').split('-');
    expect(vid).toBe('8086');
    expect(Buffer.from(sn!, 'hex').toString('latin1').trim()).toBe(d.serial);
    expect(Buffer.from(mn!, 'hex').toString('latin1').trim()).toBe(d.model);
    expect(Number.parseInt(nsid!, 16)).toBe(d.namespaceId);
  });

  test('SD card: the kernel-decoded CID fields agree with the CID register decoded here (SD Physical Layer spec §5.2)', () => {
    const d = blockDeviceInfoByNumber('179:0', tree('mmc'));
    expect(d).toMatchObject({ name: 'mmcblk0', transport: 'mmc', model: 'SD16G', serial: '0xda89b829', firmwareRevision: '0x0' });
    const cid = Buffer.from(d.mmc!.cid!, 'hex');
    expect(cid.length).toBe(16);
    expect(`0x${cid[0]!.toString(16).padStart(6, '0')}`).toBe(d.mmc!.manufacturerId); // MID
    expect(`0x${cid.readUInt16BE(1).toString(16).padStart(4, '0')}`).toBe(d.mmc!.oemId); // OID
    expect(cid.subarray(3, 8).toString('latin1')).toBe(d.mmc!.name); // PNM
    expect(`0x${cid.readUInt32BE(9).toString(16).padStart(8, '0')}`).toBe(d.serial); // PSN
    const mdt = cid.readUInt16BE(13) & 0xfff;
    expect(`${String(mdt & 0xf).padStart(2, '0')}/${2000 + (mdt >> 4)}`).toBe(d.mmc!.date); // MDT
    expect(d.mmc).toMatchObject({ type: 'SD', hardwareRevision: '0x3' });
  });

  test('VPD page 0x80: a length beyond the page is cut to the page; a page of another number is ignored', () => {
    expect(vpdSerial(Buffer.from([0, 0x80, 0xff, 0xff, 0x41, 0x42, 0x20]))).toBe('AB');
    expect(vpdSerial(Buffer.from([0, 0x83, 0, 2, 0x41, 0x42]))).toBeUndefined();
    expect(vpdSerial(Buffer.from([0, 0x80]))).toBeUndefined();
  });
});
