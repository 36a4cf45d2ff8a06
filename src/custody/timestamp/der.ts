/**
 * A small, strict and bounded DER reader (ITU-T X.690 §8 and §10) for the timestamp structures.
 *
 * Why not `forge.asn1.fromDer`: a signature is checked over the exact bytes received (the signed
 * attributes, the eContent, each certificate), and forge keeps no byte ranges, so they would have
 * to be re-encoded with `toDer`, which need not give back the bytes a signer hashed. forge also
 * accepts BER (indefinite and non-minimal lengths), tries to decode the inside of BIT STRINGs and
 * recurses on its own. This reader is lazy — the caller walks the structure it expects, one level
 * at a time, so there is no recursion on the input — checks every length against its parent,
 * refuses BER forms DER does not allow, and throws only CustosError('INVALID_INPUT').
 */
import { CustosError, printable } from '../../errors';

/** One TLV of a buffer: `buf[start, end)`, its value at `buf[start + header, end)`. */
export interface Tlv {
  readonly buf: Buffer;
  /** The identifier octet: class, constructed bit and tag number (< 31). */
  readonly tag: number;
  readonly start: number;
  readonly header: number;
  readonly end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** `[n]` context-specific tag, constructed (EXPLICIT, or IMPLICIT of a constructed type) or primitive. */
export const ctx = (n: number, constructed: boolean) => 0x80 | (constructed ? 0x20 : 0) | n;

/** The value bytes of a TLV. */
export const value = (t: Tlv): Buffer => t.buf.subarray(t.start + t.header, t.end);
/** The whole encoding of a TLV, identifier and length included. */
export const whole = (t: Tlv): Buffer => t.buf.subarray(t.start, t.end);

/** Raised for data that is not the DER it should be; `where` names the structure and field. */
export function malformed(where: string, why: string): CustosError {
  return new CustosError('INVALID_INPUT', `${where}: ${why}`, {
    hint: 'The data is damaged or is not what it claims to be; fetch the timestamp again or restore the file from a copy.',
  });
}

/** Reads the TLV at `pos`, which must end by `limit`. */
export function readTlv(buf: Buffer, pos: number, limit: number, where: string): Tlv {
  if (limit - pos < 2) throw malformed(where, 'truncated (no room for a tag and a length)');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw malformed(where, `tag 0x${tag.toString(16)} uses the high-tag-number form, which no field here has`);
  const first = buf[pos + 1]!;
  let header = 2;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw malformed(where, 'indefinite length (BER), not DER');
    if (n > 4) throw malformed(where, `length of ${n} octets, larger than anything here`);
    if (limit - pos < 2 + n) throw malformed(where, 'truncated inside a length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos + 2 + i]!;
    if (buf[pos + 2] === 0 || length < 0x80) throw malformed(where, 'length not in its shortest form (not DER)');
    header += n;
  }
  if (length > limit - pos - header) throw malformed(where, `a length of ${length} bytes runs past the end of its container`);
  return { buf, tag, start: pos, header, end: pos + header + length };
}

/** Parses a buffer that must hold exactly one TLV with tag `tag`. */
export function parseDer(buf: Buffer, tag: number, where: string): Tlv {
  const t = readTlv(buf, 0, buf.length, where);
  if (t.end !== buf.length) throw malformed(where, `${buf.length - t.end} bytes after the end of the structure`);
  return expectTag(t, tag, where);
}

export function expectTag(t: Tlv, tag: number, where: string): Tlv {
  if (t.tag !== tag) throw malformed(where, `tag 0x${t.tag.toString(16).padStart(2, '0')} where 0x${tag.toString(16).padStart(2, '0')} was expected`);
  return t;
}

/** A cursor over the elements of a constructed TLV, in order. */
export class Reader {
  private pos: number;
  private readonly limit: number;
  constructor(
    private readonly parent: Tlv,
    readonly where: string,
  ) {
    if ((parent.tag & 0x20) === 0) throw malformed(where, 'a primitive encoding where a constructed one was expected');
    this.pos = parent.start + parent.header;
    this.limit = parent.end;
  }

  get done(): boolean {
    return this.pos >= this.limit;
  }

  /** The next element, or undefined at the end. */
  peek(): Tlv | undefined {
    return this.done ? undefined : readTlv(this.parent.buf, this.pos, this.limit, this.where);
  }

  /** The next element, which must be there and have `tag`; `what` names it in errors. */
  next(tag: number, what: string): Tlv {
    const t = this.peek();
    if (!t) throw malformed(`${this.where}: ${what}`, 'missing');
    this.pos = t.end;
    return expectTag(t, tag, `${this.where}: ${what}`);
  }

  /** The next element when it has `tag`, else undefined (and nothing consumed). */
  optional(tag: number): Tlv | undefined {
    const t = this.peek();
    if (!t || t.tag !== tag) return undefined;
    this.pos = t.end;
    return t;
  }

  /** The next element whatever its tag. */
  any(what: string): Tlv {
    const t = this.peek();
    if (!t) throw malformed(`${this.where}: ${what}`, 'missing');
    this.pos = t.end;
    return t;
  }

  /** All remaining elements (at most `max`). */
  rest(what: string, max: number): Tlv[] {
    const out: Tlv[] = [];
    while (!this.done) {
      if (out.length >= max) throw malformed(`${this.where}: ${what}`, `more than ${max} elements`);
      out.push(this.any(what));
    }
    return out;
  }

  /** Asserts that nothing is left. */
  end(): void {
    if (!this.done) throw malformed(this.where, 'unexpected data after the last field');
  }
}

/** The elements of a constructed TLV, at most `max`. */
export function elements(t: Tlv, where: string, max: number): Tlv[] {
  return new Reader(t, where).rest('element', max);
}

/** An INTEGER as a bigint (X.690 §8.3), its encoding checked to be minimal; at most `maxBytes` octets. */
export function readInteger(t: Tlv, where: string, maxBytes = 64): bigint {
  expectTag(t, TAG.INTEGER, where);
  const v = value(t);
  if (v.length === 0) throw malformed(where, 'an INTEGER with no content');
  if (v.length > maxBytes) throw malformed(where, `an INTEGER of ${v.length} octets, more than the ${maxBytes} allowed here`);
  if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80))) throw malformed(where, 'an INTEGER not in its shortest form (not DER)');
  let n = BigInt(`0x${v.toString('hex')}`);
  if (v[0]! >= 0x80) n -= 1n << BigInt(8 * v.length);
  return n;
}

/** A small non-negative INTEGER as a number. */
export function readSmallInt(t: Tlv, where: string): number {
  const n = readInteger(t, where, 4);
  if (n < 0n) throw malformed(where, `negative value ${n}`);
  return Number(n);
}

/** A BOOLEAN, which DER encodes as 0x00 or 0xff (X.690 §11.1). */
export function readBoolean(t: Tlv, where: string): boolean {
  expectTag(t, TAG.BOOLEAN, where);
  const v = value(t);
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw malformed(where, 'a BOOLEAN that is not 0x00 or 0xff (not DER)');
  return v[0] === 0xff;
}

/** An OBJECT IDENTIFIER in dotted form (X.690 §8.19). */
export function readOid(t: Tlv, where: string): string {
  expectTag(t, TAG.OID, where);
  const v = value(t);
  if (v.length === 0 || v.length > 64) throw malformed(where, `an OBJECT IDENTIFIER of ${v.length} octets`);
  const arcs: bigint[] = [];
  let acc = 0n;
  let fresh = true;
  for (const b of v) {
    if (fresh && b === 0x80) throw malformed(where, 'an OBJECT IDENTIFIER arc with a leading 0x80 (not DER)');
    acc = (acc << 7n) | BigInt(b & 0x7f);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      arcs.push(acc);
      acc = 0n;
    }
  }
  if (!fresh) throw malformed(where, 'an OBJECT IDENTIFIER that ends inside an arc');
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** An OCTET STRING's content (primitive only, as DER requires). */
export function readOctets(t: Tlv, where: string): Buffer {
  return value(expectTag(t, TAG.OCTET_STRING, where));
}

/** A BIT STRING as its bits, most significant first (X.690 §8.6), as the indexes of the bits set. */
export function readBitIndexes(t: Tlv, where: string): number[] {
  const v = value(expectTag(t, TAG.BIT_STRING, where));
  if (v.length === 0 || v[0]! > 7 || (v.length === 1 && v[0] !== 0)) throw malformed(where, 'a BIT STRING with a bad unused-bits octet');
  const out: number[] = [];
  for (let i = 0; i < (v.length - 1) * 8 - v[0]!; i++) if (v[1 + (i >> 3)]! & (0x80 >> (i & 7))) out.push(i);
  return out;
}

/** A string of one of the ASN.1 character string types, made printable and bounded. */
export function readString(t: Tlv, where: string): string {
  const v = value(t);
  let text: string;
  switch (t.tag) {
    case TAG.UTF8_STRING:
      text = v.toString('utf8');
      break;
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.T61_STRING:
    case ctx(1, false): // rfc822Name, dNSName and URI in a GeneralName (RFC 5280 §4.2.1.6) are IA5String
    case ctx(2, false):
    case ctx(6, false):
      text = v.toString('latin1');
      break;
    case TAG.BMP_STRING:
      if (v.length % 2) throw malformed(where, 'a BMPString of odd length');
      text = Buffer.from(v).swap16().toString('utf16le');
      break;
    case TAG.UNIVERSAL_STRING: {
      if (v.length % 4) throw malformed(where, 'a UniversalString whose length is not a multiple of 4');
      const cps: number[] = [];
      for (let i = 0; i < v.length; i += 4) cps.push(Math.min(v.readUInt32BE(i), 0xfffd));
      text = String.fromCodePoint(...cps.slice(0, 1024));
      break;
    }
    default:
      throw malformed(where, `tag 0x${t.tag.toString(16)} where a character string was expected`);
  }
  return printable(text, 256);
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A GeneralizedTime (X.690 §11.7) as RFC 3161 §2.4.2 and RFC 5280 §4.1.2.5.2 require it: UTC
 * ("Z"), seconds present, a fraction without trailing zeros. Also a UTCTime (RFC 5280 §4.1.2.5.1).
 */
export function readTime(t: Tlv, where: string): Date {
  const text = value(t).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/.exec(text);
    year = m ? Number(m[1]) : 0;
  } else if (t.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})()Z$/.exec(text);
    year = m ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : 0;
  } else {
    throw malformed(where, `tag 0x${t.tag.toString(16)} where a time was expected`);
  }
  if (!m) throw malformed(where, `the time '${printable(text, 40)}' is not in UTC with seconds (YYYYMMDDhhmmss[.f]Z)`);
  const [mo, d, h, mi, s] = [2, 3, 4, 5, 6].map((i) => Number(m![i]));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > (mo === 2 && !leap ? 28 : MONTH_DAYS[mo! - 1]!) || h! > 23 || mi! > 59 || s! > 59) {
    throw malformed(where, `the time '${printable(text, 40)}' is not a valid date and time`);
  }
  const ms = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const at = new Date(Date.UTC(year, mo! - 1, d, h, mi, s, Math.floor(ms)));
  if (year < 100) at.setUTCFullYear(year); // Date.UTC reads years 0–99 as 1900–1999
  return at;
}
