import type { Hook } from '@oclif/core';
import { CustosError } from '../src/errors';

/**
 * oclif's command_not_found hook: an unknown command is a one-line usage error (exit 2) that
 * suggests the nearest commands. It never asks anything (a forensic tool must not run a command
 * the examiner did not type), unlike @oclif/plugin-not-found's prompt.
 */
const hook: Hook<'command_not_found'> = async function notFound({ id, argv, config }) {
  const sep = config.topicSeparator ?? ' ';
  const commands = config.commands.filter((c) => !c.hidden).map((c) => c.id.split(':'));
  const topics = new Set(config.topics.filter((t) => !t.hidden).map((t) => t.name));
  // oclif joins every leading word into the id ("aquire:/dev/sdb"); the command is some of them.
  const words = [...id.split(':'), ...(argv ?? [])];
  let best = { words: 0, distance: Infinity, names: [] as string[] };
  const depth = Math.min(words.length, Math.max(...commands.map((c) => c.length)));
  for (let k = 1; k <= depth && !words[k - 1]!.startsWith('-'); k++) {
    const typed = words.slice(0, k).join(sep);
    const names = [
      ...commands.filter((c) => c.length === k).map((c) => c.join(sep)),
      ...[...topics].filter((t) => t.split(':').length === k && t.split(':').join(sep) !== typed).map((t) => t.split(':').join(sep)),
    ];
    // A typo is a few edits in one word: the shortest word typed bounds how many.
    const limit = Math.max(1, Math.min(3, Math.floor(Math.min(...words.slice(0, k).map((w) => w.length)) / 3)));
    const found = nearest(typed, names, limit);
    // On a tie the longer reading wins: 'leger verify' is nearer to what was meant than 'leger'.
    if (found.names.length > 0 && found.distance <= best.distance) best = { words: k, ...found };
  }
  const shown = best.words > 0 ? best.words : topics.has(words[0]!) && words.length > 1 ? 2 : 1;
  const list = `'${config.bin} --help' lists every command.`;
  throw new CustosError('USAGE', `unknown command '${words.slice(0, shown).join(sep)}'`, {
    hint: best.names.length > 0 ? `Did you mean ${orList(best.names)}? ${list}` : list,
  });
};

export default hook;

/** The names nearest to `typed`, at most `limit` edits away (or that it begins), up to three in order. */
export function nearest(typed: string, names: readonly string[], limit = Math.max(1, Math.min(3, Math.floor(typed.length / 3)))): { distance: number; names: string[] } {
  const t = typed.toLowerCase();
  let distance = Infinity;
  let found: string[] = [];
  for (const name of new Set(names)) {
    const n = name.toLowerCase();
    // A beginning ("acq") counts as one edit, so that a real typo of the same length ranks equal.
    const d = t.length >= 2 && n.startsWith(t) && n !== t ? 1 : editDistance(t, n, limit);
    if (d > limit || d > distance) continue;
    if (d < distance) {
      distance = d;
      found = [];
    }
    found.push(name);
  }
  return { distance, names: found.sort().slice(0, 3) };
}

/**
 * Optimal string alignment distance (Levenshtein with adjacent transpositions, so 'verfiy' is one
 * edit from 'verify'); gives up with limit + 1 once every path exceeds `limit`.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let smallest = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
      smallest = Math.min(smallest, d);
    }
    if (smallest > limit) return limit + 1;
    before = previous;
    previous = row;
  }
  return previous[b.length]!;
}

function orList(names: string[]): string {
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
