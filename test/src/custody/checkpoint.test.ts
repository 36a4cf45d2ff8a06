/**
 * Checkpoints and signed notes: the C2SP examples parse, custos' notes are checked by openssl
 * (signatures) and by a shell recomputation (key IDs), and every rejection the specs ask for
 * happens, with a seeded fuzz of the parsers.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import { createIdentity, loadSigner, type Signer } from '../../../src/custody/identity';
import {
  caseOrigin,
  checkpointBody,
  examinerKeyName,
  examinerNoteKey,
  examinerNoteSigner,
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  type NoteKey,
  noteKeyId,
  type NoteSigner,
  openCheckpoint,
  parseCheckpoint,
  parseSignedNote,
  RSA_SIGNATURE_IDENTIFIER,
  signNote,
  verifyNote,
} from '../../../src/custody/checkpoint';
import { leafHash, MerkleTree, verifyConsistency } from '../../../src/custody/merkle';
import { hasTool, makeTempDir, pseudoRandomBytes, ROOT } from '../../helpers';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'merkle');
const PASS = 'correct horse battery';
const CASE_ID = '2026-0314-HARBOUR';

/** The error a call throws (or undefined). */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Expects a CustosError with this code whose message matches. */
function expectError(call: () => unknown, code: string, message: RegExp): void {
  const err = thrown(call);
  expect(isCustosError(err) ? err.code : err).toBe(code);
  expect((err as Error).message).toMatch(message);
  expect((err as { hint?: string }).hint).toBeTruthy();
}

/** A note signer from a bare RSA key pair, as a forger or another tool would make one. */
function rsaSigner(name: string, privateKey: KeyObject, publicKey: KeyObject): NoteSigner {
  return { name, spkiDer: publicKey.export({ type: 'spki', format: 'der' }), sign: (d) => sign('sha256', d, privateKey).toString('base64') };
}

let tmp: { dir: string; cleanup: () => void };
let alex: Signer;
let sam: Signer;
let alexKey: NoteKey;
let samKey: NoteKey;
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const mallory = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A ledger of `n` lines and its tree. */
const ledger = (n: number, tag = 'entry') => Array.from({ length: n }, (_, i) => `{"seq":${i},"case":"${CASE_ID}","action":"note","details":{"text":"${tag} ${i}"}}`);
const treeOf = (lines: string[]) => MerkleTree.from(lines.map((l) => leafHash(l)));
const bodyOf = (tree: MerkleTree, size = tree.size) => checkpointBody({ origin: caseOrigin(CASE_ID), size, root: tree.root(size) });

beforeAll(() => {
  tmp = makeTempDir();
  const home = join(tmp.dir, 'home');
  const created = new Date('2026-01-01T00:00:00Z');
  const at = new Date('2026-03-14T10:00:00Z');
  createIdentity({ name: 'Alex Morgan', role: 'examiner', passphrase: PASS, home, now: created });
  createIdentity({ name: 'Sam Lee', role: 'lab analyst', passphrase: PASS, home, now: created });
  alex = loadSigner(home, 'Alex Morgan', PASS, at);
  sam = loadSigner(home, 'Sam Lee', PASS, at);
  alexKey = examinerNoteKey(alex.certPem);
  samKey = examinerNoteKey(sam.certPem);
});
afterAll(() => tmp.cleanup());

describe('origins, key names and key IDs', () => {
  test('a case origin is custos.case/ and the case ID percent-encoded, reversibly', () => {
    expect(caseOrigin(CASE_ID)).toBe('custos.case/2026-0314-HARBOUR');
    expect(caseOrigin('Case 7+8/2026')).toBe('custos.case/Case%207%2B8%2F2026');
    expect(caseOrigin('Größe 100%')).toBe('custos.case/Gr%C3%B6%C3%9Fe%20100%25');
    for (const id of [CASE_ID, 'Case 7+8/2026', 'Größe 100%', 'tab\there', '证据 🔒', "a'b(c)*!~"]) {
      const origin = caseOrigin(id);
      expect(origin).not.toMatch(/[\p{White_Space}+]/u);
      expect(decodeURIComponent(origin.slice('custos.case/'.length))).toBe(id);
      expect(parseCheckpoint(checkpointBody({ origin, size: 1, root: Buffer.alloc(32) })).origin).toBe(origin);
    }
    expectError(() => caseOrigin(''), 'INVALID_INPUT', /1 to 256 characters/);
    expectError(() => caseOrigin('x'.repeat(257)), 'INVALID_INPUT', /1 to 256 characters/);
    expectError(() => caseOrigin('bad \ud800 id'), 'INVALID_INPUT', /not valid Unicode/);
    // The longest case ID still fits a checkpoint.
    expect(() => checkpointBody({ origin: caseOrigin('证'.repeat(256)), size: 1, root: Buffer.alloc(32) })).not.toThrow();
  });

  test('an examiner key name is custos.examiner/ and 16 hex digits of the certificate fingerprint', () => {
    expect(alexKey.name).toBe(`custos.examiner/${alex.identity.fingerprint.slice(0, 16)}`);
    expect(examinerNoteSigner(alex).name).toBe(alexKey.name);
    expect(examinerKeyName('AB'.repeat(32))).toBe('custos.examiner/abababababababab');
    expectError(() => examinerKeyName('abc'), 'INVALID_INPUT', /not a SHA-256 certificate fingerprint/);
  });

  (hasTool('openssl') && hasTool('od') ? test : test.skip)('the key ID is SHA-256(name ‖ 0x0A ‖ 0xff ‖ identifier ‖ SPKI)[:4], recomputed by the shell and openssl', () => {
    const cert = join(tmp.dir, 'alex-cert.pem');
    writeFileSync(cert, alex.certPem);
    const script = `{ printf '%s\\n\\377%s' "$1" "$2"; openssl x509 -in "$3" -noout -pubkey | openssl pkey -pubin -outform DER; } | openssl dgst -sha256 -binary | head -c 4 | od -An -tx1 | tr -d ' \\n'`;
    const r = spawnSync('sh', ['-c', script, 'sh', alexKey.name, RSA_SIGNATURE_IDENTIFIER, cert], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^[0-9a-f]{8}$/);
    expect(noteKeyId(alexKey.name, examinerNoteSigner(alex).spkiDer).toString('hex')).toBe(r.stdout);
    // The name is part of the ID: the same key under another name has another ID.
    expect(noteKeyId('custos.examiner/0000000000000000', examinerNoteSigner(alex).spkiDer).toString('hex')).not.toBe(r.stdout);
  });
});

describe('checkpoint bodies', () => {
  test('the body is origin, size and base64 root, one per line, and parses back', () => {
    const tree = treeOf(ledger(6));
    const body = bodyOf(tree);
    expect(body).toBe(`custos.case/${CASE_ID}\n6\n${tree.root().toString('base64')}\n`);
    const c = parseCheckpoint(body);
    expect(c).toEqual({ origin: `custos.case/${CASE_ID}`, size: 6, root: tree.root(), extensions: [] });
    const withExt = checkpointBody({ origin: 'custos.case/X', size: 0, root: tree.root(0), extensions: ['— a witness line', 'x'] });
    expect(withExt).toBe(`custos.case/X\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n— a witness line\nx\n`);
    expect(parseCheckpoint(withExt).extensions).toEqual(['— a witness line', 'x']);
  });

  test('the C2SP tlog-checkpoint example parses', () => {
    const note = parseSignedNote(readFileSync(join(FIXTURES, 'c2sp-checkpoint-example.txt')));
    expect(note.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa']);
    const c = parseCheckpoint(note.body);
    expect(c.origin).toBe('example.com/behind-the-sofa');
    expect(c.size).toBe(20852163);
    expect(c.root.toString('base64')).toBe('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
  });

  const root = Buffer.alloc(32, 7).toString('base64');
  test.each([
    ['no final newline', `o\n1\n${root}`, /does not end with a newline/],
    ['two lines', `o\n1\n`, /2 lines/],
    ['an empty origin', `\n1\n${root}\n`, /origin \(line 1\) is empty/],
    ['an empty extension line', `o\n1\n${root}\n\n`, /extension line 1 \(line 4\) is empty/],
    ['a size with leading zeros', `o\n007\n${root}\n`, /'007' is not a decimal number/],
    ['a negative size', `o\n-1\n${root}\n`, /'-1' is not a decimal number/],
    ['a size with a plus', `o\n+7\n${root}\n`, /'\+7'/],
    ['a size in exponent form', `o\n1e3\n${root}\n`, /'1e3'/],
    ['a size with a space', `o\n 7\n${root}\n`, /' 7'/],
    ['a size of 2^53', `o\n9007199254740992\n${root}\n`, /from 0 to 2\^53 - 1/],
    ['a size of 20 digits', `o\n18446744073709551615\n${root}\n`, /from 0 to 2\^53 - 1/],
    ['a root of 31 bytes', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`, /\(31 bytes\)/],
    ['a root of 33 bytes', `o\n1\n${Buffer.alloc(33).toString('base64')}\n`, /\(33 bytes\)/],
    ['a root in hex', `o\n1\n${'00'.repeat(32)}\n`, /not the base64 of a 32-byte/],
    ['a root without padding', `o\n1\n${root.slice(0, -1)}\n`, /not canonical standard base64/],
    ['a root in URL-safe base64', `o\n1\n${Buffer.alloc(32, 0xfb).toString('base64url')}=\n`, /not canonical standard base64/],
    ['a root with non-zero padding bits', `o\n1\n${root.slice(0, -2)}9=\n`, /not canonical standard base64/],
    ['a carriage return', `o\r\n1\n${root}\n`, /control character U\+000D/],
    ['a tab in the origin', `o\tp\n1\n${root}\n`, /control character U\+0009/],
    ['a NUL', `o\n1\n${root}\n\u0000\n`, /control character U\+0000/],
    ['a DEL', `o\u007f\n1\n${root}\n`, /control character U\+007F/],
    ['a C1 control', `o\u0085\n1\n${root}\n`, /control character U\+0085/],
    ['a lone surrogate', `o\ud800\n1\n${root}\n`, /not valid Unicode/],
    ['9 KiB', `${'o'.repeat(9 * 1024)}\n1\n${root}\n`, /more than 8192 bytes/],
    ['10 MB', `${'o'.repeat(10 * 1024 * 1024)}\n1\n${root}\n`, /more than 8192 bytes/],
  ])('rejects %s', (_what, body, message) => {
    expectError(() => parseCheckpoint(body), 'INVALID_INPUT', message);
  });

  test('sizes 0 and 2^53 - 1 are fine', () => {
    expect(parseCheckpoint(`o\n0\n${root}\n`).size).toBe(0);
    expect(parseCheckpoint(`o\n9007199254740991\n${root}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  test('checkpointBody refuses what would not parse, and origins with spaces or +', () => {
    const r = Buffer.alloc(32);
    expectError(() => checkpointBody({ origin: 'custos.case/a b', size: 1, root: r }), 'INVALID_INPUT', /contains a space or '\+'/);
    expectError(() => checkpointBody({ origin: 'custos.case/a+b', size: 1, root: r }), 'INVALID_INPUT', /contains a space or '\+'/);
    expectError(() => checkpointBody({ origin: 'a\nb', size: 1, root: r }), 'INVALID_INPUT', /control character U\+000A/);
    expectError(() => checkpointBody({ origin: '', size: 1, root: r }), 'INVALID_INPUT', /origin is empty/);
    expectError(() => checkpointBody({ origin: 'o', size: -1, root: r }), 'INVALID_INPUT', /whole number/);
    expectError(() => checkpointBody({ origin: 'o', size: 1.5, root: r }), 'INVALID_INPUT', /whole number/);
    expectError(() => checkpointBody({ origin: 'o', size: 2 ** 53, root: r }), 'INVALID_INPUT', /whole number/);
    expectError(() => checkpointBody({ origin: 'o', size: 1, root: r.subarray(1) }), 'INVALID_INPUT', /32 bytes/);
    expectError(() => checkpointBody({ origin: 'o', size: 1, root: r, extensions: [''] }), 'INVALID_INPUT', /extension line 1 is empty/);
    expectError(() => checkpointBody({ origin: 'o', size: 1, root: r, extensions: ['a\nb'] }), 'INVALID_INPUT', /contains a newline/);
    expectError(() => checkpointBody({ origin: 'o', size: 1, root: r, extensions: Array.from({ length: 200 }, () => 'x'.repeat(50)) }), 'INVALID_INPUT', /more than 8192 bytes/);
  });
});

describe('signed notes made by custos', () => {
  test('two examiners sign; the note verifies with both, with either, and says who', () => {
    const body = bodyOf(treeOf(ledger(6)));
    const note = signNote(body, [examinerNoteSigner(alex), examinerNoteSigner(sam)]);
    const lines = note.split('\n');
    expect(note.startsWith(`${body}\n— `)).toBe(true);
    expect(lines.slice(4, 6).map((l) => l.split(' ')[1])).toEqual([alexKey.name, samKey.name]);
    expect(verifyNote(note, [alexKey, samKey])).toEqual({ body, verifiedBy: [alexKey.name, samKey.name] });
    expect(verifyNote(note, [samKey])).toEqual({ body, verifiedBy: [samKey.name] });
    expect(verifyNote(Buffer.from(note, 'utf8'), [alexKey])).toEqual({ body, verifiedBy: [alexKey.name] });
    const parsed = parseSignedNote(note);
    expect(parsed.signatures.map((s) => [s.name, s.keyId.length, s.signature.length])).toEqual([
      [alexKey.name, 4, 384],
      [samKey.name, 4, 384],
    ]);
    const { checkpoint, verifiedBy } = openCheckpoint(note, [alexKey], caseOrigin(CASE_ID));
    expect(checkpoint.size).toBe(6);
    expect(verifiedBy).toEqual([alexKey.name]);
  });

  (hasTool('openssl') ? test : test.skip)('openssl verifies each signature over the note text, and fails a changed text', () => {
    const body = bodyOf(treeOf(ledger(9)));
    const note = signNote(body, [examinerNoteSigner(alex), examinerNoteSigner(sam)]);
    const bodyFile = join(tmp.dir, 'body');
    writeFileSync(bodyFile, parseSignedNote(note).body);
    expect(readFileSync(bodyFile, 'utf8')).toBe(body);
    for (const [signer, s] of [alex, sam].map((x, i) => [x, parseSignedNote(note).signatures[i]!] as const)) {
      const pub = join(tmp.dir, `pub-${s.name.slice(-16)}.pem`);
      const cert = join(tmp.dir, `cert-${s.name.slice(-16)}.pem`);
      const sig = join(tmp.dir, `sig-${s.name.slice(-16)}`);
      writeFileSync(cert, signer.certPem);
      // The public key as openssl reads it from the certificate, not as custos exports it.
      const pubPem = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-pubkey'], { encoding: 'utf8' });
      writeFileSync(pub, pubPem.stdout);
      writeFileSync(sig, s.signature);
      const ok = spawnSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, bodyFile], { encoding: 'utf8' });
      expect(ok.stdout.trim()).toBe('Verified OK');
      expect(ok.status).toBe(0);
      const changed = join(tmp.dir, 'changed');
      writeFileSync(changed, body.replace('\n9\n', '\n8\n'));
      const bad = spawnSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, changed], { encoding: 'utf8' });
      expect(bad.stdout.trim()).toBe('Verification failure');
      expect(bad.status).toBe(1);
    }
  });

  test('a signature from a plain RSA-2048 key pair works the same', () => {
    const body = bodyOf(treeOf(ledger(3)));
    const note = signNote(body, [rsaSigner('example.org/witness', other.privateKey, other.publicKey)]);
    expect(verifyNote(note, [{ name: 'example.org/witness', publicKey: other.publicKey }]).verifiedBy).toEqual(['example.org/witness']);
  });

  test('signNote refuses a key that is not the signer’s, bad bodies and bad signer lists', () => {
    const body = bodyOf(treeOf(ledger(3)));
    const liar = { ...rsaSigner('custos.examiner/liar', mallory.privateKey, mallory.publicKey), spkiDer: examinerNoteSigner(alex).spkiDer };
    expectError(() => signNote(body, [liar]), 'KEY_MISMATCH', /does not verify with its public key/);
    expectError(() => signNote(body, []), 'INVALID_INPUT', /1 to 32 signers/);
    expectError(() => signNote(body, Array.from({ length: 33 }, () => examinerNoteSigner(alex))), 'INVALID_INPUT', /1 to 32 signers/);
    expectError(() => signNote(body, [examinerNoteSigner(alex), examinerNoteSigner(alex)]), 'INVALID_INPUT', /among the signers twice/);
    expectError(() => signNote(body.slice(0, -1), [examinerNoteSigner(alex)]), 'INVALID_INPUT', /end with a newline/);
    expectError(() => signNote(`a\tb\n`, [examinerNoteSigner(alex)]), 'INVALID_INPUT', /control character U\+0009/);
    expectError(() => signNote(body, [{ ...examinerNoteSigner(alex), name: 'has space' }]), 'INVALID_INPUT', /contains a space or '\+'/);
    expectError(() => signNote(body, [{ ...examinerNoteSigner(alex), name: 'a+b' }]), 'INVALID_INPUT', /contains a space or '\+'/);
    const ed = generateKeyPairSync('ed25519');
    expectError(() => signNote(body, [{ name: 'ed', spkiDer: ed.publicKey.export({ type: 'spki', format: 'der' }), sign: (d) => sign(null, d, ed.privateKey).toString('base64') }]), 'INVALID_INPUT', /is ed25519, custos signs notes with RSA/);
  });
});

describe('verification rejects', () => {
  const signed = () => {
    const body = bodyOf(treeOf(ledger(6)));
    return { body, note: signNote(body, [examinerNoteSigner(alex), examinerNoteSigner(sam)]) };
  };

  test('a body changed by one byte, naming the key', () => {
    const { note } = signed();
    const changed = note.replace('\n6\n', '\n7\n');
    expectError(() => verifyNote(changed, [alexKey]), 'LEDGER_INVALID', new RegExp(`signature of ${alexKey.name} \\(key ID [0-9a-f]{8}\\) does not verify`));
    // One changed byte of the root, as bytes.
    const bytes = Buffer.from(note, 'utf8');
    const at = note.indexOf('\n6\n') + 4;
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    expectError(() => verifyNote(bytes, [alexKey, samKey]), 'LEDGER_INVALID', /does not verify/);
  });

  test('a second known key failing, although the first verifies', () => {
    const { note } = signed();
    const p = parseSignedNote(note);
    const samSig = Buffer.concat([p.signatures[1]!.keyId, p.signatures[1]!.signature]);
    samSig[100] ^= 1;
    const tampered = note.replace(/— (\S+) (\S+)\n$/, (_m, name: string) => `— ${name} ${samSig.toString('base64')}\n`);
    expect(verifyNote(tampered, [alexKey]).verifiedBy).toEqual([alexKey.name]);
    expectError(() => verifyNote(tampered, [alexKey, samKey]), 'LEDGER_INVALID', new RegExp(`signature of ${samKey.name}.*does not verify`));
  });

  test('the wrong key: a signature by another key under the examiner’s name is ignored as unknown', () => {
    const body = bodyOf(treeOf(ledger(6)));
    const note = signNote(body, [rsaSigner(alexKey.name, mallory.privateKey, mallory.publicKey)]);
    expectError(() => verifyNote(note, [alexKey]), 'LEDGER_INVALID', /no signature by a known key/);
    // …and a known key with the right name but another public key knows nothing of Alex's note.
    expectError(() => verifyNote(signNote(body, [examinerNoteSigner(alex)]), [{ name: alexKey.name, publicKey: other.publicKey }]), 'LEDGER_INVALID', /no signature by a known key/);
  });

  test('a forged signature that copies the examiner’s name and key ID is a failure, not ignored', () => {
    const body = bodyOf(treeOf(ledger(6)));
    const forged = sign('sha256', Buffer.from(body), mallory.privateKey);
    const note = `${body}\n— ${alexKey.name} ${Buffer.concat([noteKeyId(alexKey.name, examinerNoteSigner(alex).spkiDer), forged]).toString('base64')}\n`;
    expectError(() => verifyNote(note, [alexKey]), 'LEDGER_INVALID', /does not verify/);
    // A signature of the wrong length for the key fails the same way.
    const short = `${body}\n— ${alexKey.name} ${Buffer.concat([noteKeyId(alexKey.name, examinerNoteSigner(alex).spkiDer), Buffer.alloc(10)]).toString('base64')}\n`;
    expectError(() => verifyNote(short, [alexKey]), 'LEDGER_INVALID', /does not verify/);
  });

  test('unknown keys only, and no known keys at all', () => {
    const example = readFileSync(join(FIXTURES, 'c2sp-checkpoint-example.txt'));
    expectError(() => verifyNote(example, [alexKey, samKey]), 'LEDGER_INVALID', /no signature by a known key \(signed by example.com\/behind-the-sofa; known: custos.examiner/);
    expectError(() => verifyNote(signed().note, []), 'LEDGER_INVALID', /known: none/);
    const poem = readFileSync(join(FIXTURES, 'c2sp-signed-note-example.txt'));
    expectError(() => verifyNote(poem, [alexKey]), 'LEDGER_INVALID', /no signature by a known key/);
  });

  test('a checkpoint of another case', () => {
    expectError(() => openCheckpoint(signed().note, [alexKey], caseOrigin('2026-0001-OTHER')), 'LEDGER_INVALID', /is for custos.case\/2026-0314-HARBOUR, not custos.case\/2026-0001-OTHER/);
  });

  test('known keys that are not RSA public keys', () => {
    const ed = generateKeyPairSync('ed25519');
    expectError(() => verifyNote(signed().note, [{ name: 'ed', publicKey: ed.publicKey }]), 'INVALID_INPUT', /not an RSA public key/);
    expectError(() => verifyNote(signed().note, [{ name: 'priv', publicKey: other.privateKey }]), 'INVALID_INPUT', /not an RSA public key/);
    expectError(() => verifyNote(signed().note, [{ name: 'a b', publicKey: other.publicKey }]), 'INVALID_INPUT', /contains a space/);
  });
});

describe('parsing signed notes', () => {
  test('the C2SP signed-note example: the text keeps its inner blank line', () => {
    const note = parseSignedNote(readFileSync(join(FIXTURES, 'c2sp-signed-note-example.txt')));
    expect(note.body).toBe('Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n');
    expect(note.signatures).toHaveLength(1);
    expect(note.signatures[0]!.name).toBe('quasimodo.example/salvatore');
    expect(note.signatures[0]!.keyId.toString('hex')).toBe('367ba04b');
    expect(note.signatures[0]!.signature).toHaveLength(64);
  });

  test(`${MAX_NOTE_SIGNATURES} signatures are read, ${MAX_NOTE_SIGNATURES + 1} are too many`, () => {
    const sig = (i: number) => `— example.org/w${i} ${pseudoRandomBytes(68, i + 1).toString('base64')}\n`;
    const lines = (n: number) => Array.from({ length: n }, (_, i) => sig(i)).join('');
    expect(parseSignedNote(`a\n\n${lines(MAX_NOTE_SIGNATURES)}`).signatures).toHaveLength(MAX_NOTE_SIGNATURES);
    expectError(() => parseSignedNote(`a\n\n${lines(MAX_NOTE_SIGNATURES + 1)}`), 'INVALID_INPUT', /33 signatures, more than the 32/);
  });

  const s = `— k ${Buffer.alloc(20, 1).toString('base64')}`;
  test.each([
    ['no blank line', `a\n${s}\n`, /no blank line/],
    ['nothing after the blank line', `a\n\n`, /no signature after the blank line/],
    ['no final newline', `a\n\n${s}`, /does not end with a newline/],
    ['a hyphen for the em dash', `a\n\n- k ${Buffer.alloc(20).toString('base64')}\n`, /em dash/],
    ['an en dash', `a\n\n\u2013 k ${Buffer.alloc(20).toString('base64')}\n`, /em dash/],
    ['no signature after the name', `a\n\n— k\n`, /no space between/],
    ['a key name with +', `a\n\n— k+1 ${Buffer.alloc(20).toString('base64')}\n`, /contains a space or '\+' \(U\+002B\)/],
    ['a key name with a no-break space', `a\n\n— k\u00a0x ${Buffer.alloc(20).toString('base64')}\n`, /U\+00A0/],
    ['an empty key name', `a\n\n—  ${Buffer.alloc(20).toString('base64')}\n`, /key name is empty/],
    ['two spaces before the signature', `a\n\n— k  ${Buffer.alloc(20).toString('base64')}\n`, /not canonical standard base64/],
    ['a signature of 4 bytes', `a\n\n— k ${Buffer.alloc(4).toString('base64')}\n`, /4 bytes, less than a 4-byte key ID and a signature/],
    ['an empty signature', `a\n\n— k \n`, /has 0 bytes/],
    ['a signature in base64url', `a\n\n— k ${Buffer.alloc(21, 0xff).toString('base64url')}\n`, /not canonical standard base64/],
    ['a signature of 9 KiB', `a\n\n— k ${Buffer.alloc(9 * 1024).toString('base64')}\n`, /at most 8192 bytes/],
    ['a carriage return', `a\r\n\n${s}\n`, /control character U\+000D/],
    ['a NUL', `a\u0000\n\n${s}\n`, /control character U\+0000/],
    ['an escape', `a\n\n${s}\u001b\n`, /control character U\+001B/],
    ['a lone surrogate', `a\udc00\n\n${s}\n`, /not valid UTF-8/],
    ['130 KiB', `${'a'.repeat(130 * 1024)}\n\n${s}\n`, /more than 131072 bytes/],
    ['10 MB', `${'a'.repeat(10 * 1024 * 1024)}\n\n${s}\n`, /more than 131072 bytes/],
  ])('rejects %s', (_what, text, message) => {
    expectError(() => parseSignedNote(text), 'INVALID_INPUT', message);
  });

  test('the last blank line separates: an earlier one leaves what precedes it in the text', () => {
    const note = parseSignedNote(`a\n\n${s}\n\n${s}\n`);
    expect(note.body).toBe(`a\n\n${s}\n`);
    expect(note.signatures).toHaveLength(1);
  });

  test('bytes: invalid UTF-8 and huge buffers are rejected before anything else', () => {
    const good = Buffer.from(`a\n\n${s}\n`, 'utf8');
    expect(parseSignedNote(good).body).toBe('a\n');
    expectError(() => parseSignedNote(Buffer.concat([Buffer.from([0x61, 0xc3, 0x28]), good])), 'INVALID_INPUT', /not valid UTF-8/);
    expectError(() => parseSignedNote(Buffer.concat([Buffer.from([0xed, 0xa0, 0x80]), good])), 'INVALID_INPUT', /not valid UTF-8/);
    const started = Date.now();
    expectError(() => parseSignedNote(Buffer.alloc(64 * 1024 * 1024, 0x61)), 'INVALID_INPUT', /67108864 bytes, more than 131072/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(MAX_NOTE_BYTES).toBe(131072);
  });
});

describe('a ledger and its checkpoints', () => {
  test('a grown ledger proves consistency with a signed checkpoint; a rewritten one cannot', () => {
    const lines = ledger(40);
    const note = signNote(bodyOf(treeOf(lines.slice(0, 25))), [examinerNoteSigner(alex)]);
    const { checkpoint } = openCheckpoint(note, [alexKey], caseOrigin(CASE_ID));
    const grown = treeOf(lines);
    expect(verifyConsistency(checkpoint.size, grown.size, checkpoint.root, grown.root(), grown.consistencyProof(checkpoint.size))).toBe(true);
    const rewritten = treeOf(lines.map((l, i) => (i === 10 ? l.replace('entry 10', 'entry 1O') : l)));
    expect(rewritten.root(checkpoint.size).equals(checkpoint.root)).toBe(false);
    expect(verifyConsistency(checkpoint.size, rewritten.size, checkpoint.root, rewritten.root(), rewritten.consistencyProof(checkpoint.size))).toBe(false);
  });
});

describe('fuzz (seeded, bounded)', () => {
  test('mutated signed checkpoints give a result or a CustosError, quickly', () => {
    const body = bodyOf(treeOf(ledger(12)));
    const note = Buffer.from(signNote(body, [examinerNoteSigner(alex), examinerNoteSigner(sam)]), 'utf8');
    const interesting = [0x0a, 0x20, 0x2b, 0x3d, 0x2f, 0x00, 0x0d, 0x7f, 0xff, 0xe2, 0x80, 0x94, 0x30, 0x41];
    let x = 0x5eed;
    const next = (below: number) => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x % below;
    };
    const started = Date.now();
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      let m = Buffer.from(note);
      for (let k = 1 + next(3); k > 0; k--) {
        const at = next(m.length + 1);
        switch (next(5)) {
          case 0:
            if (at < m.length) m[at] ^= 1 << next(8);
            break;
          case 1:
            m = Buffer.concat([m.subarray(0, at), Buffer.from([interesting[next(interesting.length)]!]), m.subarray(at)]);
            break;
          case 2:
            m = Buffer.concat([m.subarray(0, at), m.subarray(Math.min(m.length, at + 1 + next(40)))]);
            break;
          case 3:
            m = Buffer.concat([m.subarray(0, at), m.subarray(next(m.length), next(m.length)), m.subarray(at)]);
            break;
          default:
            m = m.subarray(0, at);
        }
      }
      for (const [what, call] of [
        ['parse', () => parseCheckpoint(parseSignedNote(m).body)],
        ['open', () => openCheckpoint(m, [alexKey, samKey], caseOrigin(CASE_ID))],
        ['text', () => parseCheckpoint(m.toString('latin1'))],
      ] as const) {
        const err = thrown(call);
        if (err !== undefined && !isCustosError(err)) throw err;
        const key = `${what}:${err === undefined ? 'ok' : (err as { code: string }).code}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    }
    expect(Date.now() - started).toBeLessThan(30_000);
    // The mutations reach every verdict: parsed, malformed, and signatures that fail.
    expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(['open:INVALID_INPUT', 'open:LEDGER_INVALID', 'parse:INVALID_INPUT', 'parse:ok']));
  });
});
