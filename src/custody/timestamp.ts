/**
 * RFC 3161 trusted timestamps over the SHA-256 of a checkpoint: the request, the exchange with a
 * TSA over HTTP, and the verification of the token it returns. The parts are in ./timestamp/:
 * a bounded DER reader, the CMS and TSTInfo parser, certificate facts, and the checks.
 */
import { randomBytes } from 'node:crypto';
import { parseToken } from './timestamp/cms';
import { checkDigest, type Nonce, postTimestampQuery, parseTimestampResponse, type RequestTimestampOptions, shownUrl, timestampRequest, tsaUrl } from './timestamp/request';
import { checkAnswers } from './timestamp/verify';

export { MAX_TOKEN_BYTES } from './timestamp/cms';
export { type Nonce, parseTimestampResponse, type RequestTimestampOptions, timestampRequest } from './timestamp/request';
export { CLOCK_SKEW_MS, type TimestampInfo, verifyTimestamp, type VerifyTimestampOptions } from './timestamp/verify';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * Asks the TSA at `url` for a timestamp over a SHA-256 digest (RFC 3161 §2.4.1, HTTP transport
 * §3.4) and returns its TimeStampToken (DER ContentInfo, §2.4.2) once it answers this request.
 */
export async function requestTimestamp(url: string, digest: Buffer, o: RequestTimestampOptions = {}): Promise<Buffer> {
  const target = tsaUrl(url);
  checkDigest(digest);
  const nonce: Nonce = o.nonce ?? randomBytes(8);
  const body = timestampRequest(digest, nonce);
  const reply = await postTimestampQuery(target, body, o.timeoutMs ?? DEFAULT_TIMEOUT_MS, o.maxBytes ?? DEFAULT_MAX_BYTES);
  const source = shownUrl(target);
  const token = parseTimestampResponse(reply, `${source}: timestamp reply`);
  // RFC 3161 §2.4.2: the requester checks that the reply answers its request (imprint and nonce).
  checkAnswers(parseToken(token, `${source}: timestamp token`).tst, digest, nonce, source);
  return token;
}
