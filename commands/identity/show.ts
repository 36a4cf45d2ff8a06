import { Args } from '@oclif/core';
import type { IdentityRecord } from '../../src/custody';
import { identityShow } from '../../src/services/identity';
import { CustosCommand } from '../_base';

export default class IdentityShow extends CustosCommand {
  static override summary = 'Show one identity: subject, issuer, validity, fingerprint.';
  static override args = { identity: Args.string({ description: 'name or fingerprint (default: the only identity)' }) };

  async run(): Promise<IdentityRecord> {
    const { args } = await this.parse(IdentityShow);
    const r = await identityShow({ identity: args.identity });
    for (const [k, v] of Object.entries(r)) this.log(`${k.padEnd(12)} ${String(v)}`);
    return r;
  }
}
