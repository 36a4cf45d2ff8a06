import { Args } from '@oclif/core';
import { formatBytes } from '../src/acquire/progress';
import { infoRecorded } from '../src/recorded';
import type { SourceInfo } from '../src/source/info';
import { CustosCommand, custodyFlags } from './_base';

export default class Info extends CustosCommand {
  static override summary = 'Describe a source: type, size, sector sizes, identity, read-only flag, mounts.';
  static override description = `For a block device: model, vendor, serial, removable, rotational, partitions (from /sys/class/block), the kernel read-only flag, and every mount or swap area on it or its partitions (from /proc/self/mountinfo and /proc/swaps). For a regular file: its size. Reads nothing from the medium itself and changes nothing.`;

  static override examples = ['<%= config.bin %> <%= command.id %> /dev/sdb', '<%= config.bin %> <%= command.id %> --json samples/fat-disk.img'];

  static override args = {
    source: Args.string({ description: 'block device or image file', required: true }),
  };

  static override flags = custodyFlags;

  async run(): Promise<SourceInfo> {
    const { args, flags } = await this.parse(Info);
    const info = await infoRecorded(args.source, await this.custody(flags));
    if (!this.jsonEnabled()) this.print(info);
    return info;
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
      row('model', d.model);
      row('vendor', d.vendor);
      row('serial', d.serial);
      row('wwid', d.wwid);
      row('removable', d.removable ? 'yes' : 'no');
      row('rotational', d.rotational ? 'yes' : 'no');
      row('loop backing file', d.loopBackingFile);
      for (const p of d.partitions) row('partition', `${p.name}: start sector ${p.startSector}, ${p.sizeBytes} bytes`);
      if (d.holders.length > 0) row('holders', d.holders.join(', '));
    }
    row('kernel read-only', i.readOnly === null ? 'n/a (regular file)' : i.readOnly ? 'yes' : 'no');
    if (i.mounts.length === 0) row('mounted', i.kind === 'file' ? 'n/a (regular file)' : 'no');
    for (const m of i.mounts) row('mounted', `${m.device} on ${m.mountPoint} (${m.fsType}, ${m.readWrite ? 'READ-WRITE' : 'read-only'})`);
  }
}
