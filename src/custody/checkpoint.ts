/**
 * Checkpoints of a custody ledger: the tree size and Merkle root (merkle.ts) of the ledger, as a
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint) in a C2SP signed note (c2sp.org/signed-note)
 * signed by one or more examiners. A checkpoint kept outside the case folder makes a later
 * rewritten or truncated ledger fail: no consistency proof leads from it to the new tree.
 *
 *     custos.case/2026-0314-HARBOUR
 *     6
 *     <base64 of the 32-byte root>
 *
 *     — custos.examiner/3f9a0c1d2b4e5f60 <base64 of key ID ‖ RSA signature>
 *
 * Choices where the specifications leave room:
 * - Origin: `custos.case/` followed by the case ID percent-encoded as by encodeURIComponent (UTF-8;
 *   everything but A–Z a–z 0–9 - _ . ! ~ * ' ( ) is escaped, so no spaces, '+' or '/' remain and
 *   two case IDs never share an origin; decodeURIComponent gives the case ID back).
 * - Key name: `custos.examiner/` followed by the first 16 hex digits of the SHA-256 fingerprint of
 *   the examiner's certificate (the name of the identity's folder). It differs from the origin, as
 *   for cosigners: the ledger is not a log with a key of its own, its examiners vouch for it.
 * - Signature type: the signed-note spec assigns no byte to RSA, so custos uses 0xff (for types
 *   without an assigned byte) followed by the identifier "custos.dev/rsa-pkcs1-sha256". The
 *   signature is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2) over the note text as UTF-8, as
 *   `Signer.sign` makes it; the key ID is, as the spec recommends,
 *   SHA-256(key name ‖ 0x0A ‖ 0xff ‖ "custos.dev/rsa-pkcs1-sha256" ‖ DER SubjectPublicKeyInfo)[:4].
 *   `openssl dgst -sha256 -verify pub.pem -signature SIG BODY` checks one, with SIG the decoded
 *   signature less its first 4 bytes and BODY the note text.
 *
 * Longer than most modules (about 380 lines) on purpose: the two formats are parsed strictly, line
 * by line, from untrusted text, and the checkpoint is only ever read inside a verified note; split
 * apart, each half would re-check the other's bounds.
 */
import { createPublicKey, hash as oneShotHash, type KeyObject, verify as verifySignature } from 'node:crypto';
import { CustosBug, CustosError, printable } from '../errors';
import { certFingerprint, certPublicKey, type Signer } from './identity';
import { HASH_BYTES } from './merkle';

/** The origin prefix of a case's checkpoints. */
export const CASE_ORIGIN_PREFIX = 'custos.case/';
/** The key name prefix of an examiner's note signatures. */
export const EXAMINER_KEY_PREFIX = 'custos.examiner/';
/** Signed-note signature type for types without an assigned byte. */
export const RSA_SIGNATURE_TYPE = 0xff;
/** The identifier after RSA_SIGNATURE_TYPE: RSASSA-PKCS1-v1_5 with SHA-256. */
export const RSA_SIGNATURE_IDENTIFIER = 'custos.dev/rsa-pkcs1-sha256';

/** Most bytes of a signed note custos reads: room for 16 post-quantum signatures of 5 kB, as the spec asks. */
export const MAX_NOTE_BYTES = 128 * 1024;
/** Most signature lines of a signed note (the spec asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 32;
/** Most bytes of one decoded signature, key ID included (RSA-8192 is 1 KiB, SLH-DSA more). */
export const MAX_SIGNATURE_BYTES = 8 * 1024;
/** Most bytes of a checkpoint body; a case ID of 256 characters percent-encodes to at most 2,304. */
export const MAX_CHECKPOINT_BYTES = 8 * 1024;
/** Longest case ID (as schemas/ledger-entry.schema.json allows). */
const MAX_CASE_ID_CHARS = 256;

/** A checkpoint body (c2sp.org/tlog-checkpoint, "Note text"). */
export interface Checkpoint {
  /** The log's identity; for a ledger, `caseOrigin(case ID)`. */
  origin: string;
  /** Number of leaves (ledger lines). */
  size: number;
  /** RFC 9162 root of the first `size` leaves, 32 bytes. */
  root: Buffer;
  /** Opaque extension lines, usually none. */
  extensions: string[];
}

/** What signs a note: a key name, the signer's public key as DER SubjectPublicKeyInfo, and an RSA signer. */
export interface NoteSigner {
  name: string;
  spkiDer: Uint8Array;
  /** RSASSA-PKCS1-v1_5 with SHA-256 over `data`, base64 (what `Signer.sign` returns). */
  sign(data: Uint8Array): string;
}

/** A public key a verifier trusts, under its key name. */
export interface NoteKey {
  name: string;
  /** An RSA public key. */
  publicKey: KeyObject;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  /** 4 bytes. */
  keyId: Buffer;
  /** The signature less the key ID. */
  signature: Buffer;
}

/** A signed note taken apart, not yet verified. */
export interface SignedNote {
  /** The note text: every line with its newline, without the blank line before the signatures. */
  body: string;
  signatures: NoteSignature[];
}

const EM_DASH_SPACE = '\u2014 ';
// eslint-disable-next-line no-control-regex
const NOTE_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
// eslint-disable-next-line no-control-regex
const LINE_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const SPACE_OR_PLUS = /[\p{White_Space}+]/u;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const NOTE_HINT = 'Give the checkpoint file as custos wrote it, or a copy kept elsewhere; a damaged checkpoint cannot be trusted.';

function malformed(what: string, hint = NOTE_HINT): CustosError {
  return new CustosError('INVALID_INPUT', what, { hint });
}

/** Standard base64 (RFC 4648 §4) with padding, in its one canonical form, else undefined. */
function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The character at fault, for messages: its code point in U+ form. */
function codePointOf(text: string, pattern: RegExp): string {
  const c = pattern.exec(text)?.[0] ?? '';
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Throws unless `name` is a valid key name (signed-note: non-empty, no Unicode spaces or '+'; custos: no control characters). */
function checkKeyName(name: unknown, where: string): asserts name is string {
  if (typeof name !== 'string' || name === '') throw malformed(`${where}: the key name is empty`);
  if (name.length > 1024) throw malformed(`${where}: the key name has ${name.length} characters, more than 1024`);
  if (SPACE_OR_PLUS.test(name)) throw malformed(`${where}: the key name '${printable(name, 80)}' contains a space or '+' (${codePointOf(name, SPACE_OR_PLUS)}), which signed notes forbid`);
  if (LINE_CONTROL.test(name) || LONE_SURROGATE.test(name)) throw malformed(`${where}: the key name '${printable(name, 80)}' contains a control character or broken UTF-16`);
}

/**
 * The origin of a case's checkpoints: `custos.case/` and the case ID percent-encoded (UTF-8, as
 * encodeURIComponent), so that it has no spaces, '+' or '/' (c2sp.org/tlog-checkpoint).
 */
export function caseOrigin(caseId: string): string {
  if (typeof caseId !== 'string' || caseId.length === 0 || caseId.length > MAX_CASE_ID_CHARS) {
    throw malformed(`checkpoint: a case ID must have 1 to ${MAX_CASE_ID_CHARS} characters`, 'Use the case ID of the ledger (custos case init --case).');
  }
  if (LONE_SURROGATE.test(caseId)) throw malformed(`checkpoint: the case ID '${printable(caseId, 80)}' is not valid Unicode`, 'Use the case ID of the ledger.');
  return CASE_ORIGIN_PREFIX + encodeURIComponent(caseId);
}

/** The key name of an examiner's signatures: `custos.examiner/` and the first 16 hex digits of the certificate's SHA-256 fingerprint. */
export function examinerKeyName(fingerprint: string): string {
  if (typeof fingerprint !== 'string' || !/^[0-9a-fA-F]{64}$/.test(fingerprint)) {
    throw malformed(`checkpoint: '${printable(String(fingerprint), 80)}' is not a SHA-256 certificate fingerprint (64 hex digits)`, 'Give the fingerprint custos identity list shows.');
  }
  return EXAMINER_KEY_PREFIX + fingerprint.slice(0, 16).toLowerCase();
}

/**
 * The key ID of an RSA key under `name` (c2sp.org/signed-note, "Signatures"):
 * SHA-256(name ‖ 0x0A ‖ 0xff ‖ "custos.dev/rsa-pkcs1-sha256" ‖ DER SubjectPublicKeyInfo)[:4].
 */
export function noteKeyId(name: string, spkiDer: Uint8Array): Buffer {
  checkKeyName(name, 'signed note');
  if (!(spkiDer instanceof Uint8Array) || spkiDer.length === 0 || spkiDer.length > 16 * 1024) {
    throw malformed('signed note: the public key must be given as DER SubjectPublicKeyInfo bytes', 'Export it with key.export({ type: "spki", format: "der" }).');
  }
  const input = Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, RSA_SIGNATURE_TYPE]), Buffer.from(RSA_SIGNATURE_IDENTIFIER, 'ascii'), spkiDer]);
  return oneShotHash('sha256', input, 'buffer').subarray(0, 4);
}

/** Throws unless `line` may be a checkpoint line: non-empty, no control characters, valid UTF-16. */
function checkLine(line: string, where: string): void {
  if (line === '') throw malformed(`checkpoint: ${where} is empty`);
  if (LINE_CONTROL.test(line)) throw malformed(`checkpoint: ${where} contains the control character ${codePointOf(line, LINE_CONTROL)}`);
  if (LONE_SURROGATE.test(line)) throw malformed(`checkpoint: ${where} is not valid Unicode`);
}

/** The body of a checkpoint (c2sp.org/tlog-checkpoint, "Note text"): origin, size, base64 root and extension lines, each ending in a newline. */
export function checkpointBody(c: { origin: string; size: number; root: Uint8Array; extensions?: readonly string[] }): string {
  if (typeof c.origin !== 'string') throw malformed('checkpoint: the origin must be a string', 'Use caseOrigin(case ID).');
  checkLine(c.origin, 'the origin');
  if (SPACE_OR_PLUS.test(c.origin)) throw malformed(`checkpoint: the origin '${printable(c.origin, 80)}' contains a space or '+'`, 'Use caseOrigin(case ID), which escapes them.');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw malformed(`checkpoint: the tree size must be a whole number from 0 to 2^53 - 1, not ${String(c.size).slice(0, 40)}`, 'Give the number of ledger lines.');
  if (!(c.root instanceof Uint8Array) || c.root.length !== HASH_BYTES) throw malformed(`checkpoint: the root must be a SHA-256 hash of ${HASH_BYTES} bytes`, 'Give MerkleTree.root(size).');
  const extensions = c.extensions ?? [];
  extensions.forEach((e, i) => {
    if (typeof e !== 'string') throw malformed(`checkpoint: extension line ${i + 1} must be a string`, 'Give extension lines as strings.');
    if (e.includes('\n')) throw malformed(`checkpoint: extension line ${i + 1} contains a newline`, 'Give each extension line without its newline.');
    checkLine(e, `extension line ${i + 1}`);
  });
  const body = [c.origin, String(c.size), Buffer.from(c.root).toString('base64'), ...extensions].map((l) => `${l}\n`).join('');
  if (Buffer.byteLength(body, 'utf8') > MAX_CHECKPOINT_BYTES) throw malformed(`checkpoint: the body would have more than ${MAX_CHECKPOINT_BYTES} bytes`, 'Use a shorter origin and fewer extension lines.');
  return body;
}

/**
 * Parses a checkpoint body strictly (c2sp.org/tlog-checkpoint): at least three non-empty lines
 * ending in newlines; a non-empty origin; the tree size in decimal without leading zeros, at
 * most 2^53 - 1; the root as canonical standard base64 of exactly 32 bytes; no control characters.
 */
export function parseCheckpoint(body: string): Checkpoint {
  if (typeof body !== 'string') throw malformed('checkpoint: the body must be text');
  if (body.length > MAX_CHECKPOINT_BYTES || Buffer.byteLength(body, 'utf8') > MAX_CHECKPOINT_BYTES) {
    throw malformed(`checkpoint: the body has more than ${MAX_CHECKPOINT_BYTES} bytes; a checkpoint has three short lines`);
  }
  if (!body.endsWith('\n')) throw malformed('checkpoint: the body does not end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed(`checkpoint: the body has ${lines.length} line${lines.length === 1 ? '' : 's'}; a checkpoint has an origin, a tree size and a root hash`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine(origin, 'the origin (line 1)');
  checkLine(sizeText, 'the tree size (line 2)');
  checkLine(rootText, 'the root hash (line 3)');
  extensions.forEach((e, i) => checkLine(e, `extension line ${i + 1} (line ${i + 4})`));
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw malformed(`checkpoint: the tree size (line 2) '${printable(sizeText, 40)}' is not a decimal number from 0 to 2^53 - 1 without leading zeros`);
  }
  const root = rootText.length <= 64 ? decodeBase64(rootText) : undefined;
  if (!root || root.length !== HASH_BYTES) {
    const got = root ? `${root.length} bytes` : 'not canonical standard base64';
    throw malformed(`checkpoint: the root hash (line 3) '${printable(rootText, 64)}' is not the base64 of a 32-byte SHA-256 hash (${got})`);
  }
  return { origin, size: Number(sizeText), root, extensions };
}

/** The note text as UTF-8 bytes, checked as the signed-note spec requires; `text` already bounded. */
function checkNoteText(text: string, what: string): void {
  if (LONE_SURROGATE.test(text)) throw malformed(`signed note: the ${what} is not valid UTF-8`);
  if (NOTE_CONTROL.test(text)) throw malformed(`signed note: the ${what} contains the control character ${codePointOf(text, NOTE_CONTROL)}; only newlines may appear`);
}

/** Reads a note from text or bytes, bounded by MAX_NOTE_BYTES and checked to be UTF-8. */
function noteText(input: string | Uint8Array): string {
  if (typeof input === 'string') {
    if (input.length > MAX_NOTE_BYTES || Buffer.byteLength(input, 'utf8') > MAX_NOTE_BYTES) throw malformed(`signed note: more than ${MAX_NOTE_BYTES} bytes`);
    return input;
  }
  if (!(input instanceof Uint8Array)) throw malformed('signed note: expected text or bytes');
  if (input.length > MAX_NOTE_BYTES) throw malformed(`signed note: ${input.length} bytes, more than ${MAX_NOTE_BYTES}`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch (err) {
    throw new CustosError('INVALID_INPUT', 'signed note: not valid UTF-8', { hint: NOTE_HINT, cause: err });
  }
}

/**
 * Takes a signed note apart (c2sp.org/signed-note, "Format") without verifying it: the text up to
 * the last blank line, then one to MAX_NOTE_SIGNATURES lines `— <key name> <base64(key ID ‖ signature)>`.
 * Strict: valid UTF-8, no control characters but newlines, canonical base64, bounded sizes.
 */
export function parseSignedNote(input: string | Uint8Array): SignedNote {
  const text = noteText(input);
  checkNoteText(text, 'note');
  if (!text.endsWith('\n')) throw malformed('signed note: the text does not end with a newline');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw malformed('signed note: no blank line before the signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block === '') throw malformed('signed note: no signature after the blank line');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`signed note: ${lines.length} signatures, more than the ${MAX_NOTE_SIGNATURES} custos reads`);
  const signatures = lines.map((line, i): NoteSignature => {
    const where = `signed note, signature line ${i + 1}`;
    if (!line.startsWith(EM_DASH_SPACE)) throw malformed(`${where}: does not start with an em dash (U+2014) and a space`);
    const rest = line.slice(EM_DASH_SPACE.length);
    const space = rest.indexOf(' ');
    if (space < 0) throw malformed(`${where}: no space between the key name and the signature`);
    const name = rest.slice(0, space);
    checkKeyName(name, where);
    const encoded = rest.slice(space + 1);
    const bytes = encoded.length <= Math.ceil(MAX_SIGNATURE_BYTES / 3) * 4 ? decodeBase64(encoded) : undefined;
    if (!bytes) throw malformed(`${where}: the signature of ${printable(name, 80)} is not canonical standard base64 of at most ${MAX_SIGNATURE_BYTES} bytes`);
    if (bytes.length < 5) throw malformed(`${where}: the signature of ${printable(name, 80)} has ${bytes.length} bytes, less than a 4-byte key ID and a signature`);
    return { name, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  return { body, signatures };
}

/** A known key checked to be RSA, with its key ID. */
function prepareKey(k: NoteKey): NoteKey & { keyId: Buffer } {
  checkKeyName(k?.name, 'known key');
  if (!k.publicKey || typeof k.publicKey !== 'object' || k.publicKey.type !== 'public' || k.publicKey.asymmetricKeyType !== 'rsa') {
    throw malformed(`known key ${printable(k.name, 80)}: not an RSA public key`, 'custos checkpoints are signed with the RSA keys of examiner certificates; give the certificate.');
  }
  return { ...k, keyId: noteKeyId(k.name, k.publicKey.export({ type: 'spki', format: 'der' })) };
}

/**
 * Signs a note text (c2sp.org/signed-note) with each signer: the text, a blank line, one signature
 * line per signer. Each signature is checked against the signer's public key before it is used.
 */
export function signNote(body: string, signers: readonly NoteSigner[]): string {
  if (typeof body !== 'string' || body === '' || !body.endsWith('\n')) throw malformed('signed note: the text to sign must be non-empty and end with a newline', 'Give a checkpoint body (checkpointBody).');
  if (body.length > MAX_NOTE_BYTES || Buffer.byteLength(body, 'utf8') > MAX_NOTE_BYTES) throw malformed(`signed note: the text to sign has more than ${MAX_NOTE_BYTES} bytes`, 'Sign a checkpoint body, which is short.');
  checkNoteText(body, 'text to sign');
  if (!Array.isArray(signers) || signers.length === 0 || signers.length > MAX_NOTE_SIGNATURES) {
    throw malformed(`signed note: 1 to ${MAX_NOTE_SIGNATURES} signers are needed, not ${Array.isArray(signers) ? signers.length : 'none'}`, 'Sign with at least one examiner.');
  }
  const data = Buffer.from(body, 'utf8');
  const seen = new Set<string>();
  const lines = signers.map((s) => {
    const keyId = noteKeyId(s.name, s.spkiDer);
    const slot = `${s.name} ${keyId.toString('hex')}`;
    if (seen.has(slot)) throw malformed(`signed note: ${printable(s.name, 80)} is among the signers twice`, 'Give each examiner once.');
    seen.add(slot);
    const encoded = s.sign(data);
    const signature = typeof encoded === 'string' ? decodeBase64(encoded) : undefined;
    if (!signature || signature.length === 0) throw new CustosBug(`signNote: the signer of ${s.name} did not return base64`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: Buffer.from(s.spkiDer), format: 'der', type: 'spki' });
    } catch (err) {
      throw new CustosError('INVALID_INPUT', `signed note: the public key of ${printable(s.name, 80)} is not DER SubjectPublicKeyInfo`, { cause: err, hint: 'Export it with key.export({ type: "spki", format: "der" }).' });
    }
    if (publicKey.asymmetricKeyType !== 'rsa') throw malformed(`signed note: the key of ${printable(s.name, 80)} is ${publicKey.asymmetricKeyType}, custos signs notes with RSA`, 'Sign with an examiner identity.');
    if (!verifySignature('sha256', data, publicKey, signature)) {
      throw new CustosError('KEY_MISMATCH', `signed note: the signature of ${printable(s.name, 80)} does not verify with its public key`, { hint: 'The signing key is not the key of the certificate; re-import the identity.' });
    }
    return `${EM_DASH_SPACE}${s.name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
  });
  const note = `${body}\n${lines.join('')}`;
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) throw malformed(`signed note: more than ${MAX_NOTE_BYTES} bytes with its signatures`, 'Sign with fewer examiners.');
  return note;
}

/**
 * Verifies a signed note against the keys the caller trusts (c2sp.org/signed-note, "Signatures"):
 * signatures of unknown keys (name or key ID not matching) are ignored; every signature of a known
 * key must verify, else the whole note is rejected (LEDGER_INVALID naming the key); at least one
 * must. Returns the note text and the names of the keys that verified it, each once.
 */
export function verifyNote(input: string | Uint8Array, known: readonly NoteKey[]): { body: string; verifiedBy: string[] } {
  const note = parseSignedNote(input);
  if (!Array.isArray(known)) throw malformed('signed note: the known keys must be a list', 'Give the examiners\' certificates.');
  const keys = known.map(prepareKey);
  const data = Buffer.from(note.body, 'utf8');
  const verifiedBy: string[] = [];
  for (const sig of note.signatures) {
    const key = keys.find((k) => k.name === sig.name && k.keyId.equals(sig.keyId));
    if (!key) continue;
    let ok = false;
    try {
      ok = verifySignature('sha256', data, key.publicKey, sig.signature);
    } catch {
      ok = false; // a signature of the wrong length for the key is a failed signature
    }
    if (!ok) {
      throw new CustosError('LEDGER_INVALID', `signed note: the signature of ${printable(sig.name, 80)} (key ID ${sig.keyId.toString('hex')}) does not verify: the note was changed after it was signed, or the signature is damaged`, {
        hint: 'Do not trust this checkpoint; compare it with the copies kept elsewhere.',
      });
    }
    if (!verifiedBy.includes(key.name)) verifiedBy.push(key.name);
  }
  if (verifiedBy.length === 0) {
    const names = [...new Set(note.signatures.map((s) => printable(s.name, 80)))].slice(0, 8).join(', ');
    throw new CustosError('LEDGER_INVALID', `signed note: no signature by a known key (signed by ${names}; known: ${keys.length === 0 ? 'none' : keys.map((k) => printable(k.name, 80)).join(', ')})`, {
      hint: 'Give the certificate of an examiner who signed it; a note signed by nobody you trust proves nothing.',
    });
  }
  return { body: note.body, verifiedBy };
}

/**
 * Verifies a signed checkpoint (verifyNote) and parses its body (parseCheckpoint); when `origin`
 * is given, the checkpoint must be for it (LEDGER_INVALID otherwise).
 */
export function openCheckpoint(input: string | Uint8Array, known: readonly NoteKey[], origin?: string): { checkpoint: Checkpoint; verifiedBy: string[] } {
  const { body, verifiedBy } = verifyNote(input, known);
  const checkpoint = parseCheckpoint(body);
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new CustosError('LEDGER_INVALID', `checkpoint: it is for ${printable(checkpoint.origin, 120)}, not ${printable(origin, 120)}`, { hint: 'Give the checkpoint of this case.' });
  }
  return { checkpoint, verifiedBy };
}

/** The note signer of an examiner's loaded identity: key name from the certificate fingerprint, the certificate's public key. */
export function examinerNoteSigner(signer: Signer): NoteSigner {
  return {
    name: examinerKeyName(signer.identity.fingerprint),
    spkiDer: certPublicKey(signer.certPem).export({ type: 'spki', format: 'der' }),
    sign: (data) => signer.sign(data),
  };
}

/** The known key of an examiner's certificate (PEM), for verifyNote. */
export function examinerNoteKey(certPem: string, where?: string): NoteKey {
  return { name: examinerKeyName(certFingerprint(certPem, where)), publicKey: certPublicKey(certPem, where) };
}
