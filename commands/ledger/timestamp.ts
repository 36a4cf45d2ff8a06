import { Flags } from '@oclif/core';
import { ledgerTimestamp } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerTimestamp extends CustosCommand {
  static override summary = 'Checkpoint the ledger now and have a timestamp authority (RFC 3161) date the checkpoint.';
  static override description = `Sends the SHA-256 of a new signed checkpoint to the TSA (HTTP POST, application/timestamp-query, with a nonce), checks the token it returns (imprint, nonce, signature, the TSA certificate's chain to --tsa-cert and its timeStamping key usage) and keeps it beside the checkpoint (CASE/checkpoints/checkpoint-N.tsr). Anyone can check it: openssl ts -verify -data checkpoint-N.txt -in checkpoint-N.tsr -token_in -CAfile TSA-CA.pem.

A case opened with --tsa and --tsa-cert is timestamped this way after every acquisition.`;
  static override flags = {
    ...custodyFlags,
    tsa: Flags.string({ summary: 'Timestamp authority URL (default: the one the case was opened with).', env: 'CUSTOS_TSA' }),
    'tsa-cert': Flags.string({ summary: 'Certificate (PEM) the TSA\'s tokens must chain to (repeatable; default: those the case was opened with).', multiple: true }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(LedgerTimestamp);
    const t = await ledgerTimestamp({ caseDir: this.caseDir(flags), identity: flags.identity, purpose: flags.purpose, tsa: flags.tsa, tsaCerts: flags['tsa-cert'] }, (s, open) => this.unlock(s, open));
    this.log(`checkpoint of ${t.checkpoint.size} entries (root ${t.checkpoint.root})\ntimestamped at ${t.timestamp.info.genTimeIso} by ${t.timestamp.info.tsaName ?? t.timestamp.info.signerSubject}; token ${t.timestamp.token} (entry #${t.entry.seq})`);
    return { checkpoint: t.checkpoint.path, size: t.checkpoint.size, root: t.checkpoint.root, token: t.timestamp.token, genTime: t.timestamp.info.genTimeIso, serial: t.timestamp.info.serial, tsa: t.timestamp.tsa, nonce: t.timestamp.nonce, entry: t.entry.seq };
  }
}
