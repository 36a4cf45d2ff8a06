import { Args, Flags } from '@oclif/core';
import { DEFAULT_ALGORITHMS, ALGORITHMS, parseAlgorithms } from '../src/hash/algorithms';
import { hashRecorded } from '../src/recorded';
import { type FileHashes, formatHashLines } from '../src/verify/hash-files';
import { CustosCommand, custodyFlags } from './_base';

export default class Hash extends CustosCommand {
  static override summary = 'Hash files or block devices with several algorithms in one pass.';
  static override description = `Reads each FILE once, read-only (and without touching its access time where the kernel allows), and feeds every chosen algorithm from the same pass, with constant memory whatever the size.

With one algorithm the output is exactly that of md5sum/sha256sum ("HEX  FILE"), so it can be checked with 'sha256sum -c'. With several, each line starts with the algorithm. --tag prints BSD-style lines ("SHA256 (FILE) = HEX") that 'cksum -c' checks.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> samples/fat-disk.img',
    '<%= config.bin %> <%= command.id %> --hash sha256,blake3 evidence.001 evidence.002',
    '<%= config.bin %> <%= command.id %> --hash md5,sha1,sha256,sha512 --tag disk.img > disk.sums && cksum -c disk.sums',
    '<%= config.bin %> <%= command.id %> --json disk.img',
  ];

  static override strict = false;
  static override args = {
    file: Args.string({ description: 'file or block device to hash (several may be given)', required: true }),
  };

  static override flags = {
    ...custodyFlags,
    hash: Flags.string({
      char: 'a',
      summary: `Comma-separated algorithms: ${ALGORITHMS.join(', ')}.`,
      default: DEFAULT_ALGORITHMS.join(','),
      env: 'CUSTOS_HASH',
    }),
    tag: Flags.boolean({ summary: "Print BSD-style lines ('SHA256 (FILE) = HEX') that 'cksum -c' can check." }),
    media: Flags.boolean({ summary: 'For .E01 files, hash the media they hold (as ewfverify does), not the files.' }),
  };

  async run(): Promise<{ files: FileHashes[] }> {
    const { argv, flags } = await this.parse(Hash);
    const algorithms = parseAlgorithms(flags.hash);
    const files = await hashRecorded(argv as string[], algorithms, { media: flags.media }, await this.custody(flags));
    for (const line of formatHashLines(files, algorithms, flags.tag ? 'bsd' : 'gnu')) this.log(line);
    return { files };
  }
}
