/** The identity services on a temporary CUSTOS_HOME: create, import (a certificate and key made by openssl), list and show. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { identityCreate, identityImport, identityList, identityShow } from '../../../src/services/identity';
import { tool } from '../../helpers';
import { PASS, temporaryHome } from './custody-support';

const t = temporaryHome();
/** SHA-256 of a PEM certificate's DER, as openssl gives the DER. */
const fingerprintOf = (pem: string) => createHash('sha256').update(spawnSync('openssl', ['x509', '-in', pem, '-outform', 'DER']).stdout).digest('hex');

test('create, list and show: the record of the certificate made, in CUSTOS_HOME, never its directory or key', async () => {
  expect(await identityList()).toEqual({ identities: [], home: t.home });
  const sam = await identityCreate({ name: 'Sam Lee', role: 'lab analyst', email: 'sam@lab.example', organization: 'Lab X', days: 10, passphrase: PASS });
  expect(sam).toMatchObject({ name: 'Sam Lee', role: 'lab analyst', email: 'sam@lab.example', organization: 'Lab X', selfSigned: true, home: t.home });
  expect(Date.parse(sam.notAfter) - Date.parse(sam.notBefore)).toBe(10 * 86_400_000);
  const dirs = readdirSync(join(t.home, 'identities'));
  expect(dirs).toHaveLength(1);
  expect(sam.fingerprint).toBe(fingerprintOf(join(t.home, 'identities', dirs[0]!, 'cert.pem')));
  const alex = await identityCreate({ name: 'Alex Morgan', role: 'examiner', passphrase: PASS });

  const record = ({ home: _home, ...r }: typeof sam) => r;
  const created = record(sam);
  const list = await identityList();
  expect(list).toEqual({ identities: [record(alex), created], home: t.home });
  expect(list.identities[0]).not.toHaveProperty('dir');
  expect(await identityShow({ identity: 'Sam Lee' })).toEqual(created);
  expect(await identityShow({ identity: sam.fingerprint.slice(0, 8) })).toEqual(created);
  await expect(identityShow({})).rejects.toMatchObject({ code: 'IDENTITY_AMBIGUOUS' });
  await expect(identityShow({ identity: 'Nobody' })).rejects.toMatchObject({ code: 'IDENTITY_NOT_FOUND' });
  await expect(identityCreate({ name: 'Pat', role: 'x', passphrase: 'short' })).rejects.toMatchObject({ code: 'USAGE' });
});

test('import: a certificate and key made by openssl, listed with the fingerprint openssl gives; a key of another certificate is refused', async () => {
  const cert = join(t.dir, 'pat.crt.pem');
  const key = join(t.dir, 'pat.key.pem');
  tool('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=Pat Doe/title=first responder']);
  const pat = await identityImport({ cert, key, passphrase: PASS });
  expect(pat).toMatchObject({ name: 'Pat Doe', role: 'first responder', fingerprint: fingerprintOf(cert) });
  expect((await identityList()).identities.map((i) => i.name)).toContain('Pat Doe');

  const otherKey = join(t.dir, 'other.key.pem');
  tool('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', otherKey]);
  await expect(identityImport({ cert, key: otherKey, passphrase: PASS })).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
});
