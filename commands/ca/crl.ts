import { Flags } from '@oclif/core';
import { caCrl } from '../../src/services/ca';
import { CustosCommand } from '../_base';

export default class CaCrl extends CustosCommand {
  static override summary = 'Write a signed certificate revocation list (X.509 v2 CRL) of every revocation.';
  static override description = 'Put it in each case that trusts the CA as CASE/trust/NAME.crl.pem (or give it to ledger verify --crl). Anyone can check it: openssl crl -in CRL -CAfile ca-cert.pem -noout.';
  static override flags = {
    ca: Flags.string({ summary: 'Folder of the CA.', required: true, env: 'CUSTOS_CA' }),
    out: Flags.string({ summary: 'Write the CRL (PEM) to this file.' }),
    force: Flags.boolean({ summary: 'Replace an existing --out file (never a link or evidence).' }),
    days: Flags.integer({ summary: 'Days until the next update the CRL announces.', default: 30, min: 1, max: 3650 }),
  };

  async run(): Promise<{ crl: string; out?: string }> {
    const { flags } = await this.parse(CaCrl);
    const passphrase = await this.passphrase(`Passphrase for the CA key in ${flags.ca}: `, false, 'CUSTOS_CA_PASSPHRASE');
    const crl = caCrl({ ca: flags.ca, passphrase, out: flags.out, force: flags.force, days: flags.days });
    if (flags.out) this.log(`wrote ${flags.out}`);
    else if (!this.jsonEnabled()) process.stdout.write(crl);
    return { crl, ...(flags.out ? { out: flags.out } : {}) };
  }
}
