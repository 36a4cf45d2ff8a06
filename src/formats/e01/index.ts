/**
 * EWF-E01 (Expert Witness Format, EnCase 6 style) as a format of the registry: recognised by the
 * EVF signature of its segment files, read through E01Source (damage-tolerant on request),
 * written by E01Writer with the case metadata in its header sections (libewf's EWF specification).
 */
import { basename, dirname, join } from 'node:path';
import { CustosError } from '../../errors';
import { checkSegmentSize } from '../files';
import type { CaseFields, ImageFormat, MediaImage } from '../types';
import { type E01Info, E01Source } from './reader';
import { EVF_SIGNATURE } from './sections';
import { DEFAULT_SEGMENT_SIZE, E01Writer } from './writer';

/** Segment file names: .E01 … .E99, then .EAA … .EZZ, .FAA … .ZZZ (libewf's sequence; either case). */
const SEGMENT_NAME = /^(.*)\.(?:([Ee])\d{2}|([E-Ze-z])[A-Za-z]{2})$/;

/** The first segment (.E01) of the set that `path` belongs to, whichever segment is named. */
function firstSegment(path: string): string {
  const m = SEGMENT_NAME.exec(basename(path));
  if (!m) return path;
  const letter = m[2] ?? m[3]!;
  return join(dirname(path), `${m[1]}.${letter === letter.toUpperCase() ? 'E01' : 'e01'}`);
}

/** What an E01's header says about the case, in custos's field names (EWF header2: c, n, a, e, t). */
export function caseFieldsOf(info: E01Info): CaseFields {
  const h = info.header;
  const pick = (v: string | undefined) => (v && v.trim() ? v : undefined);
  const fields: CaseFields = {
    caseNumber: pick(h.c),
    evidenceNumber: pick(h.n),
    description: pick(h.a),
    examiner: pick(h.e),
    notes: pick(h.t),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as CaseFields;
}

function asMedia(s: E01Source): MediaImage {
  const i = s.info;
  return Object.assign(s, {
    format: 'e01' as const,
    parts: i.segments,
    sectorSize: i.bytesPerSector,
    storedHashes: { ...(i.stored.md5 ? { md5: i.stored.md5 } : {}), ...(i.stored.sha1 ? { sha1: i.stored.sha1 } : {}) },
    caseFields: caseFieldsOf(i),
    readErrors: i.readErrors,
  });
}

export const e01Format: ImageFormat<'e01'> = {
  name: 'e01',
  description: 'e01: EnCase 6 style Expert Witness files BASE.E01, BASE.E02, … (libewf, EnCase, FTK, X-Ways, The Sleuth Kit read them)',
  filesHoldMedia: false,
  // What a name claims: .E01-.E99 (and .EAA…, upper case as EnCase writes them); a lower-case .eml or .exe is not a claim.
  extensions: [/\.(?:[Ee]\d{2}|E[A-Z]{2})$/],
  requiredAlgorithms: ['md5', 'sha1'],
  check: (layout, o) => {
    if (o.segmentSize !== undefined) checkSegmentSize('--segment-size', o.segmentSize, layout.totalSize);
    if (layout.totalSize % o.sectorSize !== 0) {
      throw new CustosError('INVALID_INPUT', `${layout.totalSize} bytes is not a whole number of ${o.sectorSize}-byte sectors, and E01 stores whole sectors only`, {
        hint: 'Write it as raw or split, which keep every byte (ewfacquire would silently drop the last partial sector).',
      });
    }
  },
  mediaSegmentSize: () => 0,
  settings: (_layout, o) => ({ compression: o.compression ?? 'fast', segmentSize: o.segmentSize ?? DEFAULT_SEGMENT_SIZE }),
  detect: (_path, head) => head.length >= EVF_SIGNATURE.length && head.subarray(0, EVF_SIGNATURE.length).equals(EVF_SIGNATURE),
  open: (path, o = {}) => asMedia(new E01Source(firstSegment(path), { tolerateDamage: o.tolerateDamage })),
  create: async (layout, o) => {
    e01Format.check(layout, o);
    const c = o.caseFields ?? {};
    return E01Writer.create({
      dir: layout.dir,
      base: layout.base,
      totalSize: layout.totalSize,
      bytesPerSector: o.sectorSize,
      segmentSize: o.segmentSize ?? DEFAULT_SEGMENT_SIZE,
      compression: o.compression ?? 'fast',
      mediaType: o.device?.removable ? 'removable' : 'fixed',
      physical: !o.device?.isPartition,
      header: {
        description: c.description,
        caseNumber: c.caseNumber,
        evidenceNumber: c.evidenceNumber,
        examiner: c.examiner,
        notes: c.notes,
        model: o.device?.model,
        serial: o.device?.serial,
        version: o.toolVersion.slice(0, 11),
        os: o.os,
        acquired: o.acquired,
        system: o.now,
        utcOffsetMinutes: o.utcOffsetMinutes,
      },
    });
  },
  describe: (path) => {
    const s = new E01Source(firstSegment(path));
    try {
      return { kind: 'e01' as const, ...s.info };
    } finally {
      s.close();
    }
  },
};
