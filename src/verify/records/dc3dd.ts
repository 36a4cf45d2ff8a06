/**
 * dc3dd logs (log=, hlog=, or its captured stderr): runs from "dc3dd VERSION started at" to
 * "dc3dd completed at", each with the input's hashes, its outputs and its checks of them, the
 * pieces of a split output (ofs=/hofs=) and the bad sectors it replaced by zeros. Several runs
 * appended to one log are told apart; a run that did not complete is refused.
 */
import { type Algorithm, ALGORITHM_INFO } from '../../hash/algorithms';
import type { HashSet } from '../../hash/hashset';
import { ALG_BY_NAME, coveredSize, type ExpectPiece, type ExpectRecord, pickOne } from './record';
import { plain, type RecordReader, show } from './text';

/** True when the text holds a dc3dd run ("dc3dd VERSION started at"). */
export function isDc3ddLog(lines: readonly string[]): boolean {
  return lines.some((l) => /^dc3dd \S+ started at /.test(l));
}

interface Dc3ddRun {
  line: number;
  version: string;
  started: string;
  end?: string;
  input?: string;
  outputs: string[];
  hashes: HashSet;
  outputStatus: string[];
  pieces: Map<string, ExpectPiece>;
  copied?: { bytes: number; percent: number };
  sectorSize: number;
  sectorSizeStated: boolean;
  badSectors: number;
}

/** The dc3dd run about `target` (or the only complete one): its input hashes, outputs, pieces and notes. */
export function parseDc3dd(lines: string[], r: RecordReader, target?: string): ExpectRecord {
  const runs: Dc3ddRun[] = [];
  let run: Dc3ddRun | undefined;
  let section: 'input' | 'output' | undefined;
  let lastAlg: Algorithm | undefined;
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let m = /^dc3dd (\S+) started at (.+?)\s*$/.exec(line);
    if (m) {
      run = { line: i + 1, version: m[1]!, started: m[2]!, outputs: [], hashes: {}, outputStatus: [], pieces: new Map(), sectorSize: 512, sectorSizeStated: false, badSectors: 0 };
      runs.push(run);
      section = undefined;
      return;
    }
    if (!run) return;
    if ((m = /^dc3dd (completed|aborted|failed) at /.exec(line))) {
      run.end = m[1]!;
      section = undefined;
    } else if ((m = /^sector size: (\d{1,6}) bytes/.exec(line))) {
      run.sectorSize = r.int(m[1]!, where) || 512;
      run.sectorSizeStated = true;
    } else if ((m = /^\s*(\d{1,20}) bytes \(.*\) copied \(\s*(\d{1,3})%\s*\)/.exec(line))) {
      run.copied = { bytes: r.int(m[1]!, where), percent: Number(m[2]) };
    } else if ((m = /^(input|output) results for [a-z ]+ `([^]*)':\s*$/.exec(line))) {
      section = m[1] as 'input' | 'output';
      lastAlg = undefined;
      if (section === 'input') run.input = m[2]!;
      else run.outputs.push(m[2]!);
    } else if ((m = /^\s*(\d{1,20}) bad sectors? replaced by zeros/.exec(line))) {
      run.badSectors += r.int(m[1]!, where);
    } else if (section && (m = /^\s*(?:\[([^\]]{0,40})\]\s+)?([0-9a-fA-F]{1,200}) \((md5|sha1|sha256|sha512)\)\s*$/.exec(line))) {
      const alg = ALG_BY_NAME[m[3]!]!;
      lastAlg = alg;
      if (section === 'input') r.add(run.hashes, alg, m[2]!, where);
      else if (m[1] !== undefined && m[1] !== 'ok') run.outputStatus.push(`${ALGORITHM_INFO[alg].label} [${plain(m[1])}]`);
    } else if (section && lastAlg && (m = /^\s*(?:\[([^\]]{0,40})\]\s+)?([0-9a-fA-F]{1,200}), sectors (\d{1,20}) - (\d{1,20})(?:, `([^]*)')?\s*$/.exec(line))) {
      const key = `${m[3]}-${m[4]}`;
      const first = r.int(m[3]!, where);
      const last = r.int(m[4]!, where);
      if (last < first) r.fail(`${where}: the piece ends (sector ${last}) before it starts (sector ${first})`, 'The log is damaged or was edited.');
      const offset = r.int(String(first * run.sectorSize), where);
      const length = r.int(String((last - first + 1) * run.sectorSize), where);
      const piece = run.pieces.get(key) ?? { offset, length, hashes: {} };
      run.pieces.set(key, piece);
      if (section === 'input') r.add(piece.hashes, lastAlg, m[2]!, where);
      else {
        if (m[5] !== undefined) piece.name = m[5];
        if (m[1] !== undefined && m[1] !== 'ok') run.outputStatus.push(`${ALGORITHM_INFO[lastAlg].label} of ${m[5] === undefined ? key : show(m[5], 60)} [${plain(m[1])}]`);
      }
    }
  });
  const describe = (x: Dc3ddRun) => `run started ${plain(x.started, 60)} (${show(x.input ?? '?', 60)} to ${x.outputs.length ? x.outputs.map((o) => show(o, 60)).join(', ') : 'no output'})`;
  const complete = runs.filter((x) => x.end === 'completed' && Object.keys(x.hashes).length > 0);
  if (complete.length === 0) {
    const partial = runs.find((x) => Object.keys(x.hashes).length > 0);
    if (partial) {
      const read = partial.copied ? ` after ${partial.copied.bytes} bytes (${partial.copied.percent}%)` : '';
      r.fail(`the dc3dd ${describe(partial)} ${partial.end ? `was ${partial.end}` : 'never completed'}${read}: its hashes cover only what was read before it stopped`, 'Use the log of a dc3dd run that ends with "dc3dd completed at".');
    }
    r.fail(`no dc3dd run in it recorded a hash (${runs.length} run(s), none with hash= results)`, 'dc3dd writes hashes only when run with hash=md5, hash=sha256, …; give the hash with --expect ALG=HEX instead.');
  }
  const names = (x: Dc3ddRun) => [...x.outputs, ...[...x.pieces.values()].flatMap((p) => (p.name ? [p.name] : [])), ...(x.input ? [x.input] : [])];
  const chosen = pickOne(complete, names, (x) => x.hashes, describe, r, target, 'dc3dd runs');
  const notes: string[] = [];
  const unused = runs.length - 1;
  if (unused > 0) notes.push(`${unused} other dc3dd run(s) in this log were not used (${runs.filter((x) => x !== chosen).map(describe).slice(0, 5).join('; ')})`);
  if (chosen.outputStatus.length > 0) notes.push(`dc3dd's own check of its output said: ${chosen.outputStatus.slice(0, 10).join(', ')}`);
  if (chosen.badSectors > 0) notes.push(`dc3dd replaced ${chosen.badSectors} bad sector(s) of the input by zeros; the hashes include those zeros`);
  if (chosen.pieces.size > 0 && !chosen.sectorSizeStated) notes.push('this file does not state the sector size; piece offsets assume 512-byte sectors');
  const pieces = [...chosen.pieces.values()].sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
  const size = chosen.copied?.percent === 100 ? chosen.copied.bytes : coveredSize(pieces);
  return {
    file: r.file,
    format: 'dc3dd',
    tool: 'dc3dd',
    version: chosen.version,
    hashes: chosen.hashes,
    ...(chosen.input !== undefined ? { subject: chosen.input } : {}),
    imageFiles: [...new Set(names(chosen).filter((n) => n !== chosen.input))],
    ...(size !== undefined ? { size } : {}),
    pieces,
    notes,
  };
}
