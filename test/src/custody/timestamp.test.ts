/**
 * RFC 3161 timestamps against a real TSA (openssl ts -reply behind test/tsa/server.js): the
 * requests custos builds are read by `openssl ts -query`, every token it keeps verifies with
 * `openssl ts -verify`, and custos's verifier agrees with OpenSSL on what a token states and on
 * every token it must refuse.
 */
import { spawnSync } from 'node:child_process';
import { createHash, sign, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isCustosError } from '../../../src/errors';
import {
  parseTimestampResponse,
  requestTimestamp,
  timestampRequest,
  type TimestampInfo,
  verifyTimestamp,
} from '../../../src/custody/timestamp';
import { makeTempDir } from '../../helpers';
import { Rng } from '../fuzz/mutate';
import { resignWithoutCriticalEku, startTestTsa, TEST_POLICY, type TestTsa } from '../../tsa/tsa';

let tmp: { dir: string; cleanup: () => void };
let tsa: TestTsa;
let n = 0;
const file = (name: string) => join(tmp.dir, `${n++}-${name}`);

const DATA = Buffer.from('checkpoint 2026-0314-HARBOUR 6 0b1c…\n');
const DIGEST = createHash('sha256').update(DATA).digest();
const NONCE = 0x0123456789abcdefn;

beforeAll(async () => {
  tmp = makeTempDir('custos-tsa-');
  tsa = await startTestTsa(join(tmp.dir, 'pki'));
  writeFileSync(join(tmp.dir, 'data'), DATA);
  writeFileSync(join(tmp.dir, 'ca.pem'), tsa.caPem);
  writeFileSync(join(tmp.dir, 'other-ca.pem'), tsa.otherCaPem);
}, 60_000);

afterAll(async () => {
  await tsa?.stop();
  tmp?.cleanup();
});

/** Runs openssl; status and both outputs. */
function openssl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: tmp.dir });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `openssl ts -verify` of a token file against a CA file: true when it prints "Verification: OK". */
function opensslVerifies(token: string, ca = 'ca.pem', how: string[] = ['-digest', DIGEST.toString('hex')]): boolean {
  const r = openssl(['ts', '-verify', ...how, '-in', token, '-token_in', '-CAfile', ca]);
  return r.status === 0 && /Verification: OK/.test(r.out);
}

/** What `openssl ts -reply -text` prints of a token or a reply. */
function opensslText(path: string, token = true): { genTime: Date; serial: bigint; policy: string; nonce?: bigint; tsa: string; status?: string } {
  const r = openssl(['ts', '-reply', '-config', tsa.config, '-in', path, ...(token ? ['-token_in', '-token_out'] : []), '-text']);
  expect(r.status).toBe(0);
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(r.out)?.[1];
  const t = /^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)(\.\d+)? (\d{4}) GMT$/.exec(field('Time stamp') ?? '');
  if (!t) throw new Error(`no time stamp in ${r.out}`);
  const month = 'JanFebMarAprMayJunJulAugSepOctNovDec'.indexOf(t[1]!) / 3;
  const genTime = new Date(Date.UTC(Number(t[7]), month, Number(t[2]), Number(t[3]), Number(t[4]), Number(t[5]), t[6] ? Math.round(Number(t[6]) * 1000) : 0));
  const nonce = field('Nonce');
  return {
    genTime,
    serial: BigInt(field('Serial number')!),
    policy: field('Policy OID')!,
    ...(nonce && nonce !== 'unspecified' ? { nonce: BigInt(nonce) } : {}),
    tsa: field('TSA')!,
    status: field('Status'),
  };
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

async function caughtAsync(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

function expectCustos(err: unknown, code: string, message: RegExp): void {
  if (!isCustosError(err)) throw err;
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
  expect(err.hint).toBeTruthy();
}

/** The TSTInfo of a token file signed again by `openssl cms -sign` with the TSA certificate NAME.pem; the path of the new token. */
function cmsSigned(tokenPath: string, signer: string, extra: string[]): string {
  const tst = file('tstinfo');
  const out = file(`cms-${signer}.tst`);
  expect(openssl(['cms', '-verify', '-noverify', '-inform', 'DER', '-in', tokenPath, '-binary', '-out', tst]).status).toBe(0);
  const r = openssl(['cms', '-sign', '-binary', '-nodetach', '-in', tst, '-econtent_type', '1.2.840.113549.1.9.16.1.4', '-signer', join(tsa.dir, `${signer}.pem`), '-inkey', join(tsa.dir, `${signer}.key`), '-nosmimecap', '-outform', 'DER', '-out', out, ...extra]);
  expect(r.status).toBe(0);
  return out;
}

/** A token from the named TSA for DIGEST and NONCE, kept in a file. */
async function fetchToken(name: Parameters<TestTsa['urlFor']>[0] = 'rsa', nonce: bigint = NONCE): Promise<{ token: Buffer; path: string }> {
  const token = await requestTimestamp(tsa.urlFor(name), DIGEST, { nonce });
  const path = file(`${name}.tst`);
  writeFileSync(path, token);
  return { token, path };
}

const trusted = () => [tsa.caPem];

describe('timestampRequest (RFC 3161 §2.4.1)', () => {
  test.each([
    ['a 64-bit nonce', NONCE, 'Nonce: 0x0123456789ABCDEF'],
    ['a nonce with its high bit set (a leading zero octet in DER)', Buffer.from('ffeeddccbbaa9988', 'hex'), 'Nonce: 0xFFEEDDCCBBAA9988'],
    ['nonce zero', 0n, 'Nonce: 0x0\n'],
  ])('openssl ts -query reads the request with %s: version 1, sha256, the digest, the nonce, certReq yes', (_what, nonce, shown) => {
    const req = file('req.tsq');
    writeFileSync(req, timestampRequest(DIGEST, nonce));
    const r = openssl(['ts', '-query', '-in', req, '-text']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^Version: 1$/m);
    expect(r.out).toMatch(/^Hash Algorithm: sha256$/m);
    const hex = [...r.out.matchAll(/^ {4}[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){15}[0-9a-f]{2})/gm)].map((m) => m[1]!.replace(/[ -]/g, '')).join('');
    expect(hex).toBe(DIGEST.toString('hex'));
    expect(r.out).toContain(shown);
    expect(r.out).toMatch(/^Certificate required: yes$/m);
    expect(r.out).toMatch(/^Policy OID: unspecified$/m);
  });

  test('the request is the DER of RFC 3161 §2.4.1, byte for byte', () => {
    const expected = Buffer.concat([
      Buffer.from('3041020101', 'hex'), // SEQUENCE of 65 bytes, version 1
      Buffer.from('302f300b0609608648016503040201', 'hex'), // messageImprint { sha256 (parameters absent, RFC 5754 §2)
      Buffer.from('0420', 'hex'),
      DIGEST, // hashedMessage }
      Buffer.from('02080123456789abcdef', 'hex'), // nonce
      Buffer.from('0101ff', 'hex'), // certReq TRUE
    ]);
    expect(timestampRequest(DIGEST, NONCE).toString('hex')).toBe(expected.toString('hex'));
  });

  test('a digest that is not 32 bytes, or a negative or oversized nonce, is refused', () => {
    expectCustos(caught(() => timestampRequest(DIGEST.subarray(0, 20), NONCE)), 'INVALID_INPUT', /32 bytes, not 20/);
    expectCustos(caught(() => timestampRequest(DIGEST, -1n)), 'INVALID_INPUT', /nonce/);
    expectCustos(caught(() => timestampRequest(DIGEST, Buffer.alloc(0))), 'INVALID_INPUT', /nonce/);
    expectCustos(caught(() => timestampRequest(DIGEST, 1n << 256n)), 'INVALID_INPUT', /nonce/);
  });
});

describe('tokens from a real TSA', () => {
  test.each(['rsa', 'ec'] as const)('a token of the %s TSA verifies with openssl ts -verify (-digest and -data) and custos agrees on what it states', async (name) => {
    const { token, path } = await fetchToken(name);
    expect(opensslVerifies(path)).toBe(true);
    expect(opensslVerifies(path, 'ca.pem', ['-data', 'data'])).toBe(true);
    const info = verifyTimestamp(token, { digest: DIGEST, nonce: NONCE, trusted: trusted() });
    const o = opensslText(path);
    expect(info.genTime.getTime()).toBe(o.genTime.getTime());
    expect(info.genTimeIso).toBe(o.genTime.toISOString());
    expect(BigInt(`0x${info.serial}`)).toBe(o.serial);
    expect(info.policy).toBe(o.policy);
    expect(info.policy).toBe(TEST_POLICY);
    expect(BigInt(`0x${info.nonce}`)).toBe(o.nonce);
    expect(info.digest).toBe(DIGEST.toString('hex'));
    const signer = new X509Certificate(readFileSync(join(tsa.dir, `${name}.pem`)));
    expect(info.signerFingerprint).toBe(createHash('sha256').update(signer.raw).digest('hex'));
    expect(info.signerSubject).toBe(signer.subject.split('\n').join(', '));
    if (name === 'ec') {
      // tsa_name = yes: openssl prints DirName:/C=DE/O=custos tests/CN=…
      expect(o.tsa).toBe(`DirName:/${info.tsaName!.split(', ').join('/')}`);
      expect(info.accuracy).toEqual({ seconds: 2, millis: 0, micros: 0 });
    } else {
      expect(o.tsa).toBe('unspecified');
      expect(info.tsaName).toBeUndefined();
      expect(info.accuracy).toEqual({ seconds: 1, millis: 500, micros: 100 });
    }
  });

  test('a reply made by openssl ts -query/-reply alone: parseTimestampResponse returns its token, which custos verifies as openssl reads it', () => {
    const req = file('openssl.tsq');
    const resp = file('openssl.tsr');
    expect(openssl(['ts', '-query', '-data', 'data', '-sha256', '-cert', '-out', req]).status).toBe(0);
    const nonce = BigInt(/Nonce: (0x[0-9A-F]+)/.exec(openssl(['ts', '-query', '-in', req, '-text']).out)![1]!);
    expect(openssl(['ts', '-reply', '-config', tsa.config, '-section', 'tsa_rsa', '-queryfile', req, '-out', resp]).status).toBe(0);
    const token = parseTimestampResponse(readFileSync(resp));
    const info = verifyTimestamp(token, { digest: DIGEST, nonce, trusted: trusted() });
    const o = opensslText(resp, false);
    expect(o.status).toBe('Granted.');
    expect(info.genTimeIso).toBe(o.genTime.toISOString());
    expect(BigInt(`0x${info.serial}`)).toBe(o.serial);
    expect(BigInt(`0x${info.nonce}`)).toBe(nonce);
    expect(openssl(['ts', '-verify', '-data', 'data', '-in', resp, '-CAfile', 'ca.pem']).out).toMatch(/Verification: OK/);
    const tokPath = file('openssl.tst');
    writeFileSync(tokPath, token);
    expect(opensslVerifies(tokPath)).toBe(true);
  });

  test('trusting the TSA certificate itself is enough', async () => {
    const { token } = await fetchToken('rsa');
    const info = verifyTimestamp(token, { digest: DIGEST, trusted: [readFileSync(join(tsa.dir, 'rsa.pem'), 'utf8')] });
    expect(info.signerSubject).toMatch(/CN=custos test TSA \(RSA\)/);
  });

  test('a token made without certReq carries no certificate: custos finds the signer among the trusted ones, or says it is missing', () => {
    const req = file('nocert.tsq');
    const resp = file('nocert.tsr');
    expect(openssl(['ts', '-query', '-data', 'data', '-sha256', '-out', req]).status).toBe(0);
    expect(openssl(['ts', '-reply', '-config', tsa.config, '-section', 'tsa_rsa', '-queryfile', req, '-out', resp]).status).toBe(0);
    const token = parseTimestampResponse(readFileSync(resp));
    expectCustos(caught(() => verifyTimestamp(token, { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /certificate of its signer is neither in the token nor among the trusted/);
    const info = verifyTimestamp(token, { digest: DIGEST, trusted: [tsa.caPem, readFileSync(join(tsa.dir, 'rsa.pem'), 'utf8')] });
    expect(info.signerSubject).toMatch(/TSA \(RSA\)/);
  });

  test.each([
    ['SHA-512, signer named by issuer and serial', ['-md', 'sha512', '-cades']],
    ['SHA-384, signer named by its subjectKeyIdentifier', ['-md', 'sha384', '-cades', '-keyid']],
  ])('a token signed again by openssl cms -sign (%s) verifies in both: another producer of the same structure', async (what, extra) => {
    const { path } = await fetchToken('rsa');
    const out = cmsSigned(path, 'rsa', extra);
    if (what.includes('subjectKeyIdentifier')) {
      // openssl ts reads tokens as PKCS#7 v1.5, which has no subjectKeyIdentifier signer: openssl cms checks this one.
      const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', out, '-CAfile', 'ca.pem', '-purpose', 'timestampsign', '-binary', '-out', file('content')]);
      expect(r.out).toMatch(/CMS Verification successful/);
    } else {
      expect(opensslVerifies(out)).toBe(true);
    }
    expect(verifyTimestamp(readFileSync(out), { digest: DIGEST, nonce: NONCE, trusted: trusted() }).policy).toBe(TEST_POLICY);
  });
});

describe('tokens that do not verify (openssl ts -verify refuses them too)', () => {
  let rsa: { token: Buffer; path: string };
  beforeAll(async () => {
    rsa = await fetchToken('rsa');
  });

  test('a token for other data', () => {
    const other = createHash('sha256').update('other data').digest();
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: other, trusted: trusted() })), 'LEDGER_INVALID', /^timestamp token is for other data \(its imprint is sha256 [0-9a-f]{64}, expected sha256 [0-9a-f]{64}\)$/);
    expect(opensslVerifies(rsa.path, 'ca.pem', ['-digest', other.toString('hex')])).toBe(false);
  });

  test('a nonce that differs from the request', () => {
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: DIGEST, nonce: NONCE + 1n, trusted: trusted() })), 'LEDGER_INVALID', /^timestamp token: nonce differs from the request \(the token has 0123456789abcdef, the request 0123456789abcdf0\)$/);
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: DIGEST, nonce: Buffer.from('0123456789abcdee', 'hex'), trusted: trusted() })), 'LEDGER_INVALID', /nonce differs/);
    // The same nonce given as bytes is accepted.
    expect(verifyTimestamp(rsa.token, { digest: DIGEST, nonce: Buffer.from('0123456789abcdef', 'hex'), trusted: trusted() }).nonce).toBe('0123456789abcdef');
  });

  test('a token from a TSA whose certificate expired before its genTime', async () => {
    const { token, path } = await fetchToken('expired');
    expectCustos(caught(() => verifyTimestamp(token, { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /TSA certificate expired before the time it states/);
    expect(openssl(['ts', '-verify', '-digest', DIGEST.toString('hex'), '-in', path, '-token_in', '-CAfile', 'ca.pem']).out).toMatch(/certificate has expired/);
  });

  test('a token from a TSA whose certificate is not yet valid at its genTime', async () => {
    const { token, path } = await fetchToken('future');
    expectCustos(caught(() => verifyTimestamp(token, { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /TSA certificate was not yet valid at the time it states/);
    expect(opensslVerifies(path)).toBe(false);
  });

  test('a token signed with a certificate whose timeStamping EKU is not critical', () => {
    const out = file('noeku.tst');
    resignWithoutCriticalEku(tsa, rsa.path, out);
    expectCustos(caught(() => verifyTimestamp(readFileSync(out), { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /extendedKeyUsage timeStamping .* is not critical/);
    expect(opensslVerifies(out)).toBe(false);
  });

  test('a token from a TSA that does not chain to the trusted CA', () => {
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: DIGEST, trusted: [tsa.otherCaPem] })), 'LEDGER_INVALID', /not signed by a trusted TSA/);
    expect(opensslVerifies(rsa.path, 'other-ca.pem')).toBe(false);
  });

  test('the ECDSA TSA chains through the intermediate carried in the token, and only to its own root', async () => {
    const { token } = await fetchToken('ec');
    expectCustos(caught(() => verifyTimestamp(token, { digest: DIGEST, trusted: [tsa.otherCaPem] })), 'LEDGER_INVALID', /not signed by a trusted TSA/);
    // The intermediate alone is also a trust anchor custos accepts.
    expect(verifyTimestamp(token, { digest: DIGEST, trusted: [readFileSync(join(tsa.dir, 'inter.pem'), 'utf8')] }).tsaName).toMatch(/ECDSA/);
  });

  test('a flipped byte in the signature', () => {
    // SignerInfo is last and ends with the signature (no unsigned attributes).
    const bad = Buffer.from(rsa.token);
    bad[bad.length - 10]! ^= 0x01;
    const path = file('badsig.tst');
    writeFileSync(path, bad);
    expectCustos(caught(() => verifyTimestamp(bad, { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /signature does not verify/);
    expect(opensslVerifies(path)).toBe(false);
  });

  test('a flipped byte in the TSTInfo (its nonce): the messageDigest no longer matches', () => {
    const at = rsa.token.indexOf(Buffer.from('02080123456789abcdef', 'hex'));
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(rsa.token);
    bad[at + 9]! ^= 0x01;
    const path = file('badtst.tst');
    writeFileSync(path, bad);
    expectCustos(caught(() => verifyTimestamp(bad, { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /messageDigest differs from the hash of the TSTInfo/);
    expect(opensslVerifies(path)).toBe(false);
  });

  /**
   * The token with its signed attributes changed by `edit` and signed again with the RSA TSA's key,
   * found by their known bytes (not by custos's parser): the contentType attribute is the first of
   * the DER-sorted SET, and the 256-byte signature ends the token.
   */
  function resigned(token: Buffer, edit: (attrs: Buffer) => void): Buffer {
    const ct = token.indexOf(Buffer.from('301a06092a864886f70d010903', 'hex'));
    expect(ct).toBeGreaterThan(0);
    const [start, len] = token[ct - 3] === 0xa0 && token[ct - 2] === 0x81 ? [ct - 3, 3 + token[ct - 1]!] : [ct - 2, 2 + token[ct - 1]!];
    expect(token[start]).toBe(0xa0);
    expect(token.subarray(-260, -256).toString('hex')).toBe('04820100');
    const out = Buffer.from(token);
    const attrs = out.subarray(start, start + len);
    edit(attrs);
    const signature = sign('sha256', Buffer.concat([Buffer.from([0x31]), attrs.subarray(1)]), readFileSync(join(tsa.dir, 'rsa.key')));
    signature.copy(out, out.length - 256);
    return out;
  }

  test('a signingCertificateV2 that names another certificate than the signer', () => {
    const certHash = createHash('sha256').update(new X509Certificate(readFileSync(join(tsa.dir, 'rsa.pem'))).raw).digest();
    // Control: signed again unchanged, the token still verifies in both.
    const same = resigned(rsa.token, () => {});
    const samePath = file('resigned.tst');
    writeFileSync(samePath, same);
    expect(opensslVerifies(samePath)).toBe(true);
    expect(verifyTimestamp(same, { digest: DIGEST, trusted: trusted() }).serial).toBeTruthy();
    const bad = resigned(rsa.token, (attrs) => {
      const at = attrs.indexOf(certHash);
      expect(at).toBeGreaterThan(0);
      attrs[at]! ^= 0x01;
    });
    const path = file('bad-ess.tst');
    writeFileSync(path, bad);
    expectCustos(caught(() => verifyTimestamp(bad, { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /signingCertificateV2 attribute names another certificate than the one that signed/);
    expect(opensslVerifies(path)).toBe(false);
  });

  test('a token whose signer has no signingCertificate attribute (openssl cms -sign without -cades)', () => {
    const out = cmsSigned(rsa.path, 'rsa', ['-md', 'sha256']);
    expectCustos(caught(() => verifyTimestamp(readFileSync(out), { digest: DIGEST, trusted: trusted() })), 'LEDGER_INVALID', /no signingCertificate attribute/);
    expect(opensslVerifies(out)).toBe(false);
  });

  test('a token stating a time after the time of verification', () => {
    const info = verifyTimestamp(rsa.token, { digest: DIGEST, trusted: trusted() });
    const before = new Date(info.genTime.getTime() - 3600_000);
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: DIGEST, trusted: trusted(), at: before })), 'LEDGER_INVALID', /later than the time of verification/);
  });

  test('undecodable tokens and trusted lists', () => {
    expectCustos(caught(() => verifyTimestamp(Buffer.from('not a token'), { digest: DIGEST, trusted: trusted() })), 'INVALID_INPUT', /^timestamp token: /);
    expectCustos(caught(() => verifyTimestamp(rsa.token.subarray(0, 500), { digest: DIGEST, trusted: trusted() })), 'INVALID_INPUT', /runs past the end/);
    expectCustos(caught(() => verifyTimestamp(Buffer.concat([rsa.token, Buffer.from([0])]), { digest: DIGEST, trusted: trusted() })), 'INVALID_INPUT', /1 bytes after the end/);
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: DIGEST, trusted: ['no certificate here'] })), 'CERT_INVALID', /no PEM certificate/);
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: DIGEST, trusted: [] })), 'CERT_INVALID', /no trusted TSA certificate/);
    expectCustos(caught(() => verifyTimestamp(rsa.token, { digest: DIGEST.subarray(1), trusted: trusted() })), 'INVALID_INPUT', /32 bytes/);
  });
});

describe('talking to a TSA that fails', () => {
  test('a rejection status names the status, failInfo and text (and openssl says the same of that reply)', async () => {
    expectCustos(await caughtAsync(requestTimestamp(tsa.urlFor('reject'), DIGEST, { nonce: NONCE })), 'IO_ERROR', /did not grant the timestamp \(rejection, badAlg, 'Message digest algorithm is not supported.'\)/);
    const req = file('reject.tsq');
    const resp = file('reject.tsr');
    writeFileSync(req, timestampRequest(DIGEST, NONCE));
    expect(openssl(['ts', '-reply', '-config', tsa.config, '-section', 'tsa_reject', '-queryfile', req, '-out', resp]).status).toBe(0);
    expect(openssl(['ts', '-reply', '-config', tsa.config, '-in', resp, '-text']).out).toMatch(/Status: Rejected\.[\s\S]*Failure info:\s*unrecognized or unsupported algorithm identifier/);
    expectCustos(caught(() => parseTimestampResponse(readFileSync(resp))), 'IO_ERROR', /rejection, badAlg/);
  });

  test('HTTP 500', async () => {
    expectCustos(await caughtAsync(requestTimestamp(tsa.faultUrl('http500'), DIGEST)), 'IO_ERROR', /answered HTTP 500/);
  });

  test('a server that never answers: the timeout ends it', async () => {
    const t0 = Date.now();
    expectCustos(await caughtAsync(requestTimestamp(tsa.faultUrl('hang'), DIGEST, { timeoutMs: 500 })), 'IO_ERROR', /did not answer within 0.5 s/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('a server sending 5 MiB: reading stops at the bound', async () => {
    expectCustos(await caughtAsync(requestTimestamp(tsa.faultUrl('flood'), DIGEST)), 'INVALID_INPUT', /larger than 1048576 bytes/);
    expectCustos(await caughtAsync(requestTimestamp(tsa.url, DIGEST, { maxBytes: 200 })), 'INVALID_INPUT', /larger than 200 bytes/);
  });

  test('a redirect is not followed; a web page is not a reply', async () => {
    expectCustos(await caughtAsync(requestTimestamp(tsa.faultUrl('redirect'), DIGEST)), 'IO_ERROR', /redirect \(HTTP 302 to \/tsa\/tsa_rsa\), which custos does not follow/);
    expectCustos(await caughtAsync(requestTimestamp(tsa.faultUrl('html'), DIGEST)), 'INVALID_INPUT', /type 'text\/html', not a timestamp reply/);
  });

  test('a connection refused names the URL; a password in it is not shown', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const err = await caughtAsync(requestTimestamp(`http://user:s3cret@127.0.0.1:${port}/tsa`, DIGEST, { timeoutMs: 5000 }));
    expectCustos(err, 'IO_ERROR', new RegExp(`^http://127\\.0\\.0\\.1:${port}/tsa: could not reach the TSA: .*ECONNREFUSED`));
    expect((err as Error).message).not.toContain('s3cret');
  });

  test('a replayed reply (the nonce of another request) is refused by requestTimestamp itself (RFC 3161 §2.4.2)', async () => {
    await requestTimestamp(tsa.url, DIGEST, { nonce: 7n });
    expectCustos(await caughtAsync(requestTimestamp(tsa.faultUrl('replay'), DIGEST, { nonce: 8n })), 'LEDGER_INVALID', /^http:\/\/127\.0\.0\.1:\d+\/fault\/replay: timestamp token: nonce differs from the request \(the token has 07, the request 08\)/);
    const other = createHash('sha256').update('other').digest();
    expectCustos(await caughtAsync(requestTimestamp(tsa.faultUrl('replay'), other, { nonce: 7n })), 'LEDGER_INVALID', /timestamp token is for other data/);
  });

  test('https: a server whose certificate this machine does not trust is an IO_ERROR', async () => {
    const server = createHttpsServer({ key: readFileSync(join(tsa.dir, 'rsa.key')), cert: readFileSync(join(tsa.dir, 'rsa.pem')) }, (_req, res) => res.end());
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      expectCustos(await caughtAsync(requestTimestamp(`https://127.0.0.1:${port}/tsa`, DIGEST, { timeoutMs: 5000 })), 'IO_ERROR', /could not reach the TSA: .*certificate/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a URL that is not http or https', async () => {
    expectCustos(await caughtAsync(requestTimestamp('ftp://127.0.0.1/tsa', DIGEST)), 'USAGE', /over http: or https:/);
    expectCustos(await caughtAsync(requestTimestamp('not a url', DIGEST)), 'USAGE', /is not a URL/);
  });
});

describe('fuzz: mutations of real tokens and replies', () => {
  const mutate = (r: Rng, src: Buffer): Buffer => {
    const b = Buffer.from(src);
    switch (r.int(6)) {
      case 0: // flip bits
        for (let i = 0, k = 1 + r.int(4); i < k; i++) b[r.int(b.length)]! ^= 1 << r.int(8);
        return b;
      case 1: // a length octet made long-form or huge
        b[r.int(b.length)] = r.pick([0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xff, 0x00, 0x7f]);
        return b;
      case 2:
        return b.subarray(0, r.int(b.length));
      case 3: {
        const at = r.int(b.length);
        return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + r.int(8) }, () => r.int(256))), b.subarray(at)]);
      }
      case 4: {
        const at = r.int(b.length);
        const len = 1 + r.int(64);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
      }
      default: {
        const from = r.int(b.length);
        const at = r.int(b.length);
        return Buffer.concat([b.subarray(0, at), b.subarray(from, from + 1 + r.int(200)), b.subarray(at)]);
      }
    }
  };

  test.each(['rsa', 'ec'] as const)('%s token: every mutant is refused with a CustosError, or verifies to exactly what the original states', async (name) => {
    const { token } = await fetchToken(name);
    const original: TimestampInfo = verifyTimestamp(token, { digest: DIGEST, nonce: NONCE, trusted: trusted() });
    const r = new Rng(name === 'rsa' ? 0x3161 : 0x5652);
    const t0 = Date.now();
    const codes = new Map<string, number>();
    for (let i = 0; i < 1500; i++) {
      const m = mutate(r, token);
      try {
        const info = verifyTimestamp(m, { digest: DIGEST, nonce: NONCE, trusted: trusted() });
        expect(info).toEqual(original);
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (err) {
        if (!isCustosError(err)) throw new Error(`mutant ${i}: ${(err as Error).stack}`);
        expect(['INVALID_INPUT', 'LEDGER_INVALID']).toContain(err.code);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(codes.get('INVALID_INPUT')).toBeGreaterThan(100);
    expect(codes.get('LEDGER_INVALID')).toBeGreaterThan(100);
  });

  test('replies: every mutant of a real TimeStampResp gives a token or a CustosError', () => {
    const req = file('fuzz.tsq');
    const resp = file('fuzz.tsr');
    writeFileSync(req, timestampRequest(DIGEST, NONCE));
    expect(openssl(['ts', '-reply', '-config', tsa.config, '-section', 'tsa_rsa', '-queryfile', req, '-out', resp]).status).toBe(0);
    const reply = readFileSync(resp);
    const r = new Rng(0x2161);
    for (let i = 0; i < 2000; i++) {
      try {
        const token = parseTimestampResponse(mutate(r, reply));
        expect(token.length).toBeLessThanOrEqual(reply.length + 208);
      } catch (err) {
        if (!isCustosError(err)) throw new Error(`mutant ${i}: ${(err as Error).stack}`);
        expect(['INVALID_INPUT', 'IO_ERROR']).toContain(err.code);
      }
    }
  });
});
