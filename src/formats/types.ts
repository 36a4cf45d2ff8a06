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
  format: 'raw' | 'split' | 'e01';
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
