import { Args, Flags } from '@oclif/core';
import { type AcquireResult, DEFAULT_SPLIT_SIZE } from '../src/acquire/acquire';
import { acquireRecorded, acquisitionOutcome } from '../src/services/acquire';
import { formatRate } from '../src/acquire/progress';
import { ALGORITHM_INFO, ALGORITHMS, DEFAULT_ALGORITHMS, parseAlgorithms } from '../src/hash/algorithms';
import { resolveCase } from '../src/manifest/case';
import { parseSize } from '../src/units';
import { CustosCommand, custodyFlags, progressFlags } from './_base';

export default class Acquire extends CustosCommand {
  static override summary = 'Acquire a block device or image file into a verified, hashed image.';
  static override description = `Reads SOURCE without ever writing to it (block devices: the kernel read-only flag is set and checked first, a device mounted read-write is refused, reads use O_DIRECT) and writes a bit-for-bit image with every chosen hash computed in the same pass.

Unreadable sectors are re-read sector by sector (--retries times), then zero-filled and listed in the manifest; every later byte stays at its offset. The image is written under temporary names (.partial) and renamed only when complete and flushed; BASE.manifest.json (schemas/acquisition-manifest.schema.json) records the source, the write-block, the hashes, the read errors and the outputs.

Ctrl-C stops cleanly; the same command with --resume continues, re-checking what was written against the source first.

--format e01 writes EnCase 6 style Expert Witness files that libewf (ewfverify, ewfinfo, ewfexport), EnCase, FTK, X-Ways and The Sleuth Kit read: case metadata in the header sections, MD5 and SHA-1 in the digest section, unreadable sectors in error2; chunks compressed on every core. Other hashes stay in the manifest.

Progress goes to stderr (--progress): a bar that fits the terminal, a line every 5 s in a log, or JSON lines for programs; the result goes to stdout. Flags shown with env: can be set in the environment; a value on the command line wins, and an error about a value from the environment names the variable it came from.

Exit codes: 0 complete, 6 complete but with unreadable sectors, 4 a --verify/--verify-source mismatch, 5 an I/O failure or a source that stopped answering (resumable with --resume), 130 interrupted, 3 an output that would land on the evidence or an existing one, 2 a bad flag value.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> /dev/sdb --out /cases/2026-0314 --case-file case.json --verify',
    '<%= config.bin %> <%= command.id %> /dev/sdb -o /cases/x --format split --split-size 650MiB --hash md5,sha256 --hash-window 64MiB',
    '<%= config.bin %> <%= command.id %> samples/fat-disk.img -o out --case 2026-0314 --evidence EV-0001 --examiner "A. Morgan"',
    '<%= config.bin %> <%= command.id %> /dev/sdb -o /cases/x --resume',
  ];

  static override args = {
    source: Args.string({ description: 'block device or image file to acquire', required: true }),
  };

  static override flags = {
    ...custodyFlags,
    out: Flags.string({ char: 'o', summary: 'Folder to write the image and its manifest into.', required: true, env: 'CUSTOS_OUT' }),
    name: Flags.string({ summary: 'Base name of the output files (default: the evidence number, else the source name).' }),
    format: Flags.option({ options: ['raw', 'split', 'e01'] as const, summary: 'raw: BASE.raw; split: BASE.001, BASE.002, …; e01: BASE.E01, BASE.E02, … (EnCase 6 EWF).', default: 'raw', env: 'CUSTOS_FORMAT' })(),
    compression: Flags.option({ options: ['none', 'fast', 'best'] as const, summary: 'E01 chunk compression (zlib).', default: 'fast', env: 'CUSTOS_COMPRESSION' })(),
    'segment-size': Flags.string({ summary: 'E01 segment file size, e.g. 650MiB, 2GiB.', default: '1.4GiB', env: 'CUSTOS_SEGMENT_SIZE' }),
    'split-size': Flags.string({ summary: 'Segment size for --format split, e.g. 650MiB, 4GB.', default: '2GiB', env: 'CUSTOS_SPLIT_SIZE' }),
    hash: Flags.string({ char: 'a', summary: `Comma-separated algorithms: ${ALGORITHMS.join(', ')}.`, default: DEFAULT_ALGORITHMS.join(','), env: 'CUSTOS_HASH' }),
    'hash-window': Flags.string({ summary: 'Also hash every window of this size (dcfldd hashwindow), into BASE.windows.json.' }),
    retries: Flags.integer({ summary: 'Re-reads of a failing sector before it is zero-filled.', default: 2, min: 0, max: 100, env: 'CUSTOS_RETRIES' }),
    verify: Flags.boolean({ summary: 'Re-read the written image and compare every hash.' }),
    'verify-source': Flags.boolean({ summary: 'Re-read the source and compare every hash.' }),
    resume: Flags.boolean({ summary: 'Continue an interrupted acquisition (same command line).' }),
    'allow-mounted': Flags.boolean({ summary: 'Acquire even when the source is mounted read-write (recorded in the manifest).' }),
    'case-file': Flags.string({ summary: 'JSON case description (schemas/case.schema.json); the flags below override it.', env: 'CUSTOS_CASE_FILE' }),
    case: Flags.string({ summary: 'Case number.', env: 'CUSTOS_CASE' }),
    evidence: Flags.string({ summary: 'Evidence number.', env: 'CUSTOS_EVIDENCE' }),
    examiner: Flags.string({ summary: 'Examiner name.', env: 'CUSTOS_EXAMINER' }),
    description: Flags.string({ summary: 'Description of the evidence.' }),
    notes: Flags.string({ summary: 'Notes.' }),
    'max-rate': Flags.string({ summary: 'Read at most this many bytes per second, e.g. 50MB (spares a failing or hot drive).', env: 'CUSTOS_MAX_RATE' }),
    'checkpoint-interval': Flags.integer({ summary: 'Seconds between saves of the resume state (BASE.resume.json).', default: 2, min: 1, max: 3600 }),
    ...progressFlags,
  };

  async run(): Promise<Omit<AcquireResult, 'manifest'> & { status: string }> {
    const { args, flags } = await this.parse(Acquire);
    const algorithms = this.interpret('hash', () => parseAlgorithms(flags.hash));
    // Only reading the case file can fail here: its errors are about --case-file.
    const caseInfo = this.interpret('case-file', () =>
      resolveCase(flags['case-file'], {
        caseNumber: flags.case,
        evidenceNumber: flags.evidence,
        examiner: flags.examiner,
        description: flags.description,
        notes: flags.notes,
      }),
    );
    // Every value is checked before the passphrase is asked and before anything is read.
    const splitSize = flags.format === 'split' ? this.interpret('split-size', () => parseSize(flags['split-size'], '--split-size')) : DEFAULT_SPLIT_SIZE;
    const segmentSize = flags.format === 'e01' ? this.interpret('segment-size', () => parseSize(flags['segment-size'], '--segment-size')) : undefined;
    const windowSize = flags['hash-window'] ? parseSize(flags['hash-window'], '--hash-window') : 0;
    const maxRate = flags['max-rate'] ? this.interpret('max-rate', () => parseSize(flags['max-rate']!, '--max-rate')) : undefined;
    const custody = await this.custody(flags);
    const result = await this.interruptible((signal) =>
      acquireRecorded({
        source: args.source,
        outDir: flags.out,
        name: flags.name,
        format: flags.format,
        splitSize,
        compression: flags.compression,
        segmentSize,
        algorithms,
        windowSize,
        retries: flags.retries,
        verify: flags.verify,
        verifySource: flags['verify-source'],
        resume: flags.resume,
        allowMounted: flags['allow-mounted'],
        case: caseInfo,
        checkpointInterval: flags['checkpoint-interval'] * 1000,
        maxRate,
        signal,
        onProgress: this.progress(flags),
        onEvent: (m) => this.note(m),
      }, custody),
    );
    const { manifest, ...rest } = result;
    const mismatch = Object.values(result.verification).some((v) => v?.result === 'mismatch');
    const badSectors = result.readErrors.reduce((n, e) => n + e.sectorCount, 0);
    if (badSectors > 0) {
      this.note(`custos: WARNING: ${badSectors} sector(s) in ${result.readErrors.length} range(s) could not be read and were zero-filled; they are listed under readErrors in ${result.manifestPath}`);
    }
    this.conclude(acquisitionOutcome(result));
    if (!this.jsonEnabled()) this.printSummary(result, mismatch);
    return { status: 'complete', ...rest };
  }

  private printSummary(r: AcquireResult, mismatch: boolean): void {
    const m = r.manifest;
    const badSectors = m.readErrors.reduce((n, e) => n + e.sectorCount, 0);
    // Label, one space, value: a SHA-256 row is 80 columns, no wider than a standard terminal.
    const width = 13;
    const row = (k: string, v: string) => this.log(`  ${k.padEnd(width)} ${v}`);
    this.log(`custos acquire: complete${badSectors > 0 ? ' WITH READ ERRORS' : ''}${mismatch ? ' — VERIFICATION MISMATCH' : ''}`);
    row('source', `${m.source.path} (${m.source.kind})`);
    row('size', `${m.source.sizeBytes} bytes, ${m.source.sectors} sectors of ${m.source.logicalSectorSize} B`);
    const wb = m.writeBlock;
    row(
      'write-block',
      wb.method === 'kernel-read-only-flag'
        ? `kernel read-only flag set (before: ${wb.readOnlyBefore ? 'set' : 'not set'}, at end: ${wb.readOnlyAtEnd ? 'set' : 'NOT SET'})`
        : wb.method === 'read-only-open'
          ? 'regular file, read-only open'
          : 'NONE: mounted read-write, acquired live (--allow-mounted); read-only open only',
    );
    for (const o of r.outputs) row('image', `${o.path} (${o.size} bytes)`);
    row('manifest', r.manifestPath);
    if (r.windowsPath) row('windows', r.windowsPath);
    for (const [alg, hex] of Object.entries(r.hashes)) row(ALGORITHM_INFO[alg as keyof typeof ALGORITHM_INFO].label, hex!);
    row('read errors', badSectors === 0 ? 'none' : `${badSectors} unreadable sector(s) in ${m.readErrors.length} range(s), zero-filled: ${m.readErrors.slice(0, 5).map((e) => `${e.firstSector}+${e.sectorCount}`).join(', ')}${m.readErrors.length > 5 ? ', …' : ''}`);
    if (m.time.sessions.length > 1) row('sessions', `${m.time.sessions.length} (resumed)`);
    const rc = r.resumeCheck;
    if (rc && !rc.matched) row('resume', `WARNING: the partial image differed from the source at byte ${rc.mismatchAt ?? rc.matchedBytes}; acquired again from there`);
    const v = m.verification;
    if (v.image) row('verify image', v.image.result.toUpperCase());
    if (v.source) row('verify source', v.source.result.toUpperCase());
    const secs = r.durations.acquireSeconds;
    row('time', `${secs.toFixed(1)} s, ${formatRate(secs > 0 ? m.source.sizeBytes / secs : 0)}`);
  }
}
