import { Flags } from '@oclif/core';
import type { IdentityRecord } from '../../src/custody';
import { identityFromCa } from '../../src/services/ca';
import { identityCreate } from '../../src/services/identity';
import { CustosCommand } from '../_base';

export default class IdentityCreate extends CustosCommand {
  static override summary = 'Create an examiner identity: an RSA-3072 key and an X.509 certificate, self-signed or issued by the lab CA (--ca).';
  static override description = `The private key is stored as encrypted PKCS#8 (PBKDF2-HMAC-SHA256 600,000 iterations, AES-256-CBC) with mode 0600 in $CUSTOS_HOME (default ~/.config/custos); the passphrase is asked on the terminal, or taken from CUSTOS_PASSPHRASE in scripts. Key material is never printed.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --name "Alex Morgan" --role examiner --email alex@lab.example --organization "Lab X"'];
  static override flags = {
    name: Flags.string({ summary: 'Full name (certificate CN).', required: true }),
    role: Flags.string({ summary: 'Role, e.g. examiner, first responder, evidence custodian.', required: true }),
    email: Flags.string({ summary: 'E-mail address.' }),
    organization: Flags.string({ summary: 'Organisation.' }),
    days: Flags.integer({ summary: 'Validity of the certificate in days.', default: 1095, min: 1, max: 36500 }),
    ca: Flags.string({ summary: 'Have the lab CA in this folder issue the certificate (its passphrase from the terminal or CUSTOS_CA_PASSPHRASE) instead of a self-signed one.', env: 'CUSTOS_CA' }),
  };

  async run(): Promise<IdentityRecord & { home: string }> {
    const { flags } = await this.parse(IdentityCreate);
    const passphrase = await this.passphrase(`New passphrase for ${flags.name}'s key: `, true);
    const o = { name: flags.name, role: flags.role, email: flags.email, organization: flags.organization, days: flags.days, passphrase };
    const r = flags.ca
      ? identityFromCa({ ...o, ca: flags.ca, caPassphrase: await this.passphrase(`Passphrase for the CA key in ${flags.ca}: `, false, 'CUSTOS_CA_PASSPHRASE') })
      : await identityCreate(o);
    this.log(`created identity ${r.name} (${r.role})\n  fingerprint  ${r.fingerprint}\n  valid        ${r.notBefore} to ${r.notAfter}\n  stored in    ${r.home}`);
    return r;
  }
}
