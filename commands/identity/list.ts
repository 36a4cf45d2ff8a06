import { custosHome, type IdentityRecord, listIdentities } from '../../src/custody/identity';
import { CustosCommand } from '../_base';

export default class IdentityList extends CustosCommand {
  static override summary = 'List the identities in $CUSTOS_HOME with their SHA-256 certificate fingerprints.';

  async run(): Promise<{ identities: IdentityRecord[] }> {
    await this.parse(IdentityList);
    const identities = listIdentities(custosHome()).map(({ dir: _dir, ...r }) => r);
    for (const i of identities) this.log(`${i.fingerprint}  ${i.name} (${i.role})  valid to ${i.notAfter}`);
    if (identities.length === 0) this.log(`no identities in ${custosHome()}; create one with custos identity create`);
    return { identities };
  }
}
