import { Args, Flags } from '@oclif/core';
import { DEFAULT_ALGORITHMS, ALGORITHMS, parseAlgorithms } from '../src/hash/algorithms';
import { hashRecorded } from '../src/services/hash';
import { type FileHashes, formatHashLines, hashedSize } from '../src/verify/hash-files';
import { CustosCommand, custodyFlags, progressFlags } from './_base';

export default class Hash extends CustosCommand {
  static override summary = 'Hash files or block devices with several algorithms in one pass.';
  static override description = `Reads each FILE once, read-only (and without touching its access time where the kernel allows), and feeds every chosen algorithm from the same pass, with constant memory whatever the size.

With one algorithm the output is exactly that of md5sum/sha256sum ("HEX  FILE"), so it can be checked with 'sha256sum -c'. With several, each line starts with the algorithm. --tag prints BSD-style lines ("SHA256 (FILE) = HEX") that 'cksum -c' checks.

Progress (--progress) is one display for all the FILEs together, on stderr; in a log a run shorter than 5 s prints none. Flags shown with env: can be set in the environment; a value on the command line wins, and an error about a value from the environment names the variable it came from.`;

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
    ...progressFlags,
  };

  async run(): Promise<{ files: FileHashes[] }> {
    const { argv, flags } = await this.parse(Hash);
    const paths = argv as string[];
    const algorithms = this.interpret('hash', () => parseAlgorithms(flags.hash));
    const custody = await this.custody(flags);
    let files: FileHashes[];
    try {
      files = await hashRecorded(paths, algorithms, { media: flags.media, onProgress: this.hashProgress(paths, flags) }, custody);
    } finally {
      this.endProgress();
    }
    for (const line of formatHashLines(files, algorithms, flags.tag ? 'bsd' : 'gnu')) this.log(line);
    return { files };
  }

  /**
   * One progress display for all the files (a bar per file would leave a line per file): bytes
   * of the files before the current one plus the current one's, out of all their sizes. The
   * sizes are looked up at the first report, when hashFiles has checked every path.
   */
  private hashProgress(paths: string[], flags: Parameters<CustosCommand['progress']>[0] & { media: boolean }): ((path: string, bytesDone: number) => void) | undefined {
    const show = this.progress(flags);
    if (!show) return undefined;
    let sizes: number[] | undefined;
    let index = 0;
    let before = 0;
    let last = 0;
    return (path, bytesDone) => {
      sizes ??= paths.map((p) => {
        try {
          return hashedSize(p, flags.media);
        } catch {
          return 0; // hashFile reports what is wrong with it; progress only loses its total.
        }
      });
      // The next file has begun when the path changes, or the same path (named twice) starts again.
      if (index < paths.length - 1 && (paths[index] !== path || bytesDone < last)) {
        do before += sizes[index++]!;
        while (paths[index] !== path && index < paths.length - 1);
      }
      last = bytesDone;
      const done = before + bytesDone;
      show('hash', sizes.reduce((a, b) => a + b, 0), { bytesRead: done, bytesDone: done, readErrors: [] });
    };
  }
}
