/**
 * The DPoP verifier the fleet server and the proxy use: every check of RFC 9449 §4.3 plus the
 * token binding of §7 (ath, cnf.jkt, no Bearer downgrade) and nonces (§8-9). Results are values:
 * { ok: true, jkt, claims } or a DpopFailure carrying status and WWW-Authenticate. Never throws
 * for anything a client sends.
 */
import { createHash, createPublicKey, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CoreError } from '../../api/errors.ts';
import { hasPrivateMembers, jwkThumbprint, type PublicJwk } from '../jwk.ts';
import { isSupportedAlgorithm, keyMismatch, verifyJws, type JwsAlgorithm } from '../jws.ts';
import { failure, missingCredentials, type ChallengeContext, type DpopFailure, type VerifierRole } from './challenge.ts';
import { normalizeHtu } from './htu.ts';
import type { NonceStore } from './nonces.ts';
import { accessTokenHash } from './proof.ts';
import { createMemoryReplayCache, type ReplayCache } from './replayCache.ts';
import { headerValues, type HeaderSource } from './requestHeaders.ts';

export const DEFAULT_DPOP_ALGORITHMS: readonly JwsAlgorithm[] = ['ES256', 'EdDSA', 'Ed25519'];

export type DpopClaims = Readonly<{ jti: string; htm: string; htu: string; iat: number; ath?: string; nonce?: string } & Record<string, unknown>>;

export type DpopSuccess = Readonly<{
  ok: true;
  /** RFC 7638 thumbprint of the proof key: bind new tokens to it (cnf.jkt). */
  jkt: string;
  claims: DpopClaims;
  alg: JwsAlgorithm;
  publicJwk: PublicJwk;
  /** True when a DPoP-scheme access token came with the proof (and its ath and binding were checked). */
  tokenPresented: boolean;
}>;

export type DpopVerification = DpopSuccess | DpopFailure;

export type DpopRequest = Readonly<{
  method: string;
  /** The full request URL as the client addressed it (scheme, host, path; query is ignored). */
  url: string | URL;
  /** All request headers; for Node pass req.headersDistinct or req.rawHeaders (req.headers drops a second Authorization). */
  headers: HeaderSource;
  /** cnf.jkt of the presented access token (from the JWT or introspection); required when a token is presented. */
  expectedJkt?: string;
}>;

export type DpopVerifierOptions = Readonly<{
  /** Allowed proof algorithms (asymmetric only); default ES256, EdDSA, Ed25519. */
  algorithms?: readonly JwsAlgorithm[];
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** Oldest acceptable iat, in seconds before now (default 300). */
  maxAgeSeconds?: number;
  /** Newest acceptable iat, in seconds after now (clock skew; default 60). */
  maxFutureSeconds?: number;
  /** jti store; default a per-verifier in-memory cache. */
  replayCache?: ReplayCache;
  /** Enables nonces: once a key was issued one, its proofs must carry a valid one. */
  nonceStore?: NonceStore;
  /** Demand a nonce from every key, even before one was issued (needs nonceStore). */
  requireNonce?: boolean;
  role?: VerifierRole;
  realm?: string;
  /** Largest DPoP header accepted (default 8 KiB). */
  maxProofBytes?: number;
}>;

export type DpopVerifier = Readonly<{
  verify(request: DpopRequest): Promise<DpopVerification>;
  /** A fresh nonce for a key (send it as DPoP-Nonce); from then on that key's proofs must carry one. */
  issueNonce(jkt: string): Promise<string>;
  algorithms: readonly JwsAlgorithm[];
}>;

type ParsedHeader = { alg: JwsAlgorithm; key: KeyObject; jkt: string; jwk: PublicJwk };

const B64URL = /^[A-Za-z0-9_-]+$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const KEY_CACHE_SIZE = 1024;

export function createDpopVerifier(options: DpopVerifierOptions = {}): DpopVerifier {
  const algorithms = options.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  for (const alg of algorithms) {
    if (!isSupportedAlgorithm(alg)) throw new CoreError('ERR_BAD_REQUEST', `'${String(alg)}' is not an asymmetric JWS algorithm the verifier supports`);
  }
  if (algorithms.length === 0) throw new CoreError('ERR_BAD_REQUEST', 'the DPoP verifier needs at least one algorithm');
  if (options.requireNonce && !options.nonceStore) throw new CoreError('ERR_BAD_REQUEST', 'requireNonce needs a nonceStore');
  const clock = options.clock ?? Date.now;
  const maxAge = options.maxAgeSeconds ?? 300;
  const maxFuture = options.maxFutureSeconds ?? 60;
  const replayCache = options.replayCache ?? createMemoryReplayCache();
  const nonceStore = options.nonceStore;
  const maxProofBytes = options.maxProofBytes ?? 8192;
  const ctx: ChallengeContext = { role: options.role ?? 'resource-server', algorithms, ...(options.realm !== undefined ? { realm: options.realm } : {}) };
  const keyCache = new Map<string, ParsedHeader>();
  const fail = (error: Parameters<typeof failure>[1], description: string, nonce?: string): DpopFailure => failure(ctx, error, description, nonce);

  const parseHeader = (segment: string): ParsedHeader | DpopFailure => {
    const cached = keyCache.get(segment);
    if (cached) return cached;
    const header = decodeJson(segment);
    if (!header) return fail('invalid_dpop_proof', 'the JOSE header is not a JSON object');
    if (!isDpopTyp(header.typ)) return fail('invalid_dpop_proof', 'typ must be dpop+jwt');
    const alg = header.alg;
    if (alg === 'none' || (typeof alg === 'string' && /^HS\d+$/.test(alg))) return fail('invalid_dpop_proof', `alg ${alg} is not an asymmetric signature algorithm`);
    if (!isSupportedAlgorithm(alg) || !algorithms.includes(alg)) return fail('invalid_dpop_proof', `alg ${String(alg).slice(0, 20)} is not accepted`);
    if (header.crit !== undefined) return fail('invalid_dpop_proof', 'crit header parameters are not supported');
    const jwk = header.jwk;
    if (!isRecord(jwk)) return fail('invalid_dpop_proof', 'the jwk header parameter is missing or not an object');
    if (hasPrivateMembers(jwk)) return fail('invalid_dpop_proof', 'the jwk header parameter contains a private key');
    const mismatch = keyMismatch(alg, jwk);
    if (mismatch) return fail('invalid_dpop_proof', mismatch);
    let key: KeyObject;
    let jkt: string;
    // Only the key's own members go further (optional ones such as kid, use or alg are dropped).
    const publicJwk = publicMembers(jwk);
    try {
      jkt = jwkThumbprint(publicJwk);
      key = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
    } catch {
      return fail('invalid_dpop_proof', 'the jwk header parameter is not a valid public key');
    }
    const parsed: ParsedHeader = { alg, key, jkt, jwk: publicJwk };
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(segment, parsed);
    return parsed;
  };

  const verify = async (request: DpopRequest): Promise<DpopVerification> => {
    const now = clock();
    // RFC 9449 §7.1-7.2: how the access token (if any) was presented.
    const auth = headerValues(request.headers, 'authorization');
    if (auth.length > 1) return fail('invalid_request', 'more than one Authorization header or credential');
    let token: string | null = null;
    if (auth.length === 1) {
      const m = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+) +(\S+)$/.exec(auth[0] ?? '');
      if (!m) return fail('invalid_request', 'malformed Authorization header');
      const scheme = (m[1] ?? '').toLowerCase();
      if (scheme === 'bearer') {
        return fail('invalid_token', request.expectedJkt !== undefined ? 'DPoP-bound access token presented with the Bearer scheme' : 'the Bearer scheme is not accepted here; use DPoP');
      }
      if (scheme !== 'dpop') return fail('invalid_request', 'unsupported authorization scheme');
      if (!TOKEN68.test(m[2] ?? '')) return fail('invalid_request', 'the DPoP access token is not token68');
      token = m[2] ?? null;
    }
    // Step 1: exactly one DPoP header.
    const proofs = headerValues(request.headers, 'dpop');
    if (proofs.length === 0) return token === null ? missingCredentials(ctx) : fail('invalid_dpop_proof', 'missing DPoP proof');
    if (proofs.length > 1) return fail('invalid_dpop_proof', 'more than one DPoP header');
    // Step 2: a single well-formed JWT.
    const proof = proofs[0] ?? '';
    if (proof.length > maxProofBytes) return fail('invalid_dpop_proof', 'DPoP proof too large');
    const parts = proof.split('.');
    // An empty signature passes this shape check only to be refused below with a clearer reason (alg none, bad signature).
    if (parts.length !== 3 || !parts.every((p, i) => B64URL.test(p) || (i === 2 && p === ''))) return fail('invalid_dpop_proof', 'the DPoP proof is not a compact JWS');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    // Steps 4, 5, 7: typ, alg, jwk.
    const header = parseHeader(headerPart);
    if ('ok' in header) return header;
    // Step 3: required claims.
    const claims = decodeJson(payloadPart);
    if (!claims) return fail('invalid_dpop_proof', 'the JWT payload is not a JSON object');
    const missing = missingClaim(claims);
    if (missing) return fail('invalid_dpop_proof', missing);
    const c = claims as DpopClaims;
    // Step 6: the signature, with the key from the jwk header parameter.
    const signingInput = Buffer.from(`${headerPart}.${payloadPart}`, 'latin1');
    if (!verifyJws(header.alg, header.key, signingInput, Buffer.from(signaturePart, 'base64url'))) {
      return fail('invalid_dpop_proof', 'the DPoP proof signature does not verify');
    }
    // Step 8: htm.
    if (c.htm !== request.method) return fail('invalid_dpop_proof', 'htm does not match the request method');
    // Step 9: htu, normalized, without query and fragment.
    const expected = normalizeHtu(request.url);
    if (expected === null) return fail('invalid_request', 'the request URL is not an absolute http(s) URL');
    if (normalizeHtu(c.htu) !== expected) return fail('invalid_dpop_proof', 'htu does not match the request URI');
    // Step 11: iat window in both directions.
    const nowSec = now / 1000;
    if (c.iat < nowSec - maxAge) return fail('invalid_dpop_proof', 'the DPoP proof is too old (iat)');
    if (c.iat > nowSec + maxFuture) return fail('invalid_dpop_proof', 'the DPoP proof is issued in the future (iat)');
    // Step 12: ath and the token's key binding.
    if (token !== null) {
      if (c.ath === undefined) return fail('invalid_dpop_proof', 'ath is required with an access token');
      if (!equalStrings(c.ath, accessTokenHash(token))) return fail('invalid_dpop_proof', 'ath does not match the access token');
      if (request.expectedJkt === undefined) return fail('invalid_token', 'the access token has no known DPoP key binding');
    }
    if (request.expectedJkt !== undefined && !equalStrings(request.expectedJkt, header.jkt)) {
      return fail('invalid_token', 'Invalid DPoP key binding');
    }
    // Step 10: nonce (RFC 9449 §8-9): once issued, required and checked.
    if (nonceStore) {
      if (c.nonce !== undefined) {
        if (!(await nonceStore.isValid(header.jkt, c.nonce, now))) {
          return fail('use_dpop_nonce', 'the DPoP nonce is unknown or expired', await nonceStore.issue(header.jkt, now));
        }
      } else if (options.requireNonce || (await nonceStore.isRequired(header.jkt, now))) {
        return fail('use_dpop_nonce', 'a DPoP nonce is required', await nonceStore.issue(header.jkt, now));
      }
    }
    // RFC 9449 §11.1: a jti is accepted once while its proof could still pass the iat check.
    const replayId = createHash('sha256').update(`${header.jkt}.${c.jti}`).digest('base64url');
    const outcome = await replayCache.record(replayId, (c.iat + maxAge) * 1000 + 1000, now);
    if (outcome === 'replay') return fail('invalid_dpop_proof', 'the DPoP proof was already used (jti replay)');
    if (outcome === 'full') return fail('invalid_dpop_proof', 'the replay cache is full; retry later');
    return { ok: true, jkt: header.jkt, claims: c, alg: header.alg, publicJwk: header.jwk, tokenPresented: token !== null };
  };

  return {
    verify,
    algorithms,
    async issueNonce(jkt) {
      if (!nonceStore) throw new CoreError('ERR_BAD_REQUEST', 'this DPoP verifier has no nonce store');
      return nonceStore.issue(jkt, clock());
    },
  };
}

function publicMembers(jwk: Record<string, unknown>): PublicJwk {
  const out: Record<string, unknown> = {};
  for (const name of ['kty', 'crv', 'x', 'y', 'n', 'e']) if (typeof jwk[name] === 'string') out[name] = jwk[name];
  return out as PublicJwk;
}

function missingClaim(claims: Record<string, unknown>): string | null {
  if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256) return 'jti is missing or malformed';
  if (typeof claims.htm !== 'string') return 'htm is missing';
  if (typeof claims.htu !== 'string') return 'htu is missing';
  if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) return 'iat is missing or not a number';
  if (claims.ath !== undefined && typeof claims.ath !== 'string') return 'ath is not a string';
  if (claims.nonce !== undefined && typeof claims.nonce !== 'string') return 'nonce is not a string';
  return null;
}

/** typ compares as a media type: case-insensitive, "application/" optional (RFC 7515 §4.1.9). */
function isDpopTyp(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'dpop+jwt';
}

function decodeJson(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
