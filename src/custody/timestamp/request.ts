/**
 * Asking a Time-Stamping Authority: the TimeStampReq (RFC 3161 §2.4.1), its transport over HTTP
 * (RFC 3161 §3.4) and the TimeStampResp (RFC 3161 §2.4.2). The reply comes from the network and
 * is treated as hostile: bounded in time and size, parsed strictly.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CustosError, printable } from '../../errors';
import { malformed, parseDer, readBitIndexes, readSmallInt, readString, Reader, TAG, type Tlv, whole } from './der';
import { MAX_TOKEN_BYTES } from './cms';

/** A request's nonce: an unsigned big-endian byte string or a non-negative bigint (RFC 3161 §2.4.1). */
export type Nonce = bigint | Buffer;

/** The largest nonce custos sends or expects (RFC 3161 suggests 64 bits; 256 bits leave room). */
const MAX_NONCE_BITS = 256;
const SHA256_ALGORITHM = Buffer.from('300b0609608648016503040201', 'hex'); // AlgorithmIdentifier { id-sha256 }, parameters absent (RFC 5754 §2)

/** The nonce as a bigint, checked: non-negative and at most 256 bits. */
export function nonceValue(nonce: Nonce): bigint {
  const n = Buffer.isBuffer(nonce) ? (nonce.length ? BigInt(`0x${nonce.toString('hex')}`) : -1n) : nonce;
  if (typeof n !== 'bigint' || n < 0n || n >= 1n << BigInt(MAX_NONCE_BITS)) {
    throw new CustosError('INVALID_INPUT', `a timestamp nonce must be a non-negative number of at most ${MAX_NONCE_BITS} bits`, { hint: 'Use 8 random bytes (crypto.randomBytes(8)).' });
  }
  return n;
}

/** Checks that `digest` is a SHA-256 value. */
export function checkDigest(digest: Buffer): void {
  if (!Buffer.isBuffer(digest) || digest.length !== 32) {
    throw new CustosError('INVALID_INPUT', `a SHA-256 digest is 32 bytes, not ${Buffer.isBuffer(digest) ? digest.length : typeof digest}`, { hint: 'Timestamp the SHA-256 of the data (the checkpoint).' });
  }
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

function encodeUnsigned(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return tlv(TAG.INTEGER, bytes[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** The DER TimeStampReq for a SHA-256 digest (RFC 3161 §2.4.1): version 1, the imprint, the nonce, certReq TRUE. */
export function timestampRequest(digest: Buffer, nonce: Nonce): Buffer {
  checkDigest(digest);
  const imprint = tlv(TAG.SEQUENCE, Buffer.concat([SHA256_ALGORITHM, tlv(TAG.OCTET_STRING, digest)]));
  return tlv(TAG.SEQUENCE, Buffer.concat([encodeUnsigned(1n), imprint, encodeUnsigned(nonceValue(nonce)), Buffer.from([TAG.BOOLEAN, 1, 0xff])]));
}

const STATUS = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];
/** PKIFailureInfo bits (RFC 3161 §2.4.2). */
const FAIL_INFO: Record<number, string> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
};

/**
 * The TimeStampToken (ContentInfo DER) of a TimeStampResp (RFC 3161 §2.4.2), when its status is
 * granted or grantedWithMods; a refusal is an IO_ERROR naming the status, its text and failInfo.
 */
export function parseTimestampResponse(reply: Buffer, source = 'timestamp reply'): Buffer {
  if (reply.length > MAX_TOKEN_BYTES) throw malformed(source, `${reply.length} bytes, larger than the ${MAX_TOKEN_BYTES} a timestamp reply may have`);
  const r = new Reader(parseDer(reply, TAG.SEQUENCE, source), `${source}: TimeStampResp`);
  const si = new Reader(r.next(TAG.SEQUENCE, 'status'), `${source}: PKIStatusInfo`);
  const status = readSmallInt(si.next(TAG.INTEGER, 'status'), `${source}: status`);
  const texts: string[] = [];
  const free = si.optional(TAG.SEQUENCE);
  if (free) for (const t of new Reader(free, `${source}: statusString`).rest('text', 16)) texts.push(readString(t, `${source}: statusString`));
  const failTlv: Tlv | undefined = si.optional(TAG.BIT_STRING);
  const fail = failTlv ? readBitIndexes(failTlv, `${source}: failInfo`) : [];
  si.end();
  const token = r.peek() ? whole(r.next(TAG.SEQUENCE, 'timeStampToken')) : undefined;
  r.end();
  if (status > 1) {
    const what = [
      STATUS[status] ?? `status ${status}`,
      ...fail.map((b) => FAIL_INFO[b] ?? `failInfo bit ${b}`),
      ...texts.map((t) => `'${t}'`),
    ].join(', ');
    throw new CustosError('IO_ERROR', `${source}: the TSA did not grant the timestamp (${printable(what, 600)})`, {
      hint: 'The TSA refused this request; check that it accepts SHA-256 requests without a policy, or use another TSA.',
    });
  }
  if (!token) throw malformed(source, `status ${STATUS[status]} but no timestamp token`);
  return Buffer.from(token);
}

/** Options of requestTimestamp. */
export interface RequestTimestampOptions {
  /** The request's nonce; 8 random bytes from node:crypto when not given. */
  nonce?: Nonce;
  /** Time for the whole exchange, connection included (default 30 s). */
  timeoutMs?: number;
  /** Largest reply accepted (default 1 MiB). */
  maxBytes?: number;
}

const REPLY_TYPES = new Set(['application/timestamp-reply', 'application/timestamp-response']);

/** The URL as it may appear in messages: no user name or password. */
export function shownUrl(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return printable(u.href, 300);
}

/** Parses a TSA URL (http: or https: only). */
export function tsaUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CustosError('USAGE', `'${printable(url, 200)}' is not a URL`, { hint: 'Give the TSA address as http://… or https://…' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CustosError('USAGE', `${shownUrl(u)}: a TSA is reached over http: or https:, not ${printable(u.protocol, 20)}`, { hint: 'Give the TSA address as http://… or https://…' });
  }
  return u;
}

const NETWORK_HINT = 'Check the URL and that this machine can reach the TSA (network, proxy, firewall), then run the command again.';

/** POSTs a TimeStampReq as RFC 3161 §3.4 says and returns the body of the reply, bounded in time and size; redirects are not followed. */
export function postTimestampQuery(url: URL, body: Buffer, timeoutMs: number, maxBytes: number): Promise<Buffer> {
  const where = shownUrl(url);
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    let res: IncomingMessage | undefined;
    const finish = (err: CustosError | undefined, data?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        res?.destroy();
        reject(err);
      } else {
        resolve(data!);
      }
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/timestamp-query', Accept: 'application/timestamp-reply', 'Content-Length': body.length },
    });
    const timer = setTimeout(
      () => finish(new CustosError('IO_ERROR', `${where}: the TSA did not answer within ${timeoutMs / 1000} s`, { hint: NETWORK_HINT })),
      timeoutMs,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish(new CustosError('IO_ERROR', `${where}: could not reach the TSA: ${printable(err.message, 200)}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}`, { hint: NETWORK_HINT, cause: err }));
    });
    req.on('response', (response) => {
      res = response;
      const code = response.statusCode ?? 0;
      if (code >= 300 && code < 400) {
        const to = response.headers.location ? ` to ${printable(response.headers.location, 200)}` : '';
        return finish(new CustosError('IO_ERROR', `${where}: the TSA answered with a redirect (HTTP ${code}${to}), which custos does not follow`, { hint: 'Give the address it names, if you trust it, as the TSA URL.' }));
      }
      if (code !== 200) {
        return finish(new CustosError('IO_ERROR', `${where}: the TSA answered HTTP ${code} ${printable(response.statusMessage ?? '', 80)}`.trimEnd(), { hint: 'The TSA failed or refused the request; try again later or use another TSA.' }));
      }
      const type = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!REPLY_TYPES.has(type)) {
        return finish(new CustosError('INVALID_INPUT', `${where}: the answer is of type '${printable(type, 80)}', not a timestamp reply (application/timestamp-reply)`, { hint: 'Check that the URL is the TSA endpoint itself, not a web page or a proxy.' }));
      }
      const tooLarge = () => new CustosError('INVALID_INPUT', `${where}: the reply is larger than ${maxBytes} bytes, too large for a timestamp reply`, { hint: 'Check that the URL is a TSA endpoint.' });
      const declared = Number(response.headers['content-length']);
      if (declared > maxBytes) return finish(tooLarge());
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) return finish(tooLarge());
        chunks.push(chunk);
      });
      response.on('end', () => finish(undefined, Buffer.concat(chunks, total)));
      response.on('error', (err) => finish(new CustosError('IO_ERROR', `${where}: the reply broke off: ${printable(err.message, 200)}`, { hint: NETWORK_HINT, cause: err })));
      response.on('close', () => {
        if (!response.complete) finish(new CustosError('IO_ERROR', `${where}: the reply broke off before its end`, { hint: NETWORK_HINT }));
      });
    });
    req.end(body);
  });
}
