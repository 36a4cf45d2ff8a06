import type { LedgerEntry } from '../../src/custody';
import { ledgerShow, type LedgerTimeline } from '../../src/services/custody';
import { CustosCommand, custodyFlags } from '../_base';

export default class LedgerShow extends CustosCommand {
  static override summary = 'Show the custody ledger as a readable timeline, with open transfers.';
  static override flags = { 'case-dir': custodyFlags['case-dir'] };

  async run(): Promise<Omit<LedgerTimeline, 'firstBad'>> {
    const { flags } = await this.parse(LedgerShow);
    const { firstBad, ...shown } = await ledgerShow({ caseDir: this.caseDir(flags) });
    for (const e of shown.entries) {
      const what = e.action === 'note' ? String(e.details.text) : e.action === 'transfer' ? `to ${(e.details.to as { name: string }).name}: ${String(e.details.reason)}` : summary(e);
      this.log(`#${String(e.seq).padStart(4)}  ${e.time.utc} (${e.time.offset})  ${e.actor.name} [${e.actor.role}]  ${e.action.padEnd(16)} ${e.evidence.join(',')}  ${what}${e.purpose ? `  — ${e.purpose}` : ''}`);
    }
    for (const t of shown.openTransfers) this.log(`OPEN TRANSFER #${t.seq}: ${t.from} → ${t.to}, not yet accepted`);
    this.log(`ledger: ${shown.verdict.toUpperCase()}${firstBad ? ` — first bad entry line ${firstBad.line}: ${firstBad.reason}` : ''}`);
    return shown;
  }
}

function summary(e: LedgerEntry): string {
  const d = e.details as { hashes?: Record<string, string>; verdict?: string; description?: string; error?: { message: string } };
  if (d.verdict) return `verdict ${d.verdict}`;
  if (d.hashes?.sha256) return `sha256 ${d.hashes.sha256}`;
  if (d.error) return `failed: ${d.error.message}`;
  return d.description ?? '';
}
