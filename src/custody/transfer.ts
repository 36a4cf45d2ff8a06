import { existsSync } from 'node:fs';
import { readBoundedFile } from '../fsutil';
import { join } from 'node:path';
import { CustosError } from '../errors';
import type { Environment } from '../host';
import { custosHome, describeCert, findIdentity, type Signer } from './identity';
import type { LedgerEntry } from './entry';
import { appendEntry, keepCertPem, readEntries } from './storage';

/** The recipient of a transfer: a certificate file, or an identity known in $CUSTOS_HOME. */
function recipientCert(to: string, home: string): { pem: string; where: string } {
  const where = existsSync(to) ? to : join(findIdentity(home, to).dir, 'cert.pem');
  return { pem: readBoundedFile(where, 'certificate', 1024 * 1024).toString('utf8'), where };
}

/** Records the release of the evidence to another examiner; it stays open until they accept. */
export async function transferCustody(
  caseDir: string,
  o: { to: string; reason: string; evidence?: string[]; purpose?: string; home?: string },
  signer: Signer,
  env?: Environment,
): Promise<LedgerEntry> {
  if (!o.reason.trim()) throw new CustosError('USAGE', 'a transfer needs a --reason', { hint: 'Say why custody changes hands, e.g. "to the lab for analysis".' });
  const { pem, where } = recipientCert(o.to, o.home ?? custosHome());
  const to = describeCert(pem, where);
  if (to.fingerprint === signer.identity.fingerprint) throw new CustosError('USAGE', 'custody cannot be transferred to oneself', { hint: 'Name the receiving examiner with --to.' });
  keepCertPem(caseDir, to.fingerprint, pem);
  return appendEntry(
    caseDir,
    { action: 'transfer', evidence: o.evidence, purpose: o.purpose, details: { to: { name: to.name, role: to.role, cert: to.fingerprint }, reason: o.reason } },
    signer,
    env,
  );
}

/** Records that the signer accepts the open transfer addressed to them (the latest one). */
export async function acceptCustody(caseDir: string, o: { note?: string; purpose?: string }, signer: Signer, env?: Environment): Promise<LedgerEntry> {
  const { entries } = readEntries(caseDir);
  const accepted = new Set(entries.filter((e) => e.action === 'accept').map((e) => Number(e.details.transferSeq)));
  const open = entries.filter((e) => e.action === 'transfer' && !accepted.has(e.seq) && (e.details.to as { cert?: string })?.cert === signer.identity.fingerprint);
  const t = open[open.length - 1];
  if (!t) {
    throw new CustosError('INVALID_INPUT', `no open transfer to ${signer.identity.name} in ${caseDir}`, {
      hint: 'The releasing examiner records it first with custos ledger transfer --to YOU.',
    });
  }
  return appendEntry(
    caseDir,
    { action: 'accept', evidence: t.evidence, purpose: o.purpose, details: { transferSeq: t.seq, transferId: t.id, from: t.actor, ...(o.note ? { note: o.note } : {}) } },
    signer,
    env,
  );
}
