/**
 * A real RFC 3161 Time-Stamping Authority for the tests: a PKI made by `openssl` in a temporary
 * folder (two root CAs, an intermediate, TSA certificates with the critical extendedKeyUsage
 * timeStamping, an expired one, one not yet valid, one whose EKU is not critical) and
 * test/tsa/server.js serving `openssl ts -reply` on 127.0.0.1. See test/tsa/README.md.
 */
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The TSAs the server offers, each an `openssl ts` section of the configuration. */
export const TSAS = {
  /** RSA-2048 TSA under the root, SHA-256, ESSCertIDv2 (SHA-256), accuracy 1.5001 s, no tsa name. */
  rsa: 'tsa_rsa',
  /** P-256 TSA under an intermediate CA (carried in the token), SHA-384, ESSCertID (SHA-1), ms precision, tsa name, ordering. */
  ec: 'tsa_ec',
  /** A TSA whose certificate expired in 2021. */
  expired: 'tsa_expired',
  /** A TSA whose certificate is valid only from 2090. */
  future: 'tsa_future',
  /** The RSA TSA accepting only SHA-512 requests, so it rejects custos's (badAlg). */
  reject: 'tsa_reject',
} as const;
export type TsaName = keyof typeof TSAS;

/** Misbehaving endpoints of the same server. */
export const FAULTS = ['http500', 'hang', 'flood', 'redirect', 'html', 'replay'] as const;
export type Fault = (typeof FAULTS)[number];

/** The policy of the test TSAs: under 32473, the enterprise number RFC 5612 reserves for documentation. */
export const TEST_POLICY = '1.3.6.1.4.1.32473.3161.1';

export interface TestTsa {
  /** The RSA TSA's URL. */
  url: string;
  urlFor(name: TsaName): string;
  faultUrl(f: Fault): string;
  /** The root CA the TSAs chain to (PEM). */
  caPem: string;
  /** Another root CA, which issued none of them (PEM). */
  otherCaPem: string;
  /** The folder of the PKI: KEY.key and NAME.pem for root, other-root, inter, rsa, ec, expired, future, noeku; openssl.cnf. */
  dir: string;
  config: string;
  pid: number;
  /** Stops the server started for this TSA (by its pid). */
  stop(): Promise<void>;
}

function openssl(args: string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function config(dir: string): string {
  const ca = (name: string, cert: string) => `
[ ${name} ]
dir = ${dir}
database = $dir/${name}.index
new_certs_dir = $dir/newcerts
serial = $dir/${name}.serial
certificate = $dir/${cert}.pem
private_key = $dir/${cert}.key
default_md = sha256
policy = policy_any
preserve = yes
unique_subject = no
default_days = 3650
`;
  const tsa = (name: string, signer: string, more: string) => `
[ ${name} ]
dir = ${dir}
serial = $dir/${name}.serial
crypto_device = builtin
signer_cert = $dir/${signer}.pem
signer_key = $dir/${signer}.key
default_policy = ${TEST_POLICY}
other_policies = 1.3.6.1.4.1.32473.3161.2
${more}`;
  return `# Made by test/tsa/tsa.ts for the tests: CAs for \`openssl ca\`, TSAs for \`openssl ts -reply\`.
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
${ca('root_ca', 'root')}${ca('inter_ca', 'inter')}
[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_tsa_noncritical ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ tsa ]
default_tsa = tsa_rsa
${tsa('tsa_rsa', 'rsa', `certs = $dir/root.pem
signer_digest = sha256
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 0
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`)}${tsa('tsa_ec', 'ec', `certs = $dir/inter.pem
signer_digest = sha384
digests = sha256
accuracy = secs:2
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = yes
ess_cert_id_alg = sha1
`)}${tsa('tsa_expired', 'expired', `signer_digest = sha256
digests = sha256
ess_cert_id_alg = sha256
`)}${tsa('tsa_future', 'future', `signer_digest = sha256
digests = sha256
ess_cert_id_alg = sha256
`)}${tsa('tsa_reject', 'rsa', `signer_digest = sha256
digests = sha512
ess_cert_id_alg = sha256
`)}`;
}

/** Makes the PKI and the `openssl ts` configuration in `dir` (about a second). */
export function makeTestPki(dir: string): string {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  const conf = join(dir, 'openssl.cnf');
  writeFileSync(conf, config(dir));
  for (const name of ['root_ca', 'inter_ca']) {
    writeFileSync(join(dir, `${name}.index`), '');
    writeFileSync(join(dir, `${name}.serial`), '1000\n');
  }
  for (const s of Object.values(TSAS)) writeFileSync(join(dir, `${s}.serial`), '01\n');
  const key = (name: string, kind: 'rsa' | 'ec') =>
    openssl(['genpkey', '-algorithm', kind === 'rsa' ? 'RSA' : 'EC', '-pkeyopt', kind === 'rsa' ? 'rsa_keygen_bits:2048' : 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  const root = (name: string, kind: 'rsa' | 'ec', cn: string) => {
    key(name, kind);
    openssl(['req', '-config', conf, '-x509', '-new', '-key', `${name}.key`, '-subj', `/C=DE/O=custos tests/CN=${cn}`, '-days', '3650', '-extensions', 'v3_root', '-out', `${name}.pem`], dir);
  };
  const issue = (name: string, kind: 'rsa' | 'ec', cn: string, ca: string, ext: string, dates: string[] = []) => {
    key(name, kind);
    openssl(['req', '-config', conf, '-new', '-key', `${name}.key`, '-subj', `/C=DE/O=custos tests/CN=${cn}`, '-out', `${name}.csr`], dir);
    openssl(['ca', '-batch', '-config', conf, '-name', ca, '-in', `${name}.csr`, '-out', `${name}.pem`, '-extensions', ext, '-notext', ...dates], dir);
  };
  root('root', 'rsa', 'custos test root CA');
  root('other-root', 'ec', 'another root CA');
  issue('inter', 'ec', 'custos test intermediate CA', 'root_ca', 'v3_inter');
  issue('rsa', 'rsa', 'custos test TSA (RSA)', 'root_ca', 'v3_tsa');
  issue('ec', 'ec', 'custos test TSA (ECDSA)', 'inter_ca', 'v3_tsa');
  issue('expired', 'rsa', 'expired TSA', 'root_ca', 'v3_tsa', ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z']);
  issue('future', 'rsa', 'not yet valid TSA', 'root_ca', 'v3_tsa', ['-startdate', '20900101000000Z', '-enddate', '20910101000000Z']);
  issue('noeku', 'rsa', 'TSA with a non-critical EKU', 'root_ca', 'v3_tsa_noncritical');
  return conf;
}

/** Makes the PKI in `dir` and starts the responder on 127.0.0.1 on a free port. */
export async function startTestTsa(dir: string): Promise<TestTsa> {
  const conf = makeTestPki(dir);
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(process.execPath, [join(__dirname, 'server.js'), conf], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('test TSA did not start within 10 s')), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`test TSA exited ${code} before listening`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `${base}/tsa/${TSAS.rsa}`,
    urlFor: (name) => `${base}/tsa/${TSAS[name]}`,
    faultUrl: (f) => `${base}/fault/${f}`,
    caPem: readFileSync(join(dir, 'root.pem'), 'utf8'),
    otherCaPem: readFileSync(join(dir, 'other-root.pem'), 'utf8'),
    dir,
    config: conf,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

/**
 * The TSTInfo of `token` signed again by `openssl cms -sign -cades` with a certificate of the same
 * root whose extendedKeyUsage timeStamping is not critical — a token `openssl ts -reply` itself
 * refuses to make, as RFC 3161 §2.3 says.
 */
export function resignWithoutCriticalEku(tsa: TestTsa, token: string, out: string): void {
  const tst = `${out}.tstinfo`;
  openssl(['cms', '-verify', '-noverify', '-inform', 'DER', '-in', token, '-binary', '-out', tst], tsa.dir);
  openssl(
    ['cms', '-sign', '-binary', '-nodetach', '-in', tst, '-econtent_type', '1.2.840.113549.1.9.16.1.4', '-signer', 'noeku.pem', '-inkey', 'noeku.key', '-md', 'sha256', '-cades', '-nosmimecap', '-outform', 'DER', '-out', out],
    tsa.dir,
  );
}
