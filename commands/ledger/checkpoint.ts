import { Flags } from '@oclif/core';
import { ledgerCheckpoint } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerCheckpoint extends CustosCommand {
  static override summary = 'Sign a checkpoint of the ledger (C2SP tlog-checkpoint: case, entries, Merkle root) and keep it in the case.';
  static override description = `The checkpoint is a signed note (c2sp.org/signed-note) over the RFC 9162 Merkle tree of the ledger's lines, kept in CASE/checkpoints/ and recorded as a checkpoint entry. Keep a copy elsewhere too: custos ledger verify --checkpoint FILE then fails for a ledger rewritten or cut short since.

A witness (a second identity, e.g. a supervisor) signs the same checkpoint; its passphrase is asked after the examiner's.`;
  static override flags = {
    ...custodyFlags,
    witness: Flags.string({ summary: 'Identity that co-signs the checkpoint as a witness (name or fingerprint; repeatable).', multiple: true }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(LedgerCheckpoint);
    const w = await ledgerCheckpoint({ caseDir: this.caseDir(flags), identity: flags.identity, purpose: flags.purpose, witnesses: flags.witness }, (s, open) => this.unlock(s, open));
    this.log(`checkpoint of ${w.size} entr${w.size === 1 ? 'y' : 'ies'}, root ${w.root}\nsigned by ${w.signers.join(', ')}; kept in ${w.path} (entry #${w.entry.seq})`);
    return { path: w.path, size: w.size, root: w.root, origin: w.origin, signers: w.signers, note: w.note, entry: w.entry.seq };
  }
}
