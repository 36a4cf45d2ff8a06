import { Args, Flags } from '@oclif/core';
import type { ConvertResult } from '../src/convert/convert';
import { FORMAT_NAMES, type FormatName } from '../src/formats/registry';
import { ALGORITHM_INFO, ALGORITHMS, parseAlgorithms } from '../src/hash/algorithms';
import { convertRecorded } from '../src/services/convert';
import { parseSize } from '../src/units';
import { formatRate } from '../src/acquire/progress';
import { CustosCommand, custodyFlags, progressFlags } from './_base';

export default class Convert extends CustosCommand {
  static override summary = 'Write an image in another format (raw, split, E01), every media hash checked against its record.';
  static override description = `IMAGE is any image custos reads (detected by its content: raw, a split set from any segment — .001, .000, .aa — or an E01 set), or its manifest. It is read once; the media hashes computed on the way are compared with what the input records: its manifest (BASE.manifest.json beside it), else the container's own hashes (E01 MD5/SHA-1), else --expect values. A conversion that changes one byte of the media stops with exit 4, and the new files keep their .partial names.

The new image gets a manifest of its own that says it is a derived copy, not an acquisition, and names its parent: path, format, the parent's media hashes and the SHA-256 of the parent's manifest. Sectors the original acquisition could not read stay recorded (E01: error2). E01 case metadata is carried across (raw to E01 takes it from the input's manifest). With --case-dir a convert entry is recorded.

Exit codes: 0 converted and checked, 4 the media does not match its record, 3 no record to check against, an existing output or a bad image, 5 an I/O failure.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> /cases/x/EV-0001.E01 --to raw --out /cases/x/raw',
    '<%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json --to e01 --out /cases/x/e01 --compression best',
    '<%= config.bin %> <%= command.id %> disk.000 --to e01 --out e01 --expect acquisition.dc3dd.log',
  ];

  static override args = {
    image: Args.string({ description: 'image file (any segment) or its manifest', required: true }),
  };

  static override flags = {
    ...custodyFlags,
    to: Flags.option({ options: FORMAT_NAMES, summary: 'Format to write: raw, split or e01.', required: true })(),
    out: Flags.string({ char: 'o', summary: 'Folder to write the new image and its manifest into (created when missing).', required: true, env: 'CUSTOS_OUT' }),
    name: Flags.string({ summary: 'Base name of the new files (default: the evidence number, else the input name).' }),
    compression: Flags.option({ options: ['none', 'fast', 'best'] as const, summary: 'E01 chunk compression (zlib).', default: 'fast', env: 'CUSTOS_COMPRESSION' })(),
    'segment-size': Flags.string({ summary: 'E01 segment file size, e.g. 650MiB, 2GiB.', default: '1.4GiB', env: 'CUSTOS_SEGMENT_SIZE' }),
    'split-size': Flags.string({ summary: 'Segment size for --to split, e.g. 650MiB, 4GB.', default: '2GiB', env: 'CUSTOS_SPLIT_SIZE' }),
    hash: Flags.string({ char: 'a', summary: `Algorithms to compute besides those the input records: ${ALGORITHMS.join(', ')}.`, env: 'CUSTOS_HASH' }),
    expect: Flags.string({ summary: 'Expected media value ALG=HEX, or another tool\'s hash record, when the input records none (repeatable).', multiple: true }),
    ...progressFlags,
  };

  async run(): Promise<Omit<ConvertResult, 'manifest'>> {
    const { args, flags } = await this.parse(Convert);
    const to = flags.to as FormatName;
    const options = {
      input: args.image,
      to,
      outDir: flags.out,
      name: flags.name,
      compression: flags.compression,
      segmentSize: to === 'e01' ? this.interpret('segment-size', () => parseSize(flags['segment-size'], '--segment-size')) : undefined,
      splitSize: to === 'split' ? this.interpret('split-size', () => parseSize(flags['split-size'], '--split-size')) : undefined,
      algorithms: flags.hash ? this.interpret('hash', () => parseAlgorithms(flags.hash!)) : undefined,
      expectValues: flags.expect ?? [],
    };
    const custody = await this.custody(flags);
    const result = await this.interruptible((signal) => convertRecorded({ ...options, signal, onProgress: this.progress(flags), onEvent: (m) => this.note(m) }, custody));
    const { manifest, ...rest } = result;
    if (!this.jsonEnabled()) {
      const row = (k: string, v: string) => this.log(`  ${k.padEnd(13)} ${v}`);
      this.log(`custos convert: ${result.parent.format} → ${to}, every media hash matches the ${result.parent.recordedBy === 'manifest' ? 'manifest' : result.parent.recordedBy === 'container' ? "image's own record" : 'expected values'}`);
      row('from', result.parent.path);
      for (const o of result.outputs) row('image', `${o.path} (${o.size} bytes)`);
      row('manifest', result.manifestPath);
      for (const c of result.comparisons) row(ALGORITHM_INFO[c.algorithm].label, `${c.actual} MATCH`);
      for (const [alg, hex] of Object.entries(result.hashes)) if (!result.comparisons.some((c) => c.algorithm === alg)) row(ALGORITHM_INFO[alg as keyof typeof ALGORITHM_INFO].label, hex!);
      row('time', `${result.seconds.toFixed(1)} s, ${formatRate(result.seconds > 0 ? manifest.acquisition.bytesRead / result.seconds : 0)}`);
    }
    return rest;
  }
}
