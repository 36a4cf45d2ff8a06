/**
 * Split raw images: the media cut into fixed-size files, BASE.001, BASE.002, … as custos writes
 * them, and read from any segment of the sets dc3dd, dcfldd and split(1) write (.000…, .aa…).
 */
import { checkSegmentSize, RawImageWriter } from './files';
import { ImageSource } from './image-source';
import { findSegments } from './split-naming';
import type { ImageFormat } from './types';

export const splitFormat: ImageFormat<'split'> = {
  name: 'split',
  description: 'split: the media in fixed-size files BASE.001, BASE.002, … (--split-size)',
  filesHoldMedia: true,
  extensions: [/\.(\d{3,}|[a-z]{2,})$/i],
  requiredAlgorithms: [],
  check: (layout) => checkSegmentSize('--split-size', layout.splitSize, layout.totalSize),
  mediaSegmentSize: (layout) => layout.splitSize,
  settings: (layout) => ({ splitSize: layout.splitSize }),
  // No signature: a file is a split segment when its name and its siblings say so.
  detect: (path) => findSegments(path).length > 1,
  open: (path, o = {}) => ImageSource.ofFiles(path, findSegments(path), 'split', o),
  create: async (layout) => RawImageWriter.create(layout),
  resume: (layout, offset) => RawImageWriter.resume(layout, offset),
  partialBytes: (layout) => RawImageWriter.partialBytes(layout),
  describe: (path) => {
    const files = findSegments(path);
    const image = ImageSource.ofFiles(path, files, 'split');
    image.close();
    return { kind: 'split', segments: image.parts.map((p) => ({ path: p.path, size: p.size })), mediaSize: image.size };
  },
};
