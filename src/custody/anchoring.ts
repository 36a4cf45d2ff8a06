/**
 * Whether the signers of a ledger are vouched for: each entry's certificate must chain to a trust
 * anchor of the case (its lab CA, or a pinned certificate) and be valid and unrevoked at the
 * entry's time (RFC 5280 §6, simplified in ./ca/verify.ts). A ledger has few signers and many
 * entries: a signer's verdict changes only when the entry time crosses one of its certificate's
 * dates, an anchor's dates, or a revocation of its serial, so the chain is checked once per such
 * interval, not once per entry.
 */
import { X509Certificate } from 'node:crypto';
import { CustosError } from '../errors';
import { readBoundedFile } from '../fsutil';
import { type ChainVerdict, parseCrl, verifyChain } from './ca';
import { caseCrls, readCertificates, type TrustRecord, trustCertificate } from './trust';

/** The anchors a verification uses, and where they came from. */
export interface AnchorsUsed {
  /** 'case': recorded in the case-open entry; 'given': passed by the verifier (ledger verify --trust). */
  source: 'case' | 'given';
  anchors: { fingerprint: string; subject?: string; pinned?: boolean }[];
}

/** PEM of a CRL given as PEM or DER bytes. */
function crlPem(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN X509 CRL-----')) return text;
  const b64 = bytes.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN X509 CRL-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END X509 CRL-----\n`;
}

/** Checks signers against anchors, caching each signer's verdict per interval of time in which it cannot change. */
export class SignerAnchoring {
  private readonly breakpoints = new Map<string, number[]>();
  private readonly verdicts = new Map<string, ChainVerdict>();
  private readonly anchorDates: number[];

  private constructor(
    readonly used: AnchorsUsed,
    private readonly anchors: string[],
    private readonly crls: string[],
  ) {
    this.anchorDates = anchors.filter((a) => !a.startsWith('sha256:')).flatMap((pem) => {
      const c = new X509Certificate(pem);
      return [Date.parse(c.validFrom), Date.parse(c.validTo) + 1];
    });
  }

  /**
   * The anchoring of a case: the verifier's anchors (`given`: PEM files or sha256: pins) when
   * given, else those the case-open entry records (certificates from CASE/trust/); CRLs from
   * CASE/trust/ and `crlFiles`. Undefined when there are none: integrity only.
   */
  static forCase(dir: string, recorded: TrustRecord | undefined, given?: string[], crlFiles: string[] = []): SignerAnchoring | undefined {
    let anchors: string[];
    let used: AnchorsUsed;
    if (given && given.length > 0) {
      const specs = given.flatMap((g): { pem: string; fingerprint: string; subject?: string; pinned: boolean }[] => (/^sha256:[0-9a-fA-F]{64}$/.test(g) ? [{ pem: g.toLowerCase(), fingerprint: g.slice(7).toLowerCase(), subject: undefined, pinned: true }] : readCertificates(g, 'trust anchor').map((c) => ({ ...c, pinned: false }))));
      anchors = specs.map((s) => s.pem);
      used = { source: 'given', anchors: specs.map((s) => ({ fingerprint: s.fingerprint, ...(s.subject ? { subject: s.subject } : {}), ...(s.pinned ? { pinned: true } : {}) })) };
    } else if (recorded && recorded.anchors.length > 0) {
      anchors = recorded.anchors.map((a) => {
        if (a.pinned) return `sha256:${a.fingerprint}`;
        const pem = trustCertificate(dir, a.fingerprint);
        if (!pem) throw new CustosError('LEDGER_INVALID', `the trust anchor ${a.fingerprint.slice(0, 16)}… named when the case was opened is missing from its trust/ folder`, { hint: 'Restore the case folder from a copy, or pass the lab CA with --trust.' });
        return pem;
      });
      used = { source: 'case', anchors: recorded.anchors };
    } else {
      return undefined;
    }
    const crls = [...caseCrls(dir).map((c) => c.bytes), ...crlFiles.map((f) => readBoundedFile(f, 'certificate revocation list', 16 * 1024 * 1024))].map(crlPem);
    return new SignerAnchoring(used, anchors, crls);
  }

  /** Whether the certificate `certPem` (fingerprint `fp`) was vouched for at `at`. */
  check(fp: string, certPem: string, at: Date): ChainVerdict {
    const points = this.breakpointsOf(fp, certPem);
    const t = at.getTime();
    let interval = 0;
    while (interval < points.length && points[interval]! <= t) interval++;
    const key = `${fp}:${interval}`;
    let v = this.verdicts.get(key);
    if (!v) {
      v = verifyChain({ certPem, anchors: this.anchors, crls: this.crls, at });
      this.verdicts.set(key, v);
    }
    return v;
  }

  /** The instants at which this certificate's verdict may change: its dates, the anchors', its revocations. */
  private breakpointsOf(fp: string, certPem: string): number[] {
    let points = this.breakpoints.get(fp);
    if (!points) {
      const c = new X509Certificate(certPem);
      const serial = c.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
      const revoked = this.crls.flatMap((pem) => {
        const r = parseCrl(pem, 'certificate revocation list').revoked;
        return [...r].filter(([s]) => s.replace(/^0+(?=.)/, '') === serial).map(([, v]) => v.revokedAt.getTime());
      });
      points = [...new Set([Date.parse(c.validFrom), Date.parse(c.validTo) + 1, ...this.anchorDates, ...revoked, ...revoked.map((r) => r + 1)])].sort((a, b) => a - b);
      this.breakpoints.set(fp, points);
    }
    return points;
  }
}
