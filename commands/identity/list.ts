import type { IdentityRecord } from '../../src/custody';
import { identityList } from '../../src/services/identity';
import { CustosCommand } from '../_base';

export default class IdentityList extends CustosCommand {
  static override summary = 'List the identities in $CUSTOS_HOME with their SHA-256 certificate fingerprints.';

  async run(): Promise<{ identities: IdentityRecord[] }> {
    await this.parse(IdentityList);
    const { identities, home } = await identityList();
    for (const i of identities) this.log(`${i.fingerprint}  ${i.name} (${i.role})  valid to ${i.notAfter}`);
    if (identities.length === 0) this.log(`no identities in ${home}; create one with custos identity create`);
    return { identities };
  }
}
