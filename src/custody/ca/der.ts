/**
 * A small, bounded DER reader and writer (ITU-T X.690 §8, §10) for the structures custos builds or
 * reads itself: certificates, certificate requests, CRLs and encrypted private keys. The reader is
 * iterative and lazy (a node is read only when asked for), refuses indefinite lengths, high tag
 * numbers and lengths that run past their parent, and turns every such defect into a CERT_INVALID
 * naming the file and the byte offset, so that hostile input is never more than a clear error.
 */
import { CustosError } from '../../errors';

/** One TLV of a DER buffer; offsets are into `buf`. */
export class DerNode {
  constructor(
    readonly buf: Buffer,
    readonly tag: number,
    /** Offset of the tag byte. */
    readonly start: number,
    /** Offset of the first content byte. */
    readonly contentStart: number,
    /** Offset just past the content. */
    readonly end: number,
    private readonly ctx: DerContext,
  ) {}

  get constructed(): boolean {
    return (this.tag & 0x20) !== 0;
  }

  /** The content octets (a view, not a copy). */
  get content(): Buffer {
    return this.buf.subarray(this.contentStart, this.end);
  }

  /** The whole TLV, as it was encoded: what signatures are computed over. */
  get raw(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  /** Fails with a CERT_INVALID that names the file and this node's offset. */
  fail(why: string): never {
    return this.ctx.fail(why, this.start);
  }

  /** The child nodes of a constructed node, at most `max` of them. */
  children(max = 64): DerNode[] {
    if (!this.constructed) this.fail('a primitive value where a structure was expected');
    const out: DerNode[] = [];
    for (let at = this.contentStart; at < this.end; ) {
      if (out.length >= max) this.fail(`more than ${max} elements in one structure`);
      const child = readTlv(this.buf, at, this.end, this.ctx);
      out.push(child);
      at = child.end;
    }
    return out;
  }

  /** Children as a fixed shape: `min` to `max` elements. */
  items(min: number, max: number): DerNode[] {
    const kids = this.children(max);
    if (kids.length < min) this.fail(`${kids.length} elements where at least ${min} were expected`);
    return kids;
  }

  /** Asserts this node's tag. */
  expect(tag: number, what: string): this {
    if (this.tag !== tag) this.fail(`${what} expected (tag 0x${tag.toString(16)}), found tag 0x${this.tag.toString(16)}`);
    return this;
  }

  /** The value of an OBJECT IDENTIFIER, in dotted form. */
  oid(): string {
    this.expect(TAG.OID, 'an object identifier');
    const c = this.content;
    if (c.length === 0 || c.length > 64) this.fail('an object identifier of unusable length');
    const arcs: bigint[] = [];
    let v = 0n;
    for (let i = 0; i < c.length; i++) {
      if (v === 0n && c[i] === 0x80) this.fail('an object identifier arc with a leading zero');
      v = (v << 7n) | BigInt(c[i]! & 0x7f);
      if ((c[i]! & 0x80) === 0) {
        arcs.push(v);
        v = 0n;
      } else if (i === c.length - 1) this.fail('a truncated object identifier');
    }
    const first = arcs[0]!;
    const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
    return [...head, ...arcs.slice(1)].join('.');
  }

  /** The value of an INTEGER (or ENUMERATED) as a bigint (two's complement, X.690 §8.3); at most `maxBytes` content bytes. */
  bigint(maxBytes = 64, tag: number = TAG.INTEGER): bigint {
    this.expect(tag, tag === TAG.INTEGER ? 'an integer' : 'an enumerated value');
    const c = this.content;
    if (c.length === 0) this.fail('an empty integer');
    if (c.length > maxBytes) this.fail(`an integer of ${c.length} bytes, more than ${maxBytes}`);
    let v = 0n;
    for (const b of c) v = (v << 8n) | BigInt(b);
    if (c[0]! & 0x80) v -= 1n << BigInt(8 * c.length);
    return v;
  }

  /** A small non-negative INTEGER (or ENUMERATED) as a number, at most `max`. */
  smallInt(max: number, what: string, tag: number = TAG.INTEGER): number {
    const v = this.bigint(8, tag);
    if (v < 0n || v > BigInt(max)) this.fail(`${what} ${v} is out of range (0 to ${max})`);
    return Number(v);
  }

  /** The contents of a BIT STRING with no unused bits (keys, signatures). */
  bitStringBytes(): Buffer {
    this.expect(TAG.BIT_STRING, 'a bit string');
    const c = this.content;
    if (c.length === 0 || c[0] !== 0) this.fail('a bit string with unused bits where whole bytes were expected');
    return c.subarray(1);
  }

  /** A BIT STRING of named bits (X.690 §11.2.2) as a set of bit numbers. */
  namedBits(): Set<number> {
    this.expect(TAG.BIT_STRING, 'a bit string');
    const c = this.content;
    if (c.length === 0 || c[0]! > 7 || (c.length === 1 && c[0] !== 0)) this.fail('a malformed bit string');
    if (c.length > 9) this.fail('a bit string too long for named bits');
    const bits = new Set<number>();
    for (let i = 1; i < c.length; i++) for (let b = 0; b < 8; b++) if (c[i]! & (0x80 >> b)) bits.add((i - 1) * 8 + b);
    return bits;
  }

  /** A UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 allows (seconds, 'Z'). */
  time(): Date {
    const text = this.content.toString('latin1');
    let m: RegExpMatchArray | null;
    let year: number;
    if (this.tag === TAG.UTC_TIME && (m = text.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
      year = Number(m[1]) + (Number(m[1]) < 50 ? 2000 : 1900);
    } else if (this.tag === TAG.GENERALIZED_TIME && (m = text.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
      year = Number(m[1]);
    } else {
      return this.fail('a time that is not a UTCTime or GeneralizedTime of the form RFC 5280 requires');
    }
    const [mo, d, h, mi, s] = m.slice(2).map(Number) as [number, number, number, number, number];
    const t = Date.UTC(year, mo - 1, d, h, mi, s);
    const back = new Date(t);
    if (mo < 1 || mo > 12 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) this.fail(`an impossible date '${text}'`);
    return back;
  }

  /** True when this is a context-specific tag [n] (constructed or not). */
  isContext(n: number): boolean {
    return (this.tag & 0xdf) === (0x80 | n);
  }
}

interface DerContext {
  fail(why: string, offset: number): never;
}

function readTlv(buf: Buffer, at: number, limit: number, ctx: DerContext): DerNode {
  if (at + 2 > limit) ctx.fail('a value is cut short', at);
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) ctx.fail('a high tag number, which custos does not read', at);
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) ctx.fail('an indefinite length, which DER forbids', at);
    if (n > 4) ctx.fail(`a length of ${n} bytes`, at);
    if (p + n > limit) ctx.fail('a length is cut short', at);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    if (len < 0x80 || (n > 1 && buf[p] === 0)) ctx.fail('a length not in its shortest form (not DER)', at);
    p += n;
  }
  if (p + len > limit) ctx.fail(`a value of ${len} bytes runs past the end of its ${limit === buf.length ? 'file' : 'structure'}`, at);
  return new DerNode(buf, tag, at, p, p + len, ctx);
}

/**
 * Reads the single DER value that makes up all of `der` (trailing bytes are refused).
 * `where` names the file in errors, `what` the kind of record ("certificate revocation list").
 */
export function parseDer(der: Buffer, where: string, what: string): DerNode {
  const ctx: DerContext = {
    fail(why, offset) {
      throw new CustosError('CERT_INVALID', `${where}: not a valid ${what} (${why}, at byte ${offset})`, {
        path: where,
        hint: `Give the ${what} as it was issued, or restore it from a copy.`,
      });
    },
  };
  const root = readTlv(der, 0, der.length, ctx);
  if (root.end !== der.length) ctx.fail(`${der.length - root.end} bytes after the end`, root.end);
  return root;
}

/** Universal tags used here (X.680 §8.4). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

// ---- writing -------------------------------------------------------------------------------

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given tag around the concatenated parts. */
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  return tlvOf(tag, parts);
}

/** One TLV around a list of parts of any length (no argument spreading: a CRL may list 100,000 entries). */
export function tlvOf(tag: number, parts: readonly Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...parts: Buffer[]) => tlvOf(TAG.SEQUENCE, parts);
/** A SEQUENCE OF a list of any length. */
export const seqOf = (parts: readonly Buffer[]) => tlvOf(TAG.SEQUENCE, parts);
export const set = (...parts: Buffer[]) => tlv(TAG.SET, ...parts);
export const octets = (b: Buffer) => tlv(TAG.OCTET_STRING, b);
export const NULL = Buffer.from([TAG.NULL, 0]);
export const bool = (v: boolean) => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]);
/** Context-specific [n], constructed (EXPLICIT tagging or an IMPLICIT SEQUENCE). */
export const explicit = (n: number, ...parts: Buffer[]) => tlv(0xa0 | n, ...parts);
/** BIT STRING holding whole bytes (keys, signatures). */
export const bitString = (b: Buffer) => tlv(TAG.BIT_STRING, Buffer.from([0]), b);

/** An INTEGER from a non-negative bigint or number, in its minimal two's complement form. */
export function integer(v: bigint | number, tag: number = TAG.INTEGER): Buffer {
  let n = BigInt(v);
  if (n < 0n) throw new RangeError('negative integers are not written by custos');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (n > 0n);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(tag, Buffer.from(bytes));
}

/** An INTEGER whose value is the unsigned big-endian `bytes` (serial numbers). */
export const unsignedInteger = (bytes: Buffer) => integer(BigInt(`0x${bytes.toString('hex') || '0'}`));

/** An OBJECT IDENTIFIER from its dotted form; arcs may exceed 2^53 (UUID OIDs under 2.25). */
export function oid(dotted: string): Buffer {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted)) throw new RangeError(`not an object identifier: ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const first = arcs[0]! * 40n + arcs[1]!;
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const group: number[] = [];
    let v = arc;
    do {
      group.unshift(Number(v & 0x7fn) | (group.length ? 0x80 : 0));
      v >>= 7n;
    } while (v > 0n);
    out.push(...group);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** A Time (RFC 5280 §4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`a date custos cannot write in a certificate: ${iso}`);
  return year < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1')) : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
}

/** A directory string: PrintableString when every character allows it, else UTF8String (RFC 5280 §4.1.2.6). */
export function directoryString(text: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text) ? tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1')) : tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

// ---- PEM (RFC 7468) --------------------------------------------------------------------------

/** DER wrapped as PEM with the given label, 64 characters a line. */
export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * The DER inside the first PEM block labelled with one of `labels` (RFC 7468 §2; text around
 * it is ignored), with its label and its text; `legacyEncrypted` when it carries RFC 1421 headers (Proc-Type,
 * DEK-Info), whose body is not read here. A linear scan: no regular expression runs over the
 * whole text. Fails with a CERT_INVALID naming `where` when there is no such block or its base64
 * is damaged.
 */
export function fromPem(text: string, labels: readonly string[], where: string, what: string): { label: string; der: Buffer; legacyEncrypted: boolean; text: string } {
  const invalid = (why: string) =>
    new CustosError('CERT_INVALID', `${where}: not a usable ${what} (${why})`, { path: where, hint: `Give the PEM file (-----BEGIN ${labels[0]}-----), or restore it from a copy.` });
  for (let at = text.indexOf('-----BEGIN '); at >= 0; at = text.indexOf('-----BEGIN ', at + 1)) {
    const labelEnd = text.indexOf('-----', at + 11);
    if (labelEnd < 0 || labelEnd - at > 60) continue;
    const label = text.slice(at + 11, labelEnd);
    if (!labels.includes(label)) continue;
    const footer = `-----END ${label}-----`;
    const bodyEnd = text.indexOf(footer, labelEnd + 5);
    if (bodyEnd < 0) throw invalid(`the block BEGIN ${label} has no END line`);
    const body = text.slice(labelEnd + 5, bodyEnd);
    const blockText = text.slice(at, bodyEnd + footer.length) + '\n';
    if (/^\s*Proc-Type:/.test(body)) return { label, der: Buffer.alloc(0), legacyEncrypted: true, text: blockText };
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length === 0) throw invalid('its base64 text is damaged');
    return { label, der: Buffer.from(b64, 'base64'), legacyEncrypted: false, text: blockText };
  }
  throw invalid(`no -----BEGIN ${labels.join('/')}----- block`);
}
