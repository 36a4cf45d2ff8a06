/**
 * Output of the libewf tools (ewfacquire, ewfverify, ewfexport), printed or their -l log: the
 * hashes stored in the E01 at acquisition and those calculated over the data now, the media
 * size, the tool's SUCCESS or FAILURE and the sectors that failed their checksum.
 */
import { ALGORITHM_INFO, ALGORITHMS } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import { ALG_BY_NAME, type ExpectRecord } from './record';
import type { RecordReader } from './text';

const EWF_HASH = /^(MD5|SHA1|SHA256) hash (stored in file|calculated over data):\s*(\S+)\s*$/;

/** The libewf tool's hashes: the stored (acquisition) values first, those calculated now otherwise. */
export function parseEwf(lines: string[], r: RecordReader): ExpectRecord {
  const stored: HashSet = {};
  const calculated: HashSet = {};
  const notes: string[] = [];
  let tool: string | undefined;
  let version: string | undefined;
  let size: number | undefined;
  let additional = false;
  let status: string | undefined;
  let sectorErrors = 0;
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let m: RegExpExecArray | null;
    if (!tool && (m = /^(ewf[a-z]+) (\d{8})\s*$/.exec(line))) {
      tool = m[1]!;
      version = m[2]!;
    } else if ((m = EWF_HASH.exec(line))) {
      additional = false;
      const alg = ALG_BY_NAME[m[1]!.toLowerCase()]!;
      if (m[3] === 'N/A') return;
      r.add(m[2] === 'stored in file' ? stored : calculated, alg, m[3]!, where);
    } else if (/^Additional hash values:\s*$/.test(line)) {
      additional = true;
    } else if (additional && (m = /^(MD5|SHA1|SHA256):\s*([0-9a-fA-F]{1,200})\s*$/.exec(line))) {
      r.add(stored, ALG_BY_NAME[m[1]!.toLowerCase()]!, m[2]!, where);
    } else if ((m = /^(?:Media size|Read):.*\((\d{1,20}) bytes\)/.exec(line))) {
      size = r.int(m[1]!, where);
    } else if ((m = /^(ewf[a-z]+): (SUCCESS|FAILURE)\s*$/.exec(line))) {
      status = m[2]!;
    } else if ((m = /^\s*total number: (\d{1,20})\s*$/.exec(line))) {
      sectorErrors += r.int(m[1]!, where);
    } else if (line.trim() === '') additional = false;
  });
  const hashes: HashSet = {};
  for (const alg of ALGORITHMS) {
    const s = stored[alg];
    const c = calculated[alg];
    if (s !== undefined) {
      hashes[alg] = s;
      if (c !== undefined && c !== s) {
        notes.push(`${ALGORITHM_INFO[alg].label}: the data hashed to ${c} when this was written, not to the ${s} stored at acquisition; the stored value is the one expected`);
      }
    } else if (c !== undefined) hashes[alg] = c;
  }
  if (Object.keys(hashes).length === 0) r.fail('holds no hash value of the libewf tools ("MD5 hash calculated over data:" and the like)', 'Give the hash with --expect ALG=HEX instead.');
  const name = tool ?? (Object.keys(stored).length > 0 ? 'ewfverify' : 'ewfacquire');
  if (status === 'FAILURE') notes.push(`${name} reported FAILURE`);
  if (sectorErrors > 0) notes.push(`${name} found ${sectorErrors} range(s) of sectors that failed their checksum`);
  return { file: r.file, format: 'ewf', tool: name, ...(version ? { version } : {}), hashes, imageFiles: [], ...(size !== undefined ? { size } : {}), pieces: [], notes };
}

/** True when the text holds a libewf hash line ("MD5 hash calculated over data:" and the like). */
export function isEwfOutput(lines: readonly string[]): boolean {
  return lines.some((l) => EWF_HASH.test(l));
}
