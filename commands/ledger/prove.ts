import { Flags } from '@oclif/core';
import { type LedgerProof, ledgerProve } from '../../src/services/custody';
import { CustosError } from '../../src/errors';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerProve extends CustosCommand {
  static override summary = 'Print an RFC 9162 proof: an entry is in the ledger (or a checkpoint), or an earlier ledger is a prefix of a later one.';
  static override description = `Hashes are SHA-256 in hex: a leaf is SHA-256(0x00 || the entry's line as stored, without its newline), a node SHA-256(0x01 || left || right) (RFC 9162 §2.1). Any RFC 9162 verifier checks the proof against the root.`;
  static override flags = {
    'case-dir': custodyFlags['case-dir'],
    inclusion: Flags.integer({ summary: 'Sequence number of the entry to prove included.', min: 0, exclusive: ['consistency'] }),
    checkpoint: Flags.string({ summary: 'Prove inclusion in this checkpoint (its signature and root are checked first).', dependsOn: ['inclusion'] }),
    consistency: Flags.integer({ summary: 'Two tree sizes OLD NEW: the first OLD entries are the start of the first NEW.', multiple: true, min: 0 }),
  };

  async run(): Promise<LedgerProof> {
    const { flags } = await this.parse(LedgerProve);
    const c = flags.consistency;
    if (c && c.length !== 2) throw new CustosError('USAGE', '--consistency takes two sizes', { hint: 'custos ledger prove --consistency OLD --consistency NEW' });
    const p = ledgerProve({ caseDir: this.caseDir(flags), inclusion: flags.inclusion, checkpoint: flags.checkpoint, consistency: c ? [c[0]!, c[1]!] : undefined });
    if (p.kind === 'inclusion') this.log(`entry #${p.seq} (leaf ${p.leafHash}) is in the tree of ${p.treeSize} entries, root ${p.root}`);
    else this.log(`the tree of ${p.oldSize} entries (root ${p.oldRoot}) is a prefix of the tree of ${p.newSize} (root ${p.newRoot})`);
    for (const h of p.proof) this.log(`  ${h}`);
    return p;
  }
}
