/**
 * Parsing of a TimeStampToken: a CMS ContentInfo holding SignedData (RFC 5652 §3, §5) whose
 * encapsulated content is a TSTInfo (RFC 3161 §2.4.2). Structure only; what it proves is checked
 * in verify.ts. Every field is read through the bounded DER reader, so damaged or hostile tokens
 * end in CustosError('INVALID_INPUT') naming the field.
 */
import { CustosError } from '../../errors';
import { ctx, elements, malformed, parseDer, readBoolean, readInteger, readOctets, readOid, readSmallInt, readTime, Reader, TAG, type Tlv, value, whole } from './der';
import { OID } from './oids';

/** The largest token custos reads; real ones are a few kilobytes (the certificates make most of it). */
export const MAX_TOKEN_BYTES = 1024 * 1024;
const MAX_CERTS = 32;
const MAX_ATTRIBUTES = 64;

export interface Algorithm {
  oid: string;
  /** True when the parameters are absent or NULL, as for every algorithm custos accepts. */
  plainParams: boolean;
}

export interface TstInfo {
  policy: string;
  imprint: { algorithm: Algorithm; hash: Buffer };
  serial: bigint;
  genTime: Date;
  accuracy?: { seconds: number; millis: number; micros: number };
  ordering: boolean;
  nonce?: bigint;
  /** The `tsa` GeneralName (RFC 3161 §2.4.2), if present. */
  tsa?: Tlv;
  /** OIDs of critical TSTInfo extensions (custos knows none). */
  criticalExtensions: string[];
}

export interface SignerInfo {
  sid: { issuer: Buffer; serial: bigint } | { ski: Buffer };
  digestAlgorithm: Algorithm;
  /** The signed attributes as the signature covers them: DER, re-tagged as SET OF (RFC 5652 §5.4). */
  signedAttrsDer: Buffer;
  /** Signed attributes by type, each its values. */
  attributes: Map<string, Tlv[]>;
  signatureAlgorithm: Algorithm;
  signature: Buffer;
}

export interface ParsedToken {
  eContentType: string;
  /** The encapsulated content's octets, which messageDigest covers. */
  eContent: Buffer;
  /** DER of each X.509 certificate in the SignedData (other certificate choices are skipped). */
  certificates: Buffer[];
  signer: SignerInfo;
  tst: TstInfo;
}

export function readAlgorithm(t: Tlv, where: string): Algorithm {
  const r = new Reader(t, where);
  const oid = readOid(r.next(TAG.OID, 'algorithm'), where);
  const params = r.peek();
  if (params) r.any('parameters');
  r.end();
  return { oid, plainParams: !params || (params.tag === TAG.NULL && params.end - params.start === 2) };
}

/** Parses a TimeStampToken (DER). `where` names it in errors. */
export function parseToken(der: Buffer, where = 'timestamp token'): ParsedToken {
  if (der.length > MAX_TOKEN_BYTES) throw malformed(where, `${der.length} bytes, larger than the ${MAX_TOKEN_BYTES} a timestamp token may have`);
  const ci = new Reader(parseDer(der, TAG.SEQUENCE, where), `${where}: ContentInfo`);
  const contentType = readOid(ci.next(TAG.OID, 'contentType'), `${where}: contentType`);
  if (contentType !== OID.signedData) throw malformed(where, `content type ${contentType} is not CMS SignedData, so this is not a timestamp token`);
  const wrapper = new Reader(ci.next(ctx(0, true), 'content'), `${where}: content`);
  ci.end();
  const sd = new Reader(wrapper.next(TAG.SEQUENCE, 'SignedData'), `${where}: SignedData`);
  wrapper.end();
  readSmallInt(sd.next(TAG.INTEGER, 'version'), `${where}: SignedData version`);
  sd.next(TAG.SET, 'digestAlgorithms');
  const eci = new Reader(sd.next(TAG.SEQUENCE, 'encapContentInfo'), `${where}: encapContentInfo`);
  const eContentType = readOid(eci.next(TAG.OID, 'eContentType'), `${where}: eContentType`);
  const explicit = eci.optional(ctx(0, true));
  eci.end();
  if (!explicit) throw malformed(where, 'the SignedData carries no content (a detached signature is not a timestamp token)');
  const eContentReader = new Reader(explicit, `${where}: eContent`);
  const eContent = readOctets(eContentReader.next(TAG.OCTET_STRING, 'OCTET STRING'), `${where}: eContent`);
  eContentReader.end();
  const certificates: Buffer[] = [];
  const certs = sd.optional(ctx(0, true));
  if (certs) {
    for (const c of elements(certs, `${where}: certificates`, MAX_CERTS)) if (c.tag === TAG.SEQUENCE) certificates.push(whole(c));
  }
  sd.optional(ctx(1, true)); // crls: revocation is not checked (see verify.ts)
  const signerInfos = elements(sd.next(TAG.SET, 'signerInfos'), `${where}: signerInfos`, 2);
  sd.end();
  if (eContentType !== OID.tstInfo) {
    throw new CustosError('LEDGER_INVALID', `${where}: the signed content is of type ${eContentType}, not a TSTInfo (RFC 3161), so this is not a timestamp`, {
      hint: 'Give the token the TSA returned (the TimeStampToken), not another CMS file.',
    });
  }
  // RFC 3161 §2.4.2: "The time-stamp token MUST NOT contain any signatures other than the signature of the TSA."
  if (signerInfos.length !== 1) throw malformed(where, `${signerInfos.length} signers, where a timestamp token has exactly one (RFC 3161 §2.4.2)`);
  return { eContentType, eContent, certificates, signer: parseSignerInfo(signerInfos[0]!, `${where}: SignerInfo`), tst: parseTstInfo(eContent, `${where}: TSTInfo`) };
}

function parseSignerInfo(t: Tlv, where: string): SignerInfo {
  const r = new Reader(expectSeq(t, where), where);
  readSmallInt(r.next(TAG.INTEGER, 'version'), `${where}: version`);
  let sid: SignerInfo['sid'];
  const ski = r.optional(ctx(0, false));
  if (ski) {
    sid = { ski: value(ski) };
  } else {
    const ias = new Reader(r.next(TAG.SEQUENCE, 'sid'), `${where}: issuerAndSerialNumber`);
    const issuer = whole(ias.next(TAG.SEQUENCE, 'issuer'));
    const serial = readInteger(ias.next(TAG.INTEGER, 'serialNumber'), `${where}: serialNumber`, 32);
    ias.end();
    sid = { issuer, serial };
  }
  const digestAlgorithm = readAlgorithm(r.next(TAG.SEQUENCE, 'digestAlgorithm'), `${where}: digestAlgorithm`);
  const signed = r.optional(ctx(0, true));
  if (!signed) throw malformed(where, 'no signed attributes, which a timestamp token must have (RFC 3161 §2.4.2)');
  const attributes = new Map<string, Tlv[]>();
  for (const a of elements(signed, `${where}: signedAttrs`, MAX_ATTRIBUTES)) {
    const ar = new Reader(expectSeq(a, `${where}: attribute`), `${where}: attribute`);
    const type = readOid(ar.next(TAG.OID, 'attrType'), `${where}: attrType`);
    const values = elements(ar.next(TAG.SET, 'attrValues'), `${where}: attribute ${type}`, MAX_ATTRIBUTES);
    ar.end();
    // RFC 5652 §5.3: an attribute type appears once; two contentType or messageDigest values would be ambiguous.
    if (attributes.has(type)) throw malformed(where, `the signed attribute ${type} appears twice`);
    attributes.set(type, values);
  }
  const signatureAlgorithm = readAlgorithm(r.next(TAG.SEQUENCE, 'signatureAlgorithm'), `${where}: signatureAlgorithm`);
  const signature = readOctets(r.next(TAG.OCTET_STRING, 'signature'), `${where}: signature`);
  r.optional(ctx(1, true)); // unsignedAttrs
  r.end();
  const signedAttrsDer = Buffer.from(whole(signed));
  signedAttrsDer[0] = TAG.SET;
  return { sid, digestAlgorithm, signedAttrsDer, attributes, signatureAlgorithm, signature };
}

function parseTstInfo(der: Buffer, where: string): TstInfo {
  const r = new Reader(parseDer(der, TAG.SEQUENCE, where), where);
  const version = readSmallInt(r.next(TAG.INTEGER, 'version'), `${where}: version`);
  if (version !== 1) throw malformed(where, `version ${version}, where RFC 3161 defines only 1`);
  const policy = readOid(r.next(TAG.OID, 'policy'), `${where}: policy`);
  const mi = new Reader(r.next(TAG.SEQUENCE, 'messageImprint'), `${where}: messageImprint`);
  const algorithm = readAlgorithm(mi.next(TAG.SEQUENCE, 'hashAlgorithm'), `${where}: messageImprint hashAlgorithm`);
  const hash = readOctets(mi.next(TAG.OCTET_STRING, 'hashedMessage'), `${where}: hashedMessage`);
  mi.end();
  const serial = readInteger(r.next(TAG.INTEGER, 'serialNumber'), `${where}: serialNumber`, 32);
  if (serial < 0n) throw malformed(where, 'a negative serialNumber');
  const genTime = readTime(r.next(TAG.GENERALIZED_TIME, 'genTime'), `${where}: genTime`);
  let accuracy: TstInfo['accuracy'];
  const acc = r.optional(TAG.SEQUENCE);
  if (acc) {
    const ar = new Reader(acc, `${where}: accuracy`);
    const part = (tag: number, name: string, max: number) => {
      const t = ar.optional(tag);
      if (!t) return 0;
      const n = readSmallInt({ ...t, tag: TAG.INTEGER }, `${where}: accuracy ${name}`);
      if (n > max) throw malformed(where, `accuracy ${name} ${n} is out of range`);
      return n;
    };
    accuracy = { seconds: part(TAG.INTEGER, 'seconds', 2 ** 31), millis: part(ctx(0, false), 'millis', 999), micros: part(ctx(1, false), 'micros', 999) };
    ar.end();
  }
  const ord = r.optional(TAG.BOOLEAN);
  const ordering = ord ? readBoolean(ord, `${where}: ordering`) : false;
  const nonceTlv = r.optional(TAG.INTEGER);
  const nonce = nonceTlv ? readInteger(nonceTlv, `${where}: nonce`, 64) : undefined;
  let tsa: Tlv | undefined;
  const tsaTlv = r.optional(ctx(0, true));
  if (tsaTlv) {
    const tr = new Reader(tsaTlv, `${where}: tsa`);
    tsa = tr.any('GeneralName');
    tr.end();
  }
  const criticalExtensions: string[] = [];
  const exts = r.optional(ctx(1, true));
  if (exts) {
    for (const e of elements(exts, `${where}: extensions`, 64)) {
      const er = new Reader(expectSeq(e, `${where}: extension`), `${where}: extension`);
      const id = readOid(er.next(TAG.OID, 'extnID'), `${where}: extnID`);
      const crit = er.optional(TAG.BOOLEAN);
      er.next(TAG.OCTET_STRING, 'extnValue');
      er.end();
      if (crit && readBoolean(crit, `${where}: extension ${id}`)) criticalExtensions.push(id);
    }
  }
  r.end();
  return { policy, imprint: { algorithm, hash }, serial, genTime, accuracy, ordering, nonce, tsa, criticalExtensions };
}

function expectSeq(t: Tlv, where: string): Tlv {
  if (t.tag !== TAG.SEQUENCE) throw malformed(where, `tag 0x${t.tag.toString(16)} where a SEQUENCE was expected`);
  return t;
}
