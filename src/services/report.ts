/**
 * The report commands as services: each renders its PDF from the records (reports/), writes it
 * (never over evidence or a link), records a report-export entry where a case is given, and says
 * how it ended. The generation time is the clock, or SOURCE_DATE_EPOCH when set.
 */
import { acquisitionReport, verificationReport, writeReport, type WrittenReport } from '../../reports';
import { custodyReportWithVerdict } from '../../reports/custody';
import { generationTime } from '../../reports/layout';
import type { Outcome } from '../errors';
import type { Algorithm } from '../hash/algorithms';
import { systemEnvironment } from '../host';
import { type Custody, record } from './session';
import { verificationOutcome, verifyRecorded } from './verify';

/** Where a report goes, and whether an existing file may be replaced. */
export interface ReportTarget {
  out: string;
  force?: boolean;
  /** The environment SOURCE_DATE_EPOCH is read from (default: the process's). */
  env?: NodeJS.ProcessEnv;
}

const clock = () => new Date();

/** The PDF acquisition report of a manifest. */
export async function reportAcquisition(manifest: string, t: ReportTarget, c?: Custody): Promise<WrittenReport> {
  const now = generationTime(t.env ?? process.env, clock);
  const w = writeReport('acquisition', t.out, await acquisitionReport(manifest, { now, caseDir: c?.caseDir }), t.force);
  if (c) await record(c, { action: 'report-export', details: { ...w, source: manifest } });
  return w;
}

/** Verifies (as custos verify) and writes the verification report; the report is written whatever the verdict. */
export async function reportVerification(
  target: string,
  o: ReportTarget & { source?: string; algorithms?: Algorithm[]; examiner?: string },
  c?: Custody,
): Promise<WrittenReport & { verdict: 'match' | 'mismatch'; outcome: Outcome }> {
  const env = o.env ?? process.env;
  const reproducible = Boolean(env.SOURCE_DATE_EPOCH);
  const at = generationTime(env, clock);
  const t0 = Date.now();
  const result = await verifyRecorded(target, { source: o.source, algorithms: o.algorithms }, c);
  const examiner = o.examiner ?? c?.signer.identity.name ?? systemEnvironment.host().user;
  const pdf = await verificationReport({ result, at, examiner, durationSeconds: reproducible ? undefined : (Date.now() - t0) / 1000 }, { now: generationTime(env, clock), caseDir: c?.caseDir });
  const w = writeReport('verification', o.out, pdf, o.force);
  if (c) await record(c, { action: 'report-export', details: { ...w, source: target, verdict: result.verdict } });
  return { ...w, verdict: result.verdict, outcome: verificationOutcome(result) };
}

/**
 * The chain-of-custody report. A ledger that fails verification is still reported (in red on
 * page 1), is not extended by a report-export entry, and ends as a mismatch.
 */
export async function reportCustody(
  c: Custody,
  t: ReportTarget,
): Promise<WrittenReport & { verdict: 'intact' | 'invalid'; outcome: Outcome; problem?: string }> {
  const now = generationTime(t.env ?? process.env, clock);
  const r = await custodyReportWithVerdict(c.caseDir, { signer: c.signer, now });
  const w = writeReport('custody', t.out, r.pdf, t.force);
  if (!r.failed) await record(c, { action: 'report-export', details: { ...w } });
  return { ...w, verdict: r.failed ? 'invalid' : 'intact', outcome: r.failed ? 'mismatch' : 'ok', ...(r.problem ? { problem: r.problem } : {}) };
}
