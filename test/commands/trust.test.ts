/**
 * Who vouches for the examiners, as a lab runs it: `ca init`, examiners issued by the CA
 * (`identity create --ca`, `ca issue CSR`), a case opened with `--trust`, and `ledger verify`
 * catching the impostor (same name, new self-signed key, whole ledger re-signed) and a revoked
 * examiner's later entries; a CA made by openssl is accepted as an anchor; openssl checks what
 * custos's CA issues and publishes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CUSTOS_EKU_OID } from '../../src/custody/ca';
import { makeTempDir, runCli } from '../helpers';

const PASS = 'correct horse battery';
let tmp: ReturnType<typeof makeTempDir>;
let env: NodeJS.ProcessEnv;
let caDir: string;
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env, ...extra } });
const openssl = (args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });
const lines = (dir: string) => readFileSync(join(dir, 'custody.jsonl'), 'utf8').split('\n').filter(Boolean);

beforeAll(() => {
  tmp = makeTempDir('custos-trust-cli-');
  caDir = join(tmp.dir, 'lab-ca');
  env = { CUSTOS_HOME: join(tmp.dir, 'home'), CUSTOS_PASSPHRASE: PASS, CUSTOS_CA_PASSPHRASE: 'ca passphrase 7' };
  const ca = cli(['ca', 'init', caDir, '--name', 'Harbour Lab CA', '--organization', 'Harbour Forensic Lab', '--json']);
  expect(ca.stderr).toBe('');
  expect(ca.status).toBe(0);
  expect(cli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner', '--ca', caDir]).status).toBe(0);
  expect(cli(['identity', 'create', '--name', 'Sam Lee', '--role', 'examiner', '--ca', caDir]).status).toBe(0);
});
afterAll(() => tmp.cleanup());

/** The PEM path of an identity's certificate in CUSTOS_HOME. */
function certOf(name: string, home = env.CUSTOS_HOME!): string {
  const ids = JSON.parse(runCli(['identity', 'list', '--json'], { env: { ...env, CUSTOS_HOME: home } }).stdout).identities as { name: string; fingerprint: string }[];
  const fp = ids.find((i) => i.name === name)!.fingerprint;
  return join(home, 'identities', fp.slice(0, 16), 'cert.pem');
}

test('openssl verifies the examiners\' certificates against the CA and shows the custos key usage', () => {
  const v = openssl(['verify', '-CAfile', join(caDir, 'ca-cert.pem'), certOf('Alex Morgan')]);
  expect(v.stdout.trim()).toBe(`${certOf('Alex Morgan')}: OK`);
  const text = openssl(['x509', '-in', certOf('Alex Morgan'), '-noout', '-text']).stdout;
  expect(text).toContain(CUSTOS_EKU_OID);
  expect(text).toMatch(/Issuer: CN ?= ?Harbour Lab CA/);
});

describe('a case that trusts the lab CA', () => {
  let caseDir: string;
  beforeAll(() => {
    caseDir = join(tmp.dir, 'case');
    expect(cli(['case', 'init', caseDir, '--case', 'C-TRUST', '--trust', join(caDir, 'ca-cert.pem')], { CUSTOS_IDENTITY: 'Alex Morgan' }).status).toBe(0);
    expect(cli(['ledger', 'note', 'Sealed in bag A1234567', '--case-dir', caseDir], { CUSTOS_IDENTITY: 'Alex Morgan' }).status).toBe(0);
    expect(cli(['ledger', 'note', 'Imaged', '--case-dir', caseDir], { CUSTOS_IDENTITY: 'Sam Lee' }).status).toBe(0);
  });

  test('verify: INTACT, the signers anchored to the CA recorded when the case was opened', () => {
    const r = cli(['ledger', 'verify', '--case-dir', caseDir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/verdict: INTACT \(signers anchored to CN=Harbour Lab CA, O=Harbour Forensic Lab \(sha256 [0-9a-f]{16}…\), as recorded when the case was opened\)/);
    const json = JSON.parse(cli(['ledger', 'verify', '--case-dir', caseDir, '--json']).stdout);
    expect(json.anchors.source).toBe('case');
  });

  test('the impostor: same name, a new self-signed key, the whole ledger re-signed — INVALID, naming the entry', () => {
    const mallory = { CUSTOS_HOME: join(tmp.dir, 'mallory-home'), CUSTOS_IDENTITY: 'Alex Morgan' };
    expect(cli(['identity', 'create', '--name', 'Alex Morgan', '--role', 'examiner'], mallory).status).toBe(0);
    const forged = join(tmp.dir, 'forged');
    expect(cli(['case', 'init', forged, '--case', 'C-TRUST', '--trust', join(caDir, 'ca-cert.pem')], mallory).status).toBe(0);
    expect(cli(['ledger', 'note', 'Never sealed', '--case-dir', forged], mallory).status).toBe(0);
    const r = cli(['ledger', 'verify', '--case-dir', forged]);
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(/FIRST BAD ENTRY: line 1 \(seq 0\): Alex Morgan is not vouched for by the case's trust anchors at .*: .*self-signed and not a pinned trust anchor/);
    // Even with the anchors rewritten to trust nobody but the impostor, a verifier holding the lab CA catches it.
    const own = join(tmp.dir, 'forged-own');
    expect(cli(['case', 'init', own, '--case', 'C-TRUST', '--trust', certOf('Alex Morgan', mallory.CUSTOS_HOME)], mallory).status).toBe(0);
    expect(cli(['ledger', 'verify', '--case-dir', own]).status).toBe(0);
    const given = cli(['ledger', 'verify', '--case-dir', own, '--trust', join(caDir, 'ca-cert.pem')]);
    expect(given.status).toBe(4);
    expect(given.stdout).toContain('is not vouched for');
    // A ledger without anchors says what its verdict is worth.
    const plain = join(tmp.dir, 'plain');
    expect(cli(['case', 'init', plain, '--case', 'C-PLAIN'], mallory).status).toBe(0);
    expect(cli(['ledger', 'verify', '--case-dir', plain]).stdout).toContain('verdict: INTACT (integrity only, signers not anchored)');
  });

  test('a revoked examiner: entries before the revocation valid, the first one after INVALID; openssl reads the CRL', () => {
    const dir = join(tmp.dir, 'case-revoked');
    spawnSync('cp', ['-a', caseDir, dir]);
    const rev = cli(['ca', 'revoke', '--ca', caDir, '--cert', certOf('Sam Lee'), '--reason', 'keyCompromise', '--json']);
    expect(rev.status).toBe(0);
    const crl = join(dir, 'trust', 'lab.crl.pem');
    expect(cli(['ca', 'crl', '--ca', caDir, '--out', crl]).status).toBe(0);
    expect(`${openssl(['crl', '-in', crl, '-CAfile', join(caDir, 'ca-cert.pem'), '-noout']).stderr}`.trim()).toBe('verify OK');
    const serial = openssl(['x509', '-in', certOf('Sam Lee'), '-noout', '-serial']).stdout.trim().split('=')[1]!;
    expect(openssl(['crl', '-in', crl, '-noout', '-text']).stdout).toContain(`Serial Number: ${serial}`);
    // Sam's earlier entry stays valid ...
    expect(cli(['ledger', 'verify', '--case-dir', dir]).status).toBe(0);
    // ... his next one, signed after the revocation, is not.
    expect(cli(['ledger', 'note', 'Signed after revocation', '--case-dir', dir], { CUSTOS_IDENTITY: 'Sam Lee' }).status).toBe(0);
    const r = cli(['ledger', 'verify', '--case-dir', dir]);
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(/FIRST BAD ENTRY: line 4 \(seq 3\): Sam Lee is not vouched for .* revoked on/);
    // The same CRL given on the command line to a copy without it.
    const bare = join(tmp.dir, 'case-revoked-bare');
    spawnSync('cp', ['-a', dir, bare]);
    spawnSync('rm', [join(bare, 'trust', 'lab.crl.pem')]);
    expect(cli(['ledger', 'verify', '--case-dir', bare]).status).toBe(0);
    expect(cli(['ledger', 'verify', '--case-dir', bare, '--crl', crl]).status).toBe(4);
  });
});

test('an examiner certificate from a CA openssl made is accepted when that CA is the case\'s anchor; ca issue signs a CSR openssl made', () => {
  const d = join(tmp.dir, 'openssl-ca');
  spawnSync('mkdir', [d]);
  const run = (args: string[]) => expect(openssl(args).status).toBe(0);
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'ca.key'), '-out', join(d, 'ca.pem'), '-days', '365', '-subj', '/CN=Other Lab CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'kim.key'), '-out', join(d, 'kim.csr'), '-subj', '/CN=Kim Park/title=examiner']);
  writeFileSync(join(d, 'ext.cnf'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=critical,${CUSTOS_EKU_OID}\n`);
  run(['x509', '-req', '-in', join(d, 'kim.csr'), '-CA', join(d, 'ca.pem'), '-CAkey', join(d, 'ca.key'), '-CAcreateserial', '-out', join(d, 'kim.pem'), '-days', '365', '-extfile', join(d, 'ext.cnf')]);
  const kim = { CUSTOS_HOME: join(tmp.dir, 'kim-home'), CUSTOS_IDENTITY: 'Kim Park' };
  expect(cli(['identity', 'import', '--cert', join(d, 'kim.pem'), '--key', join(d, 'kim.key')], kim).status).toBe(0);
  const dir = join(tmp.dir, 'case-openssl');
  expect(cli(['case', 'init', dir, '--case', 'C-OSSL', '--trust', join(d, 'ca.pem')], kim).status).toBe(0);
  expect(cli(['ledger', 'note', 'Received', '--case-dir', dir], kim).status).toBe(0);
  const v = cli(['ledger', 'verify', '--case-dir', dir]);
  expect(v.status).toBe(0);
  expect(v.stdout).toContain('signers anchored to CN=Other Lab CA');
  // custos's CA issues a certificate for a CSR openssl made; openssl verifies it.
  const out = join(d, 'kim-by-custos.pem');
  expect(cli(['ca', 'issue', join(d, 'kim.csr'), '--ca', caDir, '--name', 'Kim Park', '--role', 'examiner', '--out', out]).status).toBe(0);
  expect(openssl(['verify', '-CAfile', join(caDir, 'ca-cert.pem'), out]).stdout.trim()).toBe(`${out}: OK`);
  // The key in it is the CSR's.
  expect(openssl(['x509', '-in', out, '-noout', '-pubkey']).stdout).toBe(openssl(['req', '-in', join(d, 'kim.csr'), '-noout', '-pubkey']).stdout);
  expect(lines(dir)).toHaveLength(2);
});
