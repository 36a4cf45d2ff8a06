/** The entry model: canonical bytes and hash (RFC 8785, SHA-256), the genesis hash, building and signing an entry. */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { boundedCommandLine, buildEntry, entryBytes, entryHash, genesisHash, type LedgerEntry, MAX_COMMAND_LINE_BYTES, MAX_ENTRY_BYTES } from '../../../src/custody/entry';
import { createIdentity, loadSigner, type Signer } from '../../../src/custody/identity';
import { schemaProblems } from '../../../src/schema';
import { fixedEnvironment, makeTempDir, ROOT } from '../../helpers';

let tmp: ReturnType<typeof makeTempDir>;
let alex: Signer;
beforeAll(() => {
  tmp = makeTempDir();
  const home = join(tmp.dir, 'home');
  createIdentity({ name: 'Alex Morgan', role: 'examiner', passphrase: 'correct horse battery', home, now: new Date('2026-01-01T00:00:00Z') });
  alex = loadSigner(home, 'Alex Morgan', 'correct horse battery', new Date('2026-03-14T10:00:00Z'));
});
afterAll(() => tmp.cleanup());

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

test('genesisHash is the SHA-256 of the case id in UTF-8 (FIPS 180-4 "abc")', () => {
  expect(genesisHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  expect(genesisHash('Fall-Nr. 2026/ä')).toBe(sha256(Buffer.from('Fall-Nr. 2026/ä', 'utf8')));
});

test('entryBytes are RFC 8785 of the entry without sig (keys sorted at every level, no whitespace); entryHash is their SHA-256', () => {
  const entry = {
    v: 1,
    seq: 2,
    id: 'id-1',
    case: 'C-1',
    evidence: ['EV-1'],
    action: 'note',
    actor: { name: 'A', role: 'r', cert: 'f' },
    time: { utc: '2026-03-14T09:00:00.000Z', offset: '+01:00', zone: 'Europe/Berlin' },
    host: { hostname: 'h', user: 'u', platform: 'linux', release: '6', arch: 'x64', osVersion: '#1' },
    tool: { name: 'custos', version: '0.1.0' },
    commandLine: ['custos'],
    details: { text: 'Siegel ä', n: 1e21 },
    prev: 'p',
    sig: { alg: 'RS256', cert: 'f', value: 'c2ln' },
  } as unknown as LedgerEntry;
  const expected =
    '{"action":"note","actor":{"cert":"f","name":"A","role":"r"},"case":"C-1","commandLine":["custos"],"details":{"n":1e+21,"text":"Siegel ä"},' +
    '"evidence":["EV-1"],"host":{"arch":"x64","hostname":"h","osVersion":"#1","platform":"linux","release":"6","user":"u"},"id":"id-1","prev":"p","seq":2,' +
    '"time":{"offset":"+01:00","utc":"2026-03-14T09:00:00.000Z","zone":"Europe/Berlin"},"tool":{"name":"custos","version":"0.1.0"},"v":1}';
  expect(entryBytes(entry).toString('utf8')).toBe(expected);
  expect(entryHash(entry)).toBe(sha256(Buffer.from(expected, 'utf8')));
  // The signature is not part of what it signs, nor of the chain.
  expect(entryHash({ ...entry, sig: { alg: 'RS256', cert: 'g', value: 'b3RoZXI=' } })).toBe(entryHash(entry));
});

describe('buildEntry', () => {
  test('takes its fields from the chain, the input, the signer and the environment; its RS256 signature verifies with the certificate alone', () => {
    const e = buildEntry({ seq: 3, caseId: 'C-1', prev: 'a'.repeat(64) }, { action: 'note', evidence: ['EV-1'], purpose: 'warrant 7', details: { text: 'sealed' } }, alex, fixedEnvironment('2026-03-14T09:26:53Z'));
    const pkg = require(join(ROOT, 'package.json')) as { name: string; version: string };
    expect(e).toMatchObject({
      v: 1,
      seq: 3,
      case: 'C-1',
      evidence: ['EV-1'],
      action: 'note',
      actor: { name: 'Alex Morgan', role: 'examiner', cert: alex.identity.fingerprint },
      time: { utc: '2026-03-14T09:26:54.000Z', offset: '+01:00', zone: 'Europe/Berlin' },
      host: { hostname: 'lab-ws-07', user: 'examiner' },
      tool: { name: pkg.name, version: pkg.version },
      commandLine: ['custos', 'acquire', 'test'],
      purpose: 'warrant 7',
      details: { text: 'sealed' },
      prev: 'a'.repeat(64),
      sig: { alg: 'RS256', cert: alex.identity.fingerprint },
    });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(schemaProblems('ledger-entry', e)).toEqual([]);
    const key = new X509Certificate(alex.certPem).publicKey;
    expect(verify('sha256', entryBytes(e), key, Buffer.from(e.sig.value, 'base64'))).toBe(true);
    expect(verify('sha256', entryBytes({ ...e, seq: 4 }), key, Buffer.from(e.sig.value, 'base64'))).toBe(false);
  });

  test('no purpose, evidence or details given: none recorded (an empty list and object)', () => {
    const e = buildEntry({ seq: 0, caseId: 'C-1', prev: genesisHash('C-1') }, { action: 'case-open' }, alex, fixedEnvironment());
    expect(e).not.toHaveProperty('purpose');
    expect(e).toMatchObject({ evidence: [], details: {} });
  });

  test('refuses a clock earlier than the last entry, and an entry too large to stay well under MAX_ENTRY_BYTES', () => {
    const env = fixedEnvironment('2026-03-14T09:00:00Z');
    expect(() => buildEntry({ seq: 1, caseId: 'C', prev: 'p' }, { action: 'note' }, alex, env, '2026-03-14T10:00:00.000Z')).toThrow(
      expect.objectContaining({ code: 'LEDGER_INVALID', message: expect.stringContaining('earlier than the last ledger entry (2026-03-14T10:00:00.000Z)') }),
    );
    expect(() => buildEntry({ seq: 1, caseId: 'C', prev: 'p' }, { action: 'note', details: { text: 'x'.repeat(MAX_ENTRY_BYTES / 2) } }, alex, env)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^ledger entry of \d+ bytes is too large$/) }),
    );
  });
});

describe('boundedCommandLine', () => {
  test('a short command line is kept whole', () => {
    expect(boundedCommandLine(['custos', 'hash', 'a b', 'ü'])).toEqual(['custos', 'hash', 'a b', 'ü']);
  });

  test('a long one keeps its first arguments and a marker with the count, the bytes and the SHA-256 of the whole (as sha256sum computes it)', () => {
    const args = ['custos', 'hash', ...Array.from({ length: 500 }, (_, i) => `/evidence/${'x'.repeat(100)}/file-${i}`)];
    const kept = boundedCommandLine(args);
    const marker = kept.at(-1)!;
    const shown = kept.slice(0, -1);
    expect(shown).toEqual(args.slice(0, shown.length));
    expect(shown.length).toBeGreaterThan(100);
    expect(kept.reduce((n, a) => n + Buffer.byteLength(a) + 4, 0)).toBeLessThanOrEqual(MAX_COMMAND_LINE_BYTES);
    const rest = args.slice(shown.length);
    const whole = createHash('sha256').update(args.join('\0')).digest('hex');
    expect(marker).toBe(`[… ${rest.length} more arguments (${rest.reduce((n, a) => n + a.length, 0)} bytes) left out; sha256 of the whole command line, NUL-separated: ${whole}]`);
  });

  test('one argument longer than the bound: only the marker', () => {
    const kept = boundedCommandLine(['y'.repeat(MAX_COMMAND_LINE_BYTES)]);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^\[… 1 more argument \(16384 bytes\) left out; /);
  });
});
