import { Args } from '@oclif/core';
import { formatBytes } from '../src/acquire/progress';
import { type Described, infoRecorded } from '../src/services/info';
import type { SourceInfo } from '../src/source/info';
import type { E01Info } from '../src/formats/e01/reader';
import { CustosCommand, custodyFlags } from './_base';

interface SplitInfo {
  kind: 'split';
  segments: { path: string; size: number }[];
  mediaSize: number;
}

export default class Info extends CustosCommand {
  static override summary = 'Describe a source: type, size, sector sizes, identity, hidden areas, read-only flag, mounts.';
  static override description = `For a block device: model, vendor, serial, firmware, WWID/EUI, transport, the USB device behind a bridge, MMC card registers, removable, rotational, partitions (from /sys/class/block), the kernel read-only flag, and every mount or swap area on it or its partitions (from /proc/self/mountinfo and /proc/swaps). Hidden areas: a Host Protected Area and Device Configuration Overlay on ATA disks (hdparm -N, --dco-identify, -I) or NVMe capacity outside the namespace (nvme id-ns, id-ctrl); those only identify, never set anything. For a regular file: its size; an E01 (recognised by its signature): what it records (case metadata, media, stored hashes, read errors); a split image (from any segment: .001…, .000…, .aa…): its segments. Reads nothing from the medium itself and changes nothing.`;

  static override examples = ['<%= config.bin %> <%= command.id %> /dev/sdb', '<%= config.bin %> <%= command.id %> --json samples/fat-disk.img'];

  static override args = {
    source: Args.string({ description: 'block device or image file', required: true }),
  };

  static override flags = custodyFlags;

  async run(): Promise<Described> {
    const { args, flags } = await this.parse(Info);
    const info = await infoRecorded(args.source, await this.custody(flags));
    if (!this.jsonEnabled()) {
      if (info.kind === 'e01') this.printE01(args.source, info as unknown as E01Info);
      else if (info.kind === 'split') this.printSplit(info as unknown as SplitInfo);
      else this.print(info as SourceInfo);
    }
    return info;
  }

  private printSplit(i: SplitInfo): void {
    this.log(`${'image'.padEnd(20)} split raw image, ${i.segments.length} segment file(s), ${i.mediaSize} bytes of media (${formatBytes(i.mediaSize)})`);
    for (const sgm of i.segments) this.log(`${'segment'.padEnd(20)} ${sgm.path} (${sgm.size} bytes)`);
  }

  private printE01(path: string, e: E01Info): void {
    const row = (k: string, v: string | number | undefined) => {
      if (v !== undefined && v !== '') this.log(`${k.padEnd(20)} ${v}`);
    };
    const h = e.header;
    row('image', `${path} (EWF-E01, ${e.segments.length} segment file(s), ${e.segments.reduce((n, s) => n + s.size, 0)} bytes)`);
    row('case number', h.c);
    row('evidence number', h.n);
    row('description', h.a);
    row('examiner', h.e);
    row('notes', h.t);
    row('model', h.md);
    row('serial', h.sn);
    row('acquired with', [h.av, h.ov].filter(Boolean).join(' on '));
    row('acquisition date', /^\d+$/.test(h.m ?? '') ? new Date(Number(h.m) * 1000).toISOString() : h.m);
    row('media type', ({ 0: 'removable', 1: 'fixed', 3: 'optical', 16: 'memory' } as Record<number, string>)[e.mediaType] ?? `0x${e.mediaType.toString(16)}`);
    row('physical', e.physical ? 'yes' : 'no');
    row('media size', `${e.mediaSize} bytes (${formatBytes(e.mediaSize)})`);
    row('sectors', `${e.sectorCount} × ${e.bytesPerSector} B, ${e.sectorsPerChunk} per chunk, ${e.chunkCount} chunks`);
    row('compression', ['none', 'fast', 'best'][e.compressionLevel] ?? String(e.compressionLevel));
    row('set identifier', e.guid);
    row('stored MD5', e.stored.md5);
    row('stored SHA-1', e.stored.sha1);
    row('read errors', e.readErrors.length === 0 ? 'none' : `${e.readErrors.slice(0, 20).map((r) => `${r.firstSector}+${r.sectorCount}`).join(', ')}${e.readErrors.length > 20 ? `, … (${e.readErrors.length} ranges; --json lists them all)` : ''}`);
    for (const w of e.warnings ?? []) row('warning', w);
  }

  private print(i: SourceInfo): void {
    const row = (k: string, v: string | number | boolean | undefined | null) => {
      if (v !== undefined) this.log(`${k.padEnd(20)} ${v === null ? 'n/a' : String(v)}`);
    };
    row('path', i.path);
    if (i.realPath !== i.path) row('resolves to', i.realPath);
    row('type', i.kind === 'block-device' ? 'block device' : 'regular file');
    row('size', `${i.sizeBytes} bytes (${formatBytes(i.sizeBytes)})`);
    row('sectors', `${i.sectors} × ${i.logicalSectorSize} B (physical ${i.physicalSectorSize} B)`);
    const d = i.device;
    if (d) {
      row('device', `${d.name} (${d.devNumber})${d.isPartition ? `, partition of ${d.parent}` : ''}`);
      row('transport', d.transport);
      row('model', d.model);
      row('vendor', d.vendor);
      row('serial', d.serial);
      row('firmware', d.firmwareRevision);
      row('wwid', d.wwid);
      row('eui', d.eui);
      row('nguid', d.nguid);
      row('namespace id', d.namespaceId);
      if (d.usb) {
        const u = d.usb;
        row('usb device', `${u.vendorId}:${u.productId}${u.manufacturer || u.product ? ` ${[u.manufacturer, u.product].filter(Boolean).join(' ')}` : ''} (port ${u.port})`);
        row('usb serial', u.serial);
      }
      if (d.mmc) {
        const m = d.mmc;
        row('card', [m.type, m.name, m.manufacturerId && `manufacturer ${m.manufacturerId}`, m.oemId && `OEM ${m.oemId}`, m.date && `made ${m.date}`].filter(Boolean).join(', '));
        row('card CID', m.cid);
      }
      row('removable', d.removable ? 'yes' : 'no');
      row('rotational', d.rotational ? 'yes' : 'no');
      row('loop backing file', d.loopBackingFile);
      for (const p of d.partitions) row('partition', `${p.name}: start sector ${p.startSector}, ${p.sizeBytes} bytes`);
      if (d.holders.length > 0) row('holders', d.holders.join(', '));
    }
    row('hidden areas', (i.hiddenAreas ?? d?.hiddenAreas)?.summary);
    row('kernel read-only', i.readOnly === null ? 'n/a (regular file)' : i.readOnly ? 'yes' : 'no');
    if (i.mounts.length === 0) row('mounted', i.kind === 'file' ? 'n/a (regular file)' : 'no');
    for (const m of i.mounts) row('mounted', `${m.device} on ${m.mountPoint} (${m.fsType}, ${m.readWrite ? 'READ-WRITE' : 'read-only'})`);
  }
}
