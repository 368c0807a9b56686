/**
 * Builds DPoP proof JWTs: a compact JWS with typ dpop+jwt, the public JWK, and the claims that
 * bind it to one HTTP request (jti, htm, htu, iat; ath with an access token; nonce when the
 * server asked for one). Signing happens in memory with the Signer's key.
 * @see RFC 9449 §4.2
 */
import { createHash, randomFillSync } from 'node:crypto';
import { CoreError } from '../../api/errors.ts';
import type { Signer } from '../signer.ts';

export type ProofOptions = Readonly<{
  /** HTTP method of the request, e.g. "POST". */
  htm: string;
  /** Target URI of the request; query and fragment are removed. */
  htu: string | URL;
  /** The access token sent with the request: adds ath (RFC 9449 §4.2). */
  accessToken?: string;
  /** The server's most recent DPoP-Nonce value. */
  nonce?: string;
  /** Creation time in ms since the epoch (default: now). */
  now?: number;
}>;

const METHOD_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
/** RFC 6749 NQCHAR: %x21 / %x23-5B / %x5D-7E. */
const NONCE_RE = /^[\x21\x23-\x5b\x5d-\x7e]{1,1024}$/;
const TOKEN68_RE = /^[A-Za-z0-9\-._~+/]+=*$/;

const headers = new WeakMap<Signer, string>();
const JTI_BYTES = 16;
const jtiPool = Buffer.alloc(JTI_BYTES * 256);
let jtiOffset = jtiPool.length;

/** Signs one DPoP proof for a request. Throws ERR_BAD_REQUEST for a malformed method, URI or nonce. */
export function createDpopProof(signer: Signer, options: ProofOptions): string {
  if (!METHOD_RE.test(options.htm)) throw new CoreError('ERR_BAD_REQUEST', 'htm must be an HTTP method token');
  const htu = proofHtu(options.htu);
  const payload: Record<string, string | number> = {
    jti: nextJti(),
    htm: options.htm,
    htu,
    iat: Math.floor((options.now ?? Date.now()) / 1000),
  };
  if (options.accessToken !== undefined) {
    if (!TOKEN68_RE.test(options.accessToken)) throw new CoreError('ERR_BAD_REQUEST', 'the access token is not a token68 value');
    payload.ath = accessTokenHash(options.accessToken);
  }
  if (options.nonce !== undefined) {
    if (!NONCE_RE.test(options.nonce)) throw new CoreError('ERR_BAD_REQUEST', 'the DPoP nonce has characters RFC 9449 §8.1 does not allow');
    payload.nonce = options.nonce;
  }
  const signingInput = `${encodedHeader(signer)}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = signer.sign(Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * The ath claim: base64url SHA-256 of the token's ASCII bytes.
 * @see RFC 9449 §4.2
 */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** The htu of a target URI: absolute http(s), no userinfo, query or fragment. */
export function proofHtu(target: string | URL): string {
  let url: URL;
  try {
    url = typeof target === 'string' ? new URL(target) : target;
  } catch {
    throw new CoreError('ERR_BAD_REQUEST', 'htu must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CoreError('ERR_BAD_REQUEST', 'htu must be an http or https URL');
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The protected header is the same for every proof of a key: encode it once. */
function encodedHeader(signer: Signer): string {
  let header = headers.get(signer);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: signer.alg, jwk: signer.publicJwk })).toString('base64url');
    headers.set(signer, header);
  }
  return header;
}

/** 128 random bits per jti (RFC 9449 §4.2 asks for at least 96), drawn from a refilled pool. */
function nextJti(): string {
  if (jtiOffset >= jtiPool.length) {
    randomFillSync(jtiPool);
    jtiOffset = 0;
  }
  const jti = jtiPool.toString('base64url', jtiOffset, jtiOffset + JTI_BYTES);
  jtiPool.fill(0, jtiOffset, jtiOffset + JTI_BYTES);
  jtiOffset += JTI_BYTES;
  return jti;
}
