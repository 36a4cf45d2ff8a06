import { Args, Flags } from '@oclif/core';
import type { IssuedCertificate } from '../../src/custody/ca';
import { caIssue, checkCsr } from '../../src/services/ca';
import { CustosCommand } from '../_base';

export default class CaIssue extends CustosCommand {
  static override summary = 'Issue an examiner certificate for a certificate request (PKCS#10 CSR).';
  static override description = `The certificate (digitalSignature, nonRepudiation, the custos ledger-signing extended key usage, CA:FALSE) names the examiner as custos identities do (CN = name, title = role); import it with the key that made the CSR: custos identity import --cert CERT --key KEY. The CA's passphrase is asked on the terminal, or taken from CUSTOS_CA_PASSPHRASE.`;
  static override args = { csr: Args.string({ description: 'certificate request (PEM)', required: true }) };
  static override flags = {
    ca: Flags.string({ summary: 'Folder of the CA.', required: true, env: 'CUSTOS_CA' }),
    name: Flags.string({ summary: 'Examiner\'s full name (certificate CN).', required: true }),
    role: Flags.string({ summary: 'Role, e.g. examiner.', required: true }),
    email: Flags.string({ summary: 'E-mail address.' }),
    organization: Flags.string({ summary: 'Organisation.' }),
    days: Flags.integer({ summary: 'Validity in days.', default: 1095, min: 1, max: 36500 }),
    out: Flags.string({ summary: 'Write the certificate (PEM) to this file (created new).' }),
  };

  async run(): Promise<Omit<IssuedCertificate, 'certPem'> & { certPem?: string }> {
    const { args, flags } = await this.parse(CaIssue);
    checkCsr(args.csr);
    const passphrase = await this.passphrase(`Passphrase for the CA key in ${flags.ca}: `, false, 'CUSTOS_CA_PASSPHRASE');
    const c = caIssue({ ca: flags.ca, passphrase, csr: args.csr, name: flags.name, role: flags.role, email: flags.email, organization: flags.organization, days: flags.days, out: flags.out });
    if (flags.out) this.log(`issued certificate ${c.serial} for ${flags.name}: ${flags.out}\n  fingerprint  ${c.fingerprint}\n  valid        ${c.notBefore} to ${c.notAfter}`);
    else if (!this.jsonEnabled()) process.stdout.write(c.certPem);
    return c;
  }
}
