import { Flags } from '@oclif/core';
import type { IdentityRecord } from '../../src/custody';
import { identityImport } from '../../src/services/identity';
import { CustosCommand } from '../_base';

export default class IdentityImport extends CustosCommand {
  static override summary = "Import a certificate issued by your organisation's CA, with its private key.";
  static override description = `The key is checked against the certificate and stored encrypted (PKCS#8, AES-256, mode 0600) under your passphrase. A key that is itself encrypted is opened with CUSTOS_KEY_PASSPHRASE, else with the same passphrase.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --cert alex.crt.pem --key alex.key.pem'];
  static override flags = {
    cert: Flags.string({ summary: 'Certificate (PEM).', required: true }),
    key: Flags.string({ summary: 'Private key (PEM, PKCS#8 or PKCS#1).', required: true }),
  };

  async run(): Promise<IdentityRecord> {
    const { flags } = await this.parse(IdentityImport);
    const passphrase = await this.passphrase('Passphrase to protect the key: ', true);
    const r = await identityImport({ cert: flags.cert, key: flags.key, passphrase, keyPassphrase: process.env.CUSTOS_KEY_PASSPHRASE });
    this.log(`imported identity ${r.name} (${r.role || 'no role in certificate'})\n  fingerprint  ${r.fingerprint}\n  issuer       ${r.issuer}`);
    return r;
  }
}
