/** Raw images: the media itself, byte for byte, in one file (BASE.raw; also .dd, .img, anything without a signature). */
import { RawImageWriter } from './files';
import { ImageSource } from './image-source';
import type { ImageFormat } from './types';

export const rawFormat: ImageFormat<'raw'> = {
  name: 'raw',
  description: 'raw: the media byte for byte in one file (BASE.raw)',
  filesHoldMedia: true,
  extensions: [/\.(raw|dd|img|bin)$/i],
  requiredAlgorithms: [],
  check: () => undefined,
  mediaSegmentSize: () => 0,
  settings: () => ({}),
  // The fallback: every file is a raw image of itself when nothing else recognises it.
  detect: () => true,
  open: (path, o = {}) => ImageSource.ofFiles(path, [path], 'raw', o),
  create: async (layout) => RawImageWriter.create(layout),
  resume: (layout, offset) => RawImageWriter.resume(layout, offset),
  partialBytes: (layout) => RawImageWriter.partialBytes(layout),
};
