import { Args, Flags } from '@oclif/core';
import { ALGORITHM_INFO, ALGORITHMS, parseAlgorithms } from '../src/hash/algorithms';
import { verificationOutcome, verifyRecorded } from '../src/services/verify';
import { type HashComparison, type VerifyResult } from '../src/verify/verify';
import { CustosCommand, custodyFlags, progressFlags } from './_base';

export default class Verify extends CustosCommand {
  static override summary = 'Re-hash an image (and optionally its source) and compare with the recorded hashes.';
  static override description = `TARGET is an acquisition manifest (BASE.manifest.json), an E01, or a raw or split image (BASE.raw; BASE.000 or BASE.001, BASE.aa — from any segment, the others are found beside it). With a manifest, every file it lists must be present with its recorded size, and the whole image and each segment are re-hashed with the manifest's algorithms. A bare image is compared with the manifest beside it, or with --expect values.

--source re-reads the original device or file (with the same bad-sector handling as acquisition) and compares it too.

Progress goes to stderr (--progress), one display per pass (image, source). Flags shown with env: can be set in the environment; a value on the command line wins, and an error about a value from the environment names the variable it came from.

A damaged E01 is read to the end, as ewfverify does: every chunk that fails its checksum is listed (media offset, sectors, file and file offset) and the verdict is MISMATCH. With a hash-windows file (acquire --hash-window), a mismatch names the windows (byte ranges) that differ.

Prints one line per algorithm with MATCH or MISMATCH and both values. Exit codes: 0 every hash matches, 4 a mismatch or damage, 3 a missing segment, a size that disagrees or an invalid manifest or hash record.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> /cases/x/EV-0001.manifest.json',
    '<%= config.bin %> <%= command.id %> /cases/x/EV-0001.001 --source /dev/sdb',
    '<%= config.bin %> <%= command.id %> disk.raw --expect md5=e59bf7cee4c9e04c2b81e8580a848d74',
    '<%= config.bin %> <%= command.id %> disk.000 --expect acquisition.dc3dd.log',
    '<%= config.bin %> <%= command.id %> image.E01 --expect image.E01.txt',
  ];

  static override args = {
    target: Args.string({ description: 'manifest, raw image or first segment of a split image', required: true }),
  };

  static override flags = {
    ...custodyFlags,
    source: Flags.string({ summary: 'Also re-read this source (device or file) and compare.', env: 'CUSTOS_SOURCE' }),
    hash: Flags.string({ char: 'a', summary: `Algorithms to compute (default: those recorded): ${ALGORITHMS.join(', ')}.`, env: 'CUSTOS_HASH' }),
    expect: Flags.string({
      summary: 'Expected value ALG=HEX, or a hash record another tool wrote (repeatable).',
      description: 'A file here is read as the hash record of the tool that wrote it, recognised by its content: dc3dd log (log=/hlog=, also ofs= split runs), dcfldd hashlog, ewfacquire/ewfverify output or -l log, Guymager .info, FTK Imager .txt, or an md5sum/sha*sum file (GNU or --tag lines; the line for the image is picked by name).',
      multiple: true,
    }),
    retries: Flags.integer({ summary: 'Re-reads of a failing source sector (with --source).', min: 0, max: 100 }),
    ...progressFlags,
  };

  async run(): Promise<VerifyResult> {
    const { args, flags } = await this.parse(Verify);
    const custody = await this.custody(flags);
    const result = await this.interruptible(() =>
      verifyRecorded(args.target, {
        source: flags.source,
        algorithms: flags.hash ? this.interpret('hash', () => parseAlgorithms(flags.hash!)) : undefined,
        expectValues: flags.expect ?? [],
        retries: flags.retries,
        onProgress: this.progress(flags),
      }, custody),
    );
    if (!this.jsonEnabled()) this.print(result);
    this.conclude(verificationOutcome(result));
    return result;
  }

  private print(r: VerifyResult): void {
    const line = (what: string, c: HashComparison) =>
      this.log(`${what.padEnd(7)} ${ALGORITHM_INFO[c.algorithm].label.padEnd(8)}  ${c.match ? 'MATCH   ' : 'MISMATCH'}  expected ${c.expected}  computed ${c.actual}`);
    for (const c of r.image.comparisons) line('image', c);
    for (const s of r.image.segments ?? []) for (const c of s.comparisons) if (!c.match) line(s.name, c);
    for (const c of r.source?.comparisons ?? []) line('source', c);
    const n = r.image.comparisons.length + (r.source?.comparisons.length ?? 0);
    const against = r.manifest ? `the manifest ${r.manifest}` : 'the expected values';
    this.log(
      r.verdict === 'match'
        ? `verdict: MATCH — all ${n} hash comparisons agree with ${against} (${r.image.files.length} file(s), ${r.image.size} bytes)`
        : `verdict: MISMATCH — the evidence does not match ${against}`,
    );
    const shown = 50;
    const d = r.image.damaged;
    if (d) {
      this.log(`damaged: ${d.count} chunk(s) of the image fail their checks; their hashes above cover what could be read:`);
      for (const x of d.ranges.slice(0, shown)) {
        this.log(
          `  chunk ${x.chunk ?? '?'}: media bytes ${x.offset}-${x.offset + x.length - 1} (sectors ${x.firstSector}-${x.firstSector + x.sectorCount - 1}), ${x.file} offset ${x.fileOffset}: ${x.reason}; hashed as ${x.filledWith === 'zeros' ? 'zeros' : 'the stored bytes'}`,
        );
      }
      if (d.count > shown) this.log(`  … and ${d.count - shown} more (--json lists the first ${d.ranges.length})`);
    }
    const w = r.image.windows;
    if (w && !w.recordIntact) this.log('windows: the hash-windows file is not the one the manifest records (its SHA-256 differs): it was changed');
    if (w && w.differingCount > 0) {
      this.log(`windows: ${w.differingCount} of ${w.checked} windows of ${w.windowSize} bytes differ:`);
      for (const x of w.differing.slice(0, shown)) this.log(`  window ${x.index}: bytes ${x.offset}-${x.offset + x.length - 1}`);
      if (w.differingCount > shown) this.log(`  … and ${w.differingCount - shown} more (--json lists the first ${w.differing.length})`);
    }
    for (const s of r.expectSources ?? []) {
      this.log(`expected values from the ${s.tool}${s.version ? ` ${s.version}` : ''} record ${s.file}${s.subject ? ` (about ${JSON.stringify(s.subject).slice(1, -1)})` : ''}${s.size !== undefined ? `, ${s.size} bytes` : ''}`);
      if (s.size !== undefined && s.size !== r.image.size) this.log(`note: that record states ${s.size} bytes, the image has ${r.image.size}`);
      for (const n of s.notes) this.log(`note: ${n}`);
    }
    if (r.source && r.source.expectedReadErrors && JSON.stringify(r.source.readErrors) !== JSON.stringify(r.source.expectedReadErrors)) {
      this.log(`note: the source re-read found ${r.source.readErrors.length} unreadable range(s); the acquisition recorded ${r.source.expectedReadErrors.length}`);
    }
  }
}
