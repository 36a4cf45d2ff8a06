/**
 * FTK Imager .txt reports: the "[Computed Hashes]" of each image made, the "Image Verification
 * Results:" read back, the version, the source, its sector count and the segment list.
 */
import { ALGORITHM_INFO, ALGORITHMS } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import { ALG_BY_NAME, type ExpectRecord, pickOne } from './record';
import { type RecordReader, show } from './text';

const FTK_CHECKSUM = /^\s*(MD5|SHA1|SHA-1|SHA256|SHA-256)\s+checksum\s*:\s*([0-9a-fA-F]{1,200})(?:\s*:\s*(.*)|\s*)$/i;

/** The FTK Imager "[Computed Hashes]" block about `target`, with notes on its verification results. */
export function parseFtk(lines: string[], r: RecordReader, target?: string): ExpectRecord {
  const blocks: HashSet[] = [];
  const verified: HashSet = {};
  const statuses: string[] = [];
  const notes: string[] = [];
  const imageFiles: string[] = [];
  let version: string | undefined;
  let subject: string | undefined;
  let sectorCount: number | undefined;
  let bytesPerSector: number | undefined;
  let section: 'computed' | 'verify' | 'segments' | undefined;
  const number = (s: string, where: string) => r.int(s.replace(/[\s,.']/g, '') || 'NaN', where);
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let m: RegExpExecArray | null;
    if (/^\s*\[Computed Hashes\]\s*$/i.test(line)) {
      section = 'computed';
      blocks.push({});
      return;
    }
    if (/^\s*Image Verification Results:\s*$/i.test(line)) {
      section = 'verify';
      return;
    }
    if (/^\s*Segment list:\s*$/i.test(line)) {
      section = 'segments';
      return;
    }
    if (section === 'segments' && /^\s{2,}\S/.test(line)) {
      imageFiles.push(line.trim());
      return;
    }
    if ((section === 'computed' || section === 'verify') && (m = FTK_CHECKSUM.exec(line))) {
      const alg = ALG_BY_NAME[m[1]!.toLowerCase()]!;
      if (section === 'computed') r.add(blocks[blocks.length - 1]!, alg, m[2]!, where);
      else {
        r.add(verified, alg, m[2]!, where);
        const status = m[3]?.trim();
        if (status !== undefined && !/^verified$/i.test(status)) statuses.push(`${ALGORITHM_INFO[alg].label}: ${show(status, 60)}`);
      }
      return;
    }
    if (/^\S/.test(line) || /^\s*\[/.test(line)) section = undefined;
    if (!version && line.startsWith('Created By ') && (m = /Imager\s{1,10}(\d{1,6}(?:\.\d{1,6}){1,5})/i.exec(line))) version = m[1]!;
    else if ((m = /^Information for (.+?):\s*$/.exec(line))) subject = m[1]!;
    else if ((m = /^\s*Sector count:\s*([\d\s,.']{1,40})$/i.exec(line))) sectorCount = number(m[1]!, where);
    else if ((m = /^\s*Bytes per Sector:\s*([\d\s,.']{1,20})$/i.exec(line))) bytesPerSector = number(m[1]!, where);
  });
  const distinct = blocks.filter((b) => Object.keys(b).length > 0);
  if (distinct.length === 0) r.fail('holds no "[Computed Hashes]" values', 'FTK Imager writes them when an image is created with hashing on; give the hash with --expect ALG=HEX instead.');
  const hashes = pickOne(distinct, () => [...imageFiles, ...(subject ? [subject] : [])], (b) => b, (b) => JSON.stringify(b), r, target, '"[Computed Hashes]" blocks');
  for (const alg of ALGORITHMS) {
    if (verified[alg] !== undefined && hashes[alg] !== undefined && verified[alg] !== hashes[alg]) {
      notes.push(`FTK Imager's verification read ${verified[alg]} back from the image, not ${hashes[alg]} (${ALGORITHM_INFO[alg].label})`);
    }
  }
  if (statuses.length > 0) notes.push(`FTK Imager's verification results: ${statuses.join(', ')}`);
  if (imageFiles.some((f) => /\.ad1$/i.test(f))) notes.push('an AD1 is a logical image (files, not a disk): its hashes are over its contents, not over a disk image custos can read');
  const size = sectorCount !== undefined && bytesPerSector !== undefined && Number.isSafeInteger(sectorCount * bytesPerSector) ? sectorCount * bytesPerSector : undefined;
  return {
    file: r.file,
    format: 'ftk-imager',
    tool: 'FTK Imager',
    ...(version ? { version } : {}),
    hashes,
    ...(subject ? { subject } : {}),
    imageFiles,
    ...(size !== undefined && size > 0 ? { size } : {}),
    pieces: [],
    notes,
  };
}

/** True when the text has "[Computed Hashes]", or one of its first lines says FTK Imager created it. */
export function isFtkReport(lines: readonly string[], head: readonly string[]): boolean {
  return lines.some((l) => /^\s*\[Computed Hashes\]\s*$/i.test(l)) || head.some((l) => l.startsWith('Created By ') && l.includes('FTK') && /imager/i.test(l));
}
