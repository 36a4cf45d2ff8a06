/** One file of a written image. */
export interface OutputFile {
  /** File name, relative to the output folder. */
  name: string;
  path: string;
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
  /** fsyncs, closes, renames every part to its final name and fsyncs the folder. */
  finish(summary?: ImageSummary): Promise<OutputFile[]>;
  /** Closes without renaming: the partial files stay for --resume. */
  close(): Promise<void>;
}

/** What only the end of an acquisition knows, for formats that store it (E01: MD5, SHA-1, error2). */
export interface ImageSummary {
  md5: string;
  sha1: string;
  readErrors: readonly { firstSector: number; sectorCount: number }[];
}
