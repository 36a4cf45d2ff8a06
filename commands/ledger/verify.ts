import { Flags } from '@oclif/core';
import type { LedgerReport } from '../../src/custody';
import { ledgerVerify } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerVerify extends CustosCommand {
  static override summary = 'Verify the whole custody ledger: schema, sequence, hash chain, signatures, certificates, time, transfers.';
  static override description = `Names the first bad entry (line and sequence number) and why. Tail truncation and rewriting are detected against what was kept elsewhere: --expect-head takes a hash or a signed head file written by custos ledger head --out; --checkpoint a signed checkpoint written by custos ledger checkpoint.

Exit codes: 0 intact (open transfers are listed but are not an error), 4 the ledger fails verification, 3 a torn last line only.`;
  static override flags = {
    'case-dir': custodyFlags['case-dir'],
    'expect-head': Flags.string({ summary: 'Head hash (hex) or signed head file the ledger must still contain.' }),
    trust: Flags.string({ summary: 'Check every signer against this trust anchor (lab CA certificate as PEM, or sha256:FINGERPRINT; repeatable) instead of those the case was opened with.', multiple: true }),
    crl: Flags.string({ summary: 'Certificate revocation list (PEM or DER) of the lab CA, besides those in CASE/trust/ (repeatable).', multiple: true }),
    'tsa-cert': Flags.string({ summary: 'Check timestamp tokens against this certificate (PEM; repeatable) instead of those the case was opened with.', multiple: true }),
    checkpoint: Flags.string({ summary: 'A checkpoint (custos ledger checkpoint) kept elsewhere that the ledger must still extend (repeatable); those in CASE/checkpoints/ are always checked.', multiple: true }),
  };

  async run(): Promise<LedgerReport> {
    const { flags } = await this.parse(LedgerVerify);
    const { outcome, ...r } = await ledgerVerify({ caseDir: this.caseDir(flags), expectHead: flags['expect-head'], checkpoints: flags.checkpoint, tsaCerts: flags['tsa-cert'], trust: flags.trust, crls: flags.crl });
    if (!this.jsonEnabled()) {
      this.log(`ledger ${r.path}: case ${r.case ?? '?'}, ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'} verified`);
      if (r.head) this.log(`head: seq ${r.head.seq} sha256 ${r.head.hash}`);
      if (r.firstBad) this.log(`FIRST BAD ENTRY: line ${r.firstBad.line}${r.firstBad.seq === undefined ? '' : ` (seq ${r.firstBad.seq})`}: ${r.firstBad.reason}`);
      if (r.torn) this.log(`TORN LAST LINE: line ${r.torn.line} (${r.torn.bytes} bytes) is incomplete; the entries before it verify. Repair with custos ledger repair.`);
      for (const c of r.checkpoints ?? []) this.log(c.problem ? `CHECKPOINT FAILS: ${c.path}: ${c.problem}` : `checkpoint ${c.path}: ${c.size} entries, signed by ${c.verifiedBy!.join(', ')}: the ledger extends it`);
      for (const t of r.timestamps ?? []) this.log(t.problem ? `TIMESTAMP FAILS: ${t.token}: ${t.problem}` : `timestamp ${t.token}: the checkpoint existed at ${t.genTime} (${t.tsa})`);
      for (const t of r.openTransfers) this.log(`OPEN TRANSFER: #${t.seq} from ${t.from} to ${t.to} (${t.reason}) not yet accepted`);
      const anchored = r.anchors
        ? `signers anchored to ${r.anchors.anchors.map((a) => `${a.subject ?? 'pinned certificate'} (sha256 ${a.fingerprint.slice(0, 16)}…)`).join(', ')}${r.anchors.source === 'given' ? ', as given' : ', as recorded when the case was opened'}`
        : 'integrity only, signers not anchored';
      this.log(`verdict: ${r.verdict === 'invalid' ? 'INVALID' : r.verdict === 'open-transfers' ? 'INTACT, with open transfers' : 'INTACT'} (${anchored})`);
    }
    this.conclude(outcome);
    return r;
  }
}
