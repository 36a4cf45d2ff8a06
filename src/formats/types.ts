import type { HashSet } from '../hash/hashset';
import type { FormatName } from './registry';

export type { FormatName };

/** A range of media bytes: unreadable and zero-filled, damaged, or differing. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Anything the stream engine can read from: a device, an evidence file, an image's media. */
export interface ByteSource {
  readonly path: string;
  /** Descriptors opened with O_DIRECT, whose reads need aligned memory. */
  readonly directFds: number[];
  /** Fills `view` with the bytes at `position`; returns the ranges that had to be zero-filled (or could not be read as recorded). */
  readFully(view: Uint8Array, position: number): Promise<ByteRange[]>;
  close(): void;
}

/** Appends a range, merging it with the last one when they touch. Ranges must come in order. */
export function addRange(ranges: ByteRange[], offset: number, length: number): void {
  const last = ranges[ranges.length - 1];
  if (last && last.offset + last.length === offset) last.length += length;
  else ranges.push({ offset, length });
}

/** One file of a written image. */
export interface OutputFile {
  /** File name, relative to the output folder. */
  name: string;
  /** The final path (which the file has once committed). */
  path: string;
  /** Where the finished file is until commit(). */
  partialPath?: string;
  size: number;
}

/** Where and how an image is written. */
export interface ImageLayout {
  dir: string;
  base: string;
  format: FormatName;
  /** Bytes per segment for split images. */
  splitSize: number;
  /** Bytes of media the image will hold. */
  totalSize: number;
}

/** Writes an image under temporary names and gives it its final names only when complete. */
export interface ImageWriter {
  /** The final paths, in order, that the finished image will have. */
  readonly finalPaths: readonly string[];
  /** Writes `data` at `offset` of the media. Calls must not overlap (await each). */
  write(data: Uint8Array, offset: number): Promise<void>;
  /** Flushes everything written so far to stable storage. */
  sync(): Promise<void>;
  /** Completes every part (trailing structures), fsyncs and closes them; they keep their temporary names. */
  finish(summary?: ImageSummary): Promise<OutputFile[]>;
  /** Renames every finished part to its final name (never over anything) and fsyncs the folder. */
  commit(): Promise<void>;
  /** Closes without renaming: the partial files stay for --resume. */
  close(): Promise<void>;
}

/** What only the end of an acquisition knows, for formats that store it (E01: MD5, SHA-1, error2). */
export interface ImageSummary {
  md5: string;
  sha1: string;
  readErrors: readonly { firstSector: number; sectorCount: number }[];
}

/**
 * Media bytes of an image that could not be read back as recorded: for E01, a chunk whose
 * checksum fails or whose compressed data does not inflate. Verification goes on past it (as
 * ewfverify does), hashes what can be read, and ends with MISMATCH.
 */
export interface DamagedRange {
  /** Media offset and length in bytes. */
  offset: number;
  length: number;
  firstSector: number;
  sectorCount: number;
  /** The image file holding the damaged data, and where in it. */
  file: string;
  fileOffset: number;
  /** E01 chunk number, when the format has chunks. */
  chunk?: number;
  reason: string;
  /** What the hashes were computed over in this range: the stored bytes as they are (a failed checksum), or zeros (data that cannot be decoded). */
  filledWith: 'stored-bytes' | 'zeros';
}

/** Case metadata as images and records carry it (every field optional). */
export interface CaseFields {
  caseNumber?: string;
  evidenceNumber?: string;
  examiner?: string;
  description?: string;
  notes?: string;
}

/** One file of an image being read. */
export interface ImagePart {
  path: string;
  size: number;
}

/** An image opened for reading: its media as one stream, and what the container records about itself. */
export interface MediaImage extends ByteSource {
  readonly format: FormatName;
  /** Bytes of media. */
  readonly size: number;
  /** Bytes per sector of the media (512 where the container does not say). */
  readonly sectorSize: number;
  /** The files, in order. */
  readonly parts: readonly ImagePart[];
  /** Hashes of the media the container itself records (E01: MD5, SHA-1). */
  readonly storedHashes: HashSet;
  /** Case metadata the container records (E01 header), empty when it records none. */
  readonly caseFields: CaseFields;
  /** Sectors the acquisition that made the container could not read (E01 error2). */
  readonly readErrors: readonly { firstSector: number; sectorCount: number }[];
  /** Damage found while reading with `tolerateDamage` (bounded list, exact count). */
  readonly damage?: { count: number; ranges: DamagedRange[] };
}

/** How an image is opened. */
export interface OpenOptions {
  /** Read on past damaged parts, listing them (E01 chunks that fail their checks), as ewfverify does. */
  tolerateDamage?: boolean;
  /** Files of custos's own output (a .partial image read back on --resume): not evidence to protect. */
  ownOutput?: boolean;
}

/** What a writer needs to know beyond the layout: case metadata, the device's identity, the times and tool. */
export interface CreateOptions {
  sectorSize: number;
  /** E01: zlib level for chunks, and the size of each segment file. */
  compression?: 'none' | 'fast' | 'best';
  segmentSize?: number;
  caseFields?: CaseFields;
  device?: { model?: string; serial?: string; removable?: boolean; isPartition?: boolean };
  toolVersion: string;
  os: string;
  /** When the acquisition (or the original acquisition, for a conversion) began, and now. */
  acquired: Date;
  now: Date;
  utcOffsetMinutes: number;
}

/**
 * One image format: a module declares its name, its usual file extensions, a check on the first
 * bytes (and the path, for formats without a signature), and how to open it for reading and create
 * it for writing. src/formats/registry.ts lists them; nothing else needs to know a format's name.
 */
export interface ImageFormat<N extends string = string> {
  readonly name: N;
  /** One line for --help and messages. */
  readonly description: string;
  /** True when the files hold the media itself (raw, split): their hashes are the media's; a container's (E01) are of its own bytes. */
  readonly filesHoldMedia: boolean;
  /** File extensions it is written with, for messages and for telling when content and name disagree. */
  readonly extensions: readonly RegExp[];
  /** Algorithms the container itself stores, which every image written in it computes (E01: MD5, SHA-1). */
  readonly requiredAlgorithms: readonly ('md5' | 'sha1')[];
  /** Refuses a layout it cannot write (segment sizes out of bounds, media not whole sectors), before anything is written. */
  check(layout: ImageLayout, o: { sectorSize: number; segmentSize?: number }): void;
  /** Bytes per file whose media hashes are taken separately (split segments); 0 when the files are not media pieces. */
  mediaSegmentSize(layout: ImageLayout): number;
  /** How it was written, for the manifest's acquisition record (split size; E01 compression and segment size). */
  settings(layout: ImageLayout, o: { compression?: 'none' | 'fast' | 'best'; segmentSize?: number }): { splitSize?: number; compression?: 'none' | 'fast' | 'best'; segmentSize?: number };
  /** True when `head` (the first bytes, up to 512) and `path` say this is the format. */
  detect(path: string, head: Buffer): boolean;
  /** Opens the image (from any of its files) as one stream of media bytes. */
  open(path: string, options?: OpenOptions): MediaImage;
  /** Starts a new image under temporary names (never over an existing file). */
  create(layout: ImageLayout, options: CreateOptions): Promise<ImageWriter>;
  /** Formats that can go on after an interruption: reopen the partial files and cut them back to `offset`. */
  resume?(layout: ImageLayout, offset: number): ImageWriter;
  /** Bytes present in the partial files of an interrupted run (for resume). */
  partialBytes?(layout: ImageLayout): number;
  /** What the image says about itself, read without hashing (custos info). */
  describe?(path: string): { kind: N } & Record<string, unknown>;
}
