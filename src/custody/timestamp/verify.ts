/**
 * Verification of a TimeStampToken: that it is for the expected data and request, that the TSA's
 * signature over it holds (RFC 5652 §5.4–5.6), that the signer is a TSA (RFC 3161 §2.3) named by
 * the signingCertificate attribute (RFC 2634 §5.4, RFC 5035, RFC 5816), and that its certificate
 * chains to a trusted one, each certificate valid at the time the token states.
 */
import { createHash, verify as verifySignature } from 'node:crypto';
import { CustosError, printable } from '../../errors';
import { ctx, elements, readInteger, readOctets, readOid, Reader, TAG, type Tlv, whole } from './der';
import { type Algorithm, type ParsedToken, parseToken, readAlgorithm, type TstInfo } from './cms';
import { DIGESTS, OID, SIGNATURES } from './oids';
import { checkDigest, type Nonce, nonceValue } from './request';
import { type CertFacts, certFacts, extKeyUsages, generalNameText, keyUsageBits, subjectAltNames, subjectKeyId } from './x509';

/** What a verified timestamp token states. */
export interface TimestampInfo {
  /** The time the TSA states (TSTInfo genTime), and the same as an ISO 8601 string. */
  genTime: Date;
  genTimeIso: string;
  /** TSTInfo serialNumber, lowercase hex. */
  serial: string;
  /** The TSA policy under which the token was issued (OID). */
  policy: string;
  /** The TSTInfo tsa field, when present: "C=…, O=…, CN=…" for a directory name. */
  tsaName?: string;
  /** Subject of the certificate that signed, "C=…, O=…, CN=…". */
  signerSubject: string;
  /** SHA-256 of that certificate (DER), lowercase hex. */
  signerFingerprint: string;
  /** The SHA-256 the token is for, lowercase hex. */
  digest: string;
  /** The token's nonce, lowercase hex, when it has one. */
  nonce?: string;
  /** TSTInfo accuracy, when stated. */
  accuracy?: { seconds: number; millis: number; micros: number };
}

/** Options of verifyTimestamp. */
export interface VerifyTimestampOptions {
  /** The SHA-256 the token must be for (32 bytes). */
  digest: Buffer;
  /** The nonce of the request, when the token must answer that request. */
  nonce?: Nonce;
  /** PEM certificates trusted as TSAs or as their CAs; a string may hold several. */
  trusted: string[];
  /** The time of verification (default now): a token stating a later time is refused. */
  at?: Date;
}

/** How far a TSA's clock may be ahead of this machine's before a token counts as from the future. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
const MAX_CHAIN = 8;
const MAX_TRUSTED_PEM = 4 * 1024 * 1024;
/** Extensions custos understands enough to accept them critical (RFC 5280 §4.2): others make a certificate unusable. */
const UNDERSTOOD_CRITICAL = new Set<string>([OID.keyUsage, OID.basicConstraints, OID.extKeyUsage, OID.subjectAltName, OID.certificatePolicies, OID.subjectKeyIdentifier, OID.authorityKeyIdentifier]);

const WHERE = 'timestamp token';
const HINT = 'The token does not prove what it claims: timestamp the data again with a TSA you trust.';

function invalid(why: string, hint = HINT): CustosError {
  return new CustosError('LEDGER_INVALID', `${WHERE}: ${why}`, { hint });
}

/**
 * Checks a token against the request it answers: the imprint is SHA-256 of `digest` (RFC 3161
 * §2.4.2), the nonce equal when one was sent. `source` (a TSA URL) starts the messages when given.
 */
export function checkAnswers(tst: TstInfo, digest: Buffer, nonce: Nonce | undefined, source?: string): void {
  const prefix = source ? `${source}: ` : '';
  const { algorithm, hash } = tst.imprint;
  if (DIGESTS[algorithm.oid] !== 'sha256' || !algorithm.plainParams || !hash.equals(digest)) {
    const alg = DIGESTS[algorithm.oid] ?? algorithm.oid;
    throw new CustosError('LEDGER_INVALID', `${prefix}${WHERE} is for other data (its imprint is ${alg} ${printable(hash.toString('hex'), 130)}, expected sha256 ${digest.toString('hex')})`, {
      hint: 'This token belongs to another checkpoint or file; timestamp the data again.',
    });
  }
  if (nonce !== undefined) {
    const want = nonceValue(nonce);
    if (tst.nonce !== want) {
      const got = tst.nonce === undefined ? 'none' : hexOf(tst.nonce);
      throw new CustosError('LEDGER_INVALID', `${prefix}${WHERE}: nonce differs from the request (the token has ${got}, the request ${hexOf(want)})`, {
        hint: 'The reply does not answer this request (replayed or mixed up); ask the TSA again.',
      });
    }
  }
}

/**
 * Verifies a TimeStampToken (RFC 3161 §2.4.2, CMS SignedData RFC 5652 §5, ESSCertIDv2 RFC 5816)
 * for `digest`; returns what it states, or throws LEDGER_INVALID (does not verify) / INVALID_INPUT (undecodable).
 */
export function verifyTimestamp(token: Buffer, o: VerifyTimestampOptions): TimestampInfo {
  checkDigest(o.digest);
  const trusted = trustedCerts(o.trusted);
  const t = parseToken(token, WHERE);
  const carried = t.certificates.map((der, i) => certFacts(der, `${WHERE}: certificate ${i + 1}`));
  const signer = findSigner(t, [...carried, ...trusted]);
  checkSignedAttributes(t);
  checkSignature(t, signer);
  checkSigningCertificate(t, signer);
  checkTsaCertificate(t.tst, signer);
  const chain = chainToTrusted(signer, carried, trusted);
  checkValidity(chain, t.tst.genTime);
  if (t.tst.criticalExtensions.length) throw invalid(`the TSTInfo has critical extensions custos does not know (${t.tst.criticalExtensions.join(', ')})`);
  const at = o.at ?? new Date();
  const slack = CLOCK_SKEW_MS + (t.tst.accuracy ? t.tst.accuracy.seconds * 1000 + t.tst.accuracy.millis + 1 : 0);
  if (t.tst.genTime.getTime() - slack > at.getTime()) {
    throw invalid(`the TSA states ${t.tst.genTime.toISOString()}, later than the time of verification ${at.toISOString()}`, 'Check this machine’s clock; a token from the future is not accepted.');
  }
  checkAnswers(t.tst, o.digest, o.nonce);
  return {
    genTime: t.tst.genTime,
    genTimeIso: t.tst.genTime.toISOString(),
    serial: hexOf(t.tst.serial),
    policy: t.tst.policy,
    ...(t.tst.tsa ? { tsaName: generalNameText(t.tst.tsa, `${WHERE}: tsa`) } : {}),
    signerSubject: signer.subjectText,
    signerFingerprint: signer.fingerprint,
    digest: o.digest.toString('hex'),
    ...(t.tst.nonce !== undefined ? { nonce: hexOf(t.tst.nonce) } : {}),
    ...(t.tst.accuracy ? { accuracy: t.tst.accuracy } : {}),
  };
}

function hexOf(n: bigint): string {
  const hex = n.toString(16);
  return hex.length % 2 ? `0${hex}` : hex;
}

/** The trusted PEM certificates, each read and checked once. */
function trustedCerts(pems: string[]): CertFacts[] {
  const out: CertFacts[] = [];
  for (const [i, pem] of pems.entries()) {
    const where = `trusted certificate ${i + 1}`;
    if (typeof pem !== 'string' || pem.length > MAX_TRUSTED_PEM) throw new CustosError('CERT_INVALID', `${where}: not a PEM text of a reasonable size`, { hint: 'Give the PEM file of the TSA or of its CA.' });
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]{1,1400000}?-----END CERTIFICATE-----/g) ?? [];
    if (!blocks.length) throw new CustosError('CERT_INVALID', `${where}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`, { hint: 'Give the PEM file of the TSA or of its CA.' });
    for (const block of blocks.slice(0, 64)) {
      const der = Buffer.from(block.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64');
      try {
        out.push(certFacts(der, where));
      } catch (err) {
        throw new CustosError('CERT_INVALID', (err as Error).message, { hint: 'Give the PEM file of the TSA or of its CA.', cause: err });
      }
    }
  }
  if (!out.length) throw new CustosError('CERT_INVALID', 'no trusted TSA certificate was given', { hint: 'Name the certificate of the TSA or of its CA.' });
  return out;
}

/** The certificate the SignerIdentifier names (RFC 5652 §5.3), from the token's or the trusted ones. */
function findSigner(t: ParsedToken, candidates: CertFacts[]): CertFacts {
  const sid = t.signer.sid;
  const match = candidates.find((c) => ('ski' in sid ? subjectKeyId(c, `${WHERE}: certificate`)?.equals(sid.ski) : c.serial === sid.serial && c.issuer.equals(sid.issuer)));
  if (!match) {
    throw invalid('the certificate of its signer is neither in the token nor among the trusted ones', 'Ask the TSA with certReq (custos does), or trust the TSA certificate itself.');
  }
  return match;
}

/** The single value of a signed attribute that must be there once with one value. */
function single(t: ParsedToken, oid: string, name: string): Tlv {
  const values = t.signer.attributes.get(oid);
  if (!values) throw invalid(`the signer has no ${name} attribute (RFC 5652 §5.3)`);
  if (values.length !== 1) throw invalid(`the ${name} attribute has ${values.length} values, where it must have one`);
  return values[0]!;
}

function hashName(alg: Algorithm, what: string): 'sha256' | 'sha384' | 'sha512' {
  const name = DIGESTS[alg.oid];
  if (!name || name === 'sha1' || !alg.plainParams) throw invalid(`its ${what} is ${name ?? alg.oid}, which custos does not accept (SHA-256, SHA-384 or SHA-512)`);
  return name;
}

/** contentType and messageDigest signed attributes (RFC 5652 §11.1, §11.2). */
function checkSignedAttributes(t: ParsedToken): void {
  const ct = readOid(single(t, OID.contentType, 'contentType'), `${WHERE}: contentType attribute`);
  if (ct !== t.eContentType) throw invalid(`the signed contentType ${ct} differs from the content's type ${t.eContentType}`);
  const md = readOctets(single(t, OID.messageDigest, 'messageDigest'), `${WHERE}: messageDigest attribute`);
  const actual = createHash(hashName(t.signer.digestAlgorithm, 'digest algorithm')).update(t.eContent).digest();
  if (!actual.equals(md)) throw invalid('the signed messageDigest differs from the hash of the TSTInfo: the token was altered after it was signed');
}

/** The signature over the DER of the signed attributes (RFC 5652 §5.4) with the signer's key. */
function checkSignature(t: ParsedToken, signer: CertFacts): void {
  const { signatureAlgorithm: alg, digestAlgorithm, signature, signedAttrsDer } = t.signer;
  const kind = SIGNATURES[alg.oid];
  if (!kind || !alg.plainParams) throw invalid(`it is signed with algorithm ${alg.oid}, which custos does not verify (RSA PKCS#1 v1.5 or ECDSA)`);
  const hash = hashName(digestAlgorithm, 'digest algorithm');
  if (kind.hash && kind.hash !== hash) throw invalid(`its signature algorithm hashes with ${kind.hash} but its digest algorithm is ${hash}`);
  const key = signer.x509.publicKey;
  if (key.asymmetricKeyType !== kind.key) throw invalid(`the signer's key is ${key.asymmetricKeyType}, but the signature is ${kind.key === 'ec' ? 'ECDSA' : 'RSA'}`);
  let ok = false;
  try {
    ok = verifySignature(hash, signedAttrsDer, kind.key === 'ec' ? { key, dsaEncoding: 'der' } : key, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid(`the TSA's signature does not verify with the key of ${signer.subjectText}: the token was altered or signed by another key`);
}

/**
 * The signingCertificate (ESSCertID, SHA-1) or signingCertificateV2 (ESSCertIDv2) attribute that
 * RFC 3161 §2.4.1 and RFC 5816 §2.2.1 require: its first entry names the signer's certificate.
 */
function checkSigningCertificate(t: ParsedToken, signer: CertFacts): void {
  const v1 = t.signer.attributes.get(OID.signingCertificate);
  const v2 = t.signer.attributes.get(OID.signingCertificateV2);
  if (!v1 && !v2) throw invalid('the signer has no signingCertificate attribute, which binds a timestamp to its TSA certificate (RFC 3161 §2.4.1, RFC 5816)');
  for (const [values, v2form] of [[v1, false], [v2, true]] as const) {
    if (!values) continue;
    const where = `${WHERE}: ${v2form ? 'signingCertificateV2' : 'signingCertificate'} attribute`;
    if (values.length !== 1) throw invalid(`the ${v2form ? 'signingCertificateV2' : 'signingCertificate'} attribute has ${values.length} values, where it must have one`);
    const certs = new Reader(values[0]!, where).next(TAG.SEQUENCE, 'certs');
    const first = new Reader(certs, where).next(TAG.SEQUENCE, 'ESSCertID');
    const r = new Reader(first, where);
    let hash: 'sha1' | 'sha256' | 'sha384' | 'sha512' = 'sha1';
    if (v2form) {
      const alg = r.optional(TAG.SEQUENCE);
      const name = alg ? DIGESTS[readAlgorithm(alg, `${where}: hashAlgorithm`).oid] : 'sha256';
      if (!name || name === 'sha1') throw invalid(`the ESSCertIDv2 hashes the certificate with an algorithm custos does not accept`);
      hash = name;
    }
    const certHash = readOctets(r.next(TAG.OCTET_STRING, 'certHash'), `${where}: certHash`);
    const issuerSerial = r.optional(TAG.SEQUENCE);
    r.end();
    const named = () => invalid(`its ${v2form ? 'signingCertificateV2' : 'signingCertificate'} attribute names another certificate than the one that signed (${signer.subjectText})`);
    if (!createHash(hash).update(signer.der).digest().equals(certHash)) throw named();
    if (issuerSerial) {
      const ir = new Reader(issuerSerial, `${where}: issuerSerial`);
      const names = elements(ir.next(TAG.SEQUENCE, 'issuer'), `${where}: issuer`, 16);
      const serial = readInteger(ir.next(TAG.INTEGER, 'serialNumber'), `${where}: serialNumber`, 32);
      ir.end();
      const dirNames = names.filter((g) => g.tag === ctx(4, true)).map((g) => whole(new Reader(g, `${where}: issuer`).next(TAG.SEQUENCE, 'directoryName')));
      if (serial !== signer.serial || !dirNames.some((n) => n.equals(signer.issuer))) throw named();
    }
  }
}

/** The signer is a TSA (RFC 3161 §2.3): critical extendedKeyUsage with only id-kp-timeStamping; the tsa field names it. */
function checkTsaCertificate(tst: TstInfo, signer: CertFacts): void {
  const where = `${WHERE}: signer certificate`;
  const eku = signer.extensions.get(OID.extKeyUsage);
  if (!eku) throw invalid(`the signer certificate (${signer.subjectText}) has no extendedKeyUsage timeStamping: it is not a TSA certificate (RFC 3161 §2.3)`);
  const usages = extKeyUsages(eku.value, where);
  if (!usages.includes(OID.timeStamping)) throw invalid(`the signer certificate (${signer.subjectText}) lacks the extendedKeyUsage timeStamping: it is not a TSA certificate (RFC 3161 §2.3)`);
  if (usages.length !== 1) throw invalid(`the signer certificate (${signer.subjectText}) has other extended key usages besides timeStamping (RFC 3161 §2.3 allows only that one)`);
  if (!eku.critical) throw invalid(`the extendedKeyUsage timeStamping of the signer certificate (${signer.subjectText}) is not critical, as RFC 3161 §2.3 requires of a TSA certificate`);
  const ku = signer.extensions.get(OID.keyUsage);
  if (ku) {
    const bits = keyUsageBits(ku.value, where);
    if (!bits.includes(0) && !bits.includes(1)) throw invalid(`the keyUsage of the signer certificate (${signer.subjectText}) does not allow signatures`);
  }
  if (tst.tsa) {
    // RFC 3161 §2.4.2: the tsa name "MUST correspond to one of the subject names included in the certificate".
    const g = tst.tsa;
    const ok = g.tag === ctx(4, true) ? whole(new Reader(g, `${WHERE}: tsa`).next(TAG.SEQUENCE, 'directoryName')).equals(signer.subject) : subjectAltNames(signer, where).some((n) => n.equals(whole(g)));
    if (!ok) throw invalid(`the TSA it names (${generalNameText(g, `${WHERE}: tsa`)}) is not the one that signed (${signer.subjectText})`);
  }
}

/** The path from the signer to a trusted certificate, signer first and the trusted one last (RFC 5280 §6, without policies or revocation). */
function chainToTrusted(signer: CertFacts, carried: CertFacts[], trusted: CertFacts[]): CertFacts[] {
  const chain = [signer];
  const issues = (issuer: CertFacts, c: CertFacts) => {
    try {
      return issuer.x509.ca && c.x509.checkIssued(issuer.x509) && c.x509.verify(issuer.x509.publicKey);
    } catch {
      return false;
    }
  };
  for (let cur = signer; chain.length <= MAX_CHAIN; ) {
    if (trusted.some((t) => t.fingerprint === cur.fingerprint)) return chain;
    const anchor = trusted.find((t) => issues(t, cur));
    if (anchor) return [...chain, anchor];
    const next = carried.find((c) => !chain.includes(c) && issues(c, cur));
    if (!next) break;
    chain.push(next);
    cur = next;
  }
  throw invalid(`not signed by a trusted TSA: the certificate chain of ${signer.subjectText} does not lead to a trusted certificate`, 'Trust the certificate of this TSA or of its CA, if you trust them; otherwise timestamp again with a TSA you trust.');
}

/** Each certificate of the chain valid at genTime, and with no critical extension custos does not understand. */
function checkValidity(chain: CertFacts[], genTime: Date): void {
  for (const [i, c] of chain.entries()) {
    const who = i === 0 ? 'TSA certificate' : `certificate of ${c.subjectText}`;
    if (c.notAfter < genTime) throw invalid(`${who} expired before the time it states (valid until ${c.notAfter.toISOString()}, token states ${genTime.toISOString()})`);
    if (c.notBefore > genTime) throw invalid(`${who} was not yet valid at the time it states (valid from ${c.notBefore.toISOString()}, token states ${genTime.toISOString()})`);
    for (const [oid, e] of c.extensions) {
      if (e.critical && !UNDERSTOOD_CRITICAL.has(oid)) throw invalid(`the ${who} has a critical extension custos does not understand (${oid})`);
    }
  }
}

