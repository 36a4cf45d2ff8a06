import { Args, Flags } from '@oclif/core';
import type { CaInfo } from '../../src/custody/ca';
import { caInit } from '../../src/services/ca';
import { CustosCommand } from '../_base';

export default class CaInit extends CustosCommand {
  static override summary = 'Create the lab certificate authority that vouches for examiners (keep its folder offline).';
  static override description = `The CA's RSA key is stored encrypted (PKCS#8, PBKDF2-HMAC-SHA256 600,000 iterations, AES-256-CBC) with mode 0600 beside its self-signed certificate (basicConstraints CA, pathlen 0; keyCertSign, cRLSign). Its passphrase is asked on the terminal, or taken from CUSTOS_CA_PASSPHRASE in scripts. Give ca-cert.pem to cases: custos case init --trust DIR/ca-cert.pem.`;
  static override examples = ['<%= config.bin %> <%= command.id %> /media/offline/lab-ca --name "Harbour Forensic Lab CA" --organization "Harbour Forensic Lab"'];
  static override args = { dir: Args.string({ description: 'folder of the CA (created; keep it offline)', required: true }) };
  static override flags = {
    name: Flags.string({ summary: 'Name of the CA (certificate CN).', required: true }),
    organization: Flags.string({ summary: 'Organisation.' }),
    years: Flags.integer({ summary: 'Validity of the CA certificate in years.', default: 10, min: 1, max: 50 }),
  };

  async run(): Promise<CaInfo> {
    const { args, flags } = await this.parse(CaInit);
    const passphrase = await this.passphrase(`New passphrase for the CA key in ${args.dir}: `, true, 'CUSTOS_CA_PASSPHRASE');
    const ca = caInit({ dir: args.dir, name: flags.name, organization: flags.organization, passphrase, years: flags.years });
    this.log(`created CA ${ca.subject}\n  fingerprint  ${ca.fingerprint}\n  valid        ${ca.notBefore} to ${ca.notAfter}\n  certificate  ${ca.dir}/ca-cert.pem`);
    return ca;
  }
}
