/**
 * Guymager .info files: the acquisition hashes, Guymager's own verification of the source and
 * the image, the device, its size, the image files, the state of the run and the bad sectors.
 */
import { ALGORITHM_INFO, ALGORITHMS } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import { ALG_BY_NAME, type ExpectRecord } from './record';
import { type RecordReader, show } from './text';

/** True when one of the first lines is Guymager's title "GUYMAGER ACQUISITION INFO FILE". */
export function isGuymagerInfo(head: readonly string[]): boolean {
  return head.some((l) => l.trim() === 'GUYMAGER ACQUISITION INFO FILE');
}

/** The Guymager acquisition hashes, with notes when its own verification or the run disagrees. */
export function parseGuymager(lines: string[], r: RecordReader): ExpectRecord {
  const acquired: HashSet = {};
  const verifiedSource: HashSet = {};
  const verifiedImage: HashSet = {};
  const notes: string[] = [];
  const imageFiles: string[] = [];
  let version: string | undefined;
  let device: string | undefined;
  let size: number | undefined;
  let state: string | undefined;
  let fileTable = false;
  lines.forEach((raw, i) => {
    const where = `line ${i + 1}`;
    const line = raw.trimEnd();
    let m: RegExpExecArray | null;
    if (!version && (m = /^Version\s*:\s*(\S+)/.exec(line))) version = m[1]!;
    else if ((m = /^(MD5|SHA1|SHA256) hash(?: verified (source|image))?\s*:\s*(\S+)$/.exec(line))) {
      if (m[3] === '--') return;
      const alg = ALG_BY_NAME[m[1]!.toLowerCase()]!;
      r.add(m[2] === 'source' ? verifiedSource : m[2] === 'image' ? verifiedImage : acquired, alg, m[3]!, where);
    } else if ((m = /^Linux device\s*:\s*(.+)$/.exec(line))) device = m[1]!;
    else if ((m = /^Device size\s*:\s*(\d{1,20})\b/.exec(line))) size = r.int(m[1]!, where);
    else if ((m = /^Image path and file name\s*:\s*(.+)$/.exec(line))) imageFiles.push(m[1]!);
    else if ((m = /^State:\s*(.+)$/.exec(line))) state = m[1]!;
    else if ((m = /^During acquisition, (\d{1,20}) bad sectors/.exec(line))) notes.push(`Guymager replaced ${m[1]} bad sector(s) of the source by zeros; the hashes include those zeros`);
    else if (/^Generated image files and their MD5 hashes/.test(line)) fileTable = true;
    else if (fileTable && (m = /^([0-9a-fA-F]{32}|n\/a)\s+(\S.*)$/.exec(line)) && m[2] !== 'Image file') imageFiles.push(m[2]!);
  });
  if (Object.keys(acquired).length === 0) {
    r.fail(`holds no acquisition hash (the "MD5 hash" and "SHA256 hash" rows are empty)${state ? `; Guymager's state: ${show(state, 100)}` : ''}`, 'Guymager writes the hashes only when the acquisition finished with hash calculation on; give the hash with --expect ALG=HEX instead.');
  }
  if (state && !/^Finished/.test(state)) notes.push(`Guymager's state: ${show(state, 100)}`);
  for (const alg of ALGORITHMS) {
    const a = acquired[alg];
    if (a === undefined) continue;
    if (verifiedImage[alg] !== undefined && verifiedImage[alg] !== a) notes.push(`Guymager's own verification read ${verifiedImage[alg]} back from the image, not ${a} (${ALGORITHM_INFO[alg].label})`);
    if (verifiedSource[alg] !== undefined && verifiedSource[alg] !== a) notes.push(`Guymager read ${verifiedSource[alg]} from the source the second time, not ${a} (${ALGORITHM_INFO[alg].label})`);
  }
  return {
    file: r.file,
    format: 'guymager',
    tool: 'Guymager',
    ...(version ? { version } : {}),
    hashes: acquired,
    ...(device ? { subject: device } : {}),
    imageFiles,
    ...(size !== undefined ? { size } : {}),
    pieces: [],
    notes,
  };
}
