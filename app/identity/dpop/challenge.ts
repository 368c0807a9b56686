/**
 * The failure side of DPoP verification: the RFC's error codes, the HTTP status that goes with
 * each, and the `WWW-Authenticate: DPoP ...` challenge (error, error_description, algs).
 * @see RFC 9449 §7.1 (challenge parameters), §8-9 (use_dpop_nonce), RFC 6750 §3
 */

/** The error codes RFC 9449 and RFC 6750 define for a DPoP request. */
export type DpopErrorCode = 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** Who is verifying: a resource server answers 401 with a challenge; an authorization server 400 with a JSON error. */
export type VerifierRole = 'resource-server' | 'authorization-server';

export type DpopFailure = Readonly<{
  ok: false;
  error: DpopErrorCode;
  /** Human explanation for developers; never contains the proof, token or key. */
  description: string;
  status: 400 | 401;
  /** The WWW-Authenticate header value to send (a resource server must; an authorization server may). */
  wwwAuthenticate: string;
  /** A fresh nonce to send as the DPoP-Nonce response header (use_dpop_nonce). */
  dpopNonce?: string;
}>;

export type ChallengeContext = Readonly<{ role: VerifierRole; algorithms: readonly string[]; realm?: string }>;

/** A failure value with the right status and challenge. */
export function failure(ctx: ChallengeContext, error: DpopErrorCode, description: string, dpopNonce?: string): DpopFailure {
  const status: 400 | 401 = ctx.role === 'authorization-server' || error === 'invalid_request' ? 400 : 401;
  const clean = sanitize(description);
  return {
    ok: false,
    error,
    description: clean,
    status,
    wwwAuthenticate: challenge(ctx, { error, description: clean }),
    ...(dpopNonce !== undefined ? { dpopNonce } : {}),
  };
}

/**
 * A request with no credentials at all: RFC 6750 §3.1 says the challenge carries no error code
 * (RFC 9449 Figure 15), so the challenge is only `DPoP algs="..."`.
 */
export function missingCredentials(ctx: ChallengeContext): DpopFailure {
  return {
    ok: false,
    error: 'invalid_request',
    description: 'no DPoP proof or access token in the request',
    status: ctx.role === 'authorization-server' ? 400 : 401,
    wwwAuthenticate: challenge(ctx, null),
  };
}

/** `DPoP [realm="..", ][error="..", error_description="..", ]algs="ES256 ..."`. */
export function challenge(ctx: ChallengeContext, err: Readonly<{ error: DpopErrorCode; description: string }> | null): string {
  const params: string[] = [];
  if (ctx.realm !== undefined) params.push(`realm="${sanitize(ctx.realm)}"`);
  if (err) params.push(`error="${err.error}"`, `error_description="${sanitize(err.description)}"`);
  params.push(`algs="${ctx.algorithms.join(' ')}"`);
  return `DPoP ${params.join(', ')}`;
}

/** Quoted-string safe: printable ASCII without '"' or '\', bounded. */
function sanitize(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "'").slice(0, 200);
}
