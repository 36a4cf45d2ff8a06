/**
 * Reading a hash record: its kind recognised by its content (not its file name) and handed to the
 * module of that kind, one per tool beside this file; a sums line that is about the image's
 * container or one of its segments is refused, since verify re-hashes the image itself.
 */
import { basename } from 'node:path';
import { isCustosError } from '../../errors';
import { findSegments } from '../../formats/split-naming';
import { readBoundedFile } from '../../fsutil';
import { isDc3ddLog, parseDc3dd } from './dc3dd';
import { isDcflddLog, parseDcfldd } from './dcfldd';
import { isEwfOutput, parseEwf } from './ewf';
import { isFtkReport, parseFtk } from './ftk-imager';
import { isGuymagerInfo, parseGuymager } from './guymager';
import type { ExpectRecord } from './record';
import { isSumsFile, parseSums } from './sums';
import { baseOf, decodeRecordText, MAX_EXPECT_FILE_BYTES, RecordReader, show, splitLines } from './text';

/**
 * Parses the text of a hash record written by another tool (the format is recognised from the
 * content, not the file name). `target` is the image being verified: it picks the right line or
 * run when a record holds several.
 */
export function parseExpectText(text: string, o: { file: string; target?: string }): ExpectRecord {
  const r: RecordReader = new RecordReader(o.file);
  const lines = splitLines(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, r);
  const head = lines.slice(0, 5);
  if (isGuymagerInfo(head)) return parseGuymager(lines, r);
  if (isFtkReport(lines, head)) return parseFtk(lines, r, o.target);
  if (isDc3ddLog(lines)) return parseDc3dd(lines, r, o.target);
  if (isEwfOutput(lines)) return parseEwf(lines, r);
  if (isDcflddLog(lines)) return parseDcfldd(lines, r);
  if (isSumsFile(lines)) return parseSums(lines, r, o.target);
  return r.fail('is not a hash record custos understands');
}

/**
 * Reads a hash record (at most 16 MiB, a regular file) and parses it for `target`. A sums line about
 * the target's own E01 file, or about one segment of a split target, is refused: those are hashes
 * of a container or a part, not of the image that verify re-hashes.
 */
export function readExpectFile(path: string, target?: string): ExpectRecord {
  const data = readBoundedFile(path, 'hash record', MAX_EXPECT_FILE_BYTES);
  const record = parseExpectText(decodeRecordText(data, path), { file: path, target });
  if ((record.format === 'sums' || record.format === 'openssl') && target !== undefined && record.subject !== undefined && baseOf(record.subject) === basename(target)) {
    const r: RecordReader = new RecordReader(path);
    const container = /\.(e01|ex01|s01|l01|lx01|aff4?|ad1)$/i.exec(target);
    if (container) {
      r.fail(`the line for ${show(record.subject, 80)} is the hash of the .${container[1]} file itself, not of the disk image inside it`, 'Give the hash the acquisition tool recorded for the media (its log), or check the file itself with sha256sum -c.');
    }
    let segments = 1;
    try {
      segments = findSegments(target).length;
    } catch (err) {
      if (!isCustosError(err)) throw err;
    }
    if (segments > 1) {
      r.fail(`the line for ${show(record.subject, 80)} is the hash of that one segment, not of the whole split image (${segments} segments)`, 'Check each segment with sha256sum -c, or give the hash of the whole image (the acquisition log has it).');
    }
  }
  return record;
}
