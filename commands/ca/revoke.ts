import { Flags } from '@oclif/core';
import type { Revocation, RevocationReason } from '../../src/custody/ca';
import { CustosError } from '../../src/errors';
import { caRevoke } from '../../src/services/ca';
import { CustosCommand } from '../_base';

const REASONS: RevocationReason[] = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn', 'aACompromise'];

export default class CaRevoke extends CustosCommand {
  static override summary = 'Revoke an examiner certificate; publish it with custos ca crl.';
  static override description = 'Ledger entries the examiner signed from the revocation time on are INVALID once the CRL is in the case (CASE/trust/NAME.crl.pem) or given to ledger verify --crl; earlier entries stay valid. --at backdates the revocation to when the key was compromised (never in the future).';
  static override flags = {
    ca: Flags.string({ summary: 'Folder of the CA.', required: true, env: 'CUSTOS_CA' }),
    serial: Flags.string({ summary: 'Serial number of the certificate (hex).', exactlyOne: ['serial', 'cert'] }),
    cert: Flags.string({ summary: 'The certificate (PEM file).' }),
    reason: Flags.option({ options: REASONS, summary: 'Reason (RFC 5280 CRLReason).', default: 'unspecified' })(),
    at: Flags.string({ summary: 'When the certificate stopped being trustworthy (ISO 8601; default now).' }),
  };

  async run(): Promise<Revocation> {
    const { flags } = await this.parse(CaRevoke);
    const at = flags.at === undefined ? undefined : new Date(flags.at);
    if (at && Number.isNaN(at.getTime())) throw new CustosError('USAGE', `--at ${flags.at} is not a date`, { hint: 'Use ISO 8601, e.g. 2026-03-14T10:00:00Z.' });
    const passphrase = await this.passphrase(`Passphrase for the CA key in ${flags.ca}: `, false, 'CUSTOS_CA_PASSPHRASE');
    const r = caRevoke({ ca: flags.ca, passphrase, serial: flags.serial, cert: flags.cert, reason: flags.reason as RevocationReason, at });
    this.log(`revoked ${r.serial} at ${r.revokedAt} (${r.reason}); publish with custos ca crl`);
    return r;
  }
}
