import { readSync } from 'node:fs';
import { CustosBug } from '../errors';

/**
 * The largest alignment O_DIRECT may ask of memory: a page. Ring slots are placed on such a
 * boundary so that one buffer serves O_DIRECT reads of any device and O_DIRECT writes alike.
 */
export const MAX_ALIGNMENT = 4096;

/**
 * Memory shared with worker threads, split into equal slots whose start addresses suit O_DIRECT.
 * Node gives no way to ask for aligned memory or to learn an address, so the offset is found by
 * trying: a direct I/O from a misaligned address fails with EINVAL (NOTES.md, trap 8).
 */
export class SlotRing {
  readonly buffer: SharedArrayBuffer;
  readonly slotSize: number;
  readonly slots: number;
  /** Byte offset in `buffer` where slot 0 starts. */
  base = 0;

  constructor(slots: number, slotSize: number) {
    if (slotSize % MAX_ALIGNMENT !== 0) throw new CustosBug(`slot size ${slotSize} is not a multiple of ${MAX_ALIGNMENT}`);
    this.slots = slots;
    this.slotSize = slotSize;
    this.buffer = new SharedArrayBuffer(slots * slotSize + MAX_ALIGNMENT);
  }

  /** The whole of slot `i` (or its first `length` bytes). */
  view(i: number, length = this.slotSize): Uint8Array {
    return new Uint8Array(this.buffer, this.base + i * this.slotSize, length);
  }

  /** Offset of slot `i` in the shared buffer, for workers that map the same memory. */
  offsetOf(i: number): number {
    return this.base + i * this.slotSize;
  }

  /**
   * Moves the slots to an address that every given file accepts for O_DIRECT, probing with a
   * harmless read at offset 0 of each (callers probe outputs through a scratch file). Returns
   * false when no offset works for all of them, i.e. some file system refuses O_DIRECT.
   */
  alignFor(fds: readonly number[]): boolean {
    // Two pages: a probe of one sector can pass from a misaligned address that larger I/O rejects.
    const length = Math.min(2 * MAX_ALIGNMENT, this.slots * this.slotSize);
    for (let offset = 0; offset < MAX_ALIGNMENT; offset += 16) {
      const view = new Uint8Array(this.buffer, offset, length);
      if (fds.every((fd) => acceptsAddress(fd, view))) {
        this.base = offset;
        return true;
      }
    }
    return false;
  }
}

function acceptsAddress(fd: number, view: Uint8Array): boolean {
  try {
    readSync(fd, view, 0, view.length, 0);
    return true;
  } catch (err) {
    // EINVAL is the misalignment; anything else (EIO on a bad first sector) means the address passed.
    return (err as NodeJS.ErrnoException).code !== 'EINVAL';
  }
}
