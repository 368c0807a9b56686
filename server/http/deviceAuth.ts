/**
 * Authentication of device calls: `Authorization: DPoP <token>` plus a DPoP proof, checked by the
 * identity issue's verifier against the device's bound key (cnf.jkt), with nonces and the shared
 * replay cache. Unknown tokens are refused before any nonce is issued, so unauthenticated traffic
 * never writes to the database. Node's headersDistinct is passed so doubled headers are seen.
 * @see RFC 9449 §7 (token binding), §9 (nonces)
 */
import type { IncomingMessage } from 'node:http';
import { failure, missingCredentials, type ChallengeContext, type DpopFailure } from '../../app/identity/dpop/challenge.ts';
import { headerValues } from '../../app/identity/dpop/requestHeaders.ts';
import type { DpopSuccess, DpopVerifier } from '../../app/identity/dpop/verify.ts';
import type { DeviceAuth, Devices } from '../store/devices.ts';
import { HttpError } from './respond.ts';

export type AuthenticatedDevice = Readonly<{ device: DeviceAuth; token: string; proof: DpopSuccess }>;

export type DeviceAuthenticator = Readonly<{
  authenticate(req: IncomingMessage, url: string): Promise<AuthenticatedDevice>;
  /** Verifies a proof with no access token (enrollment): the proof key's thumbprint on success. */
  verifyProofOnly(req: IncomingMessage, url: string): Promise<DpopSuccess>;
}>;

const TOKEN_RE = /^(?:dpop|bearer) +(\S+)$/i;

export function createDeviceAuthenticator(verifier: DpopVerifier, devices: Devices): DeviceAuthenticator {
  const ctx: ChallengeContext = { role: 'resource-server', algorithms: verifier.algorithms };

  const verify = async (req: IncomingMessage, url: string, expectedJkt?: string): Promise<DpopSuccess> => {
    const result = await verifier.verify({ method: req.method ?? 'GET', url, headers: req.headersDistinct, ...(expectedJkt !== undefined ? { expectedJkt } : {}) });
    if (!result.ok) throw refusal(result);
    // RFC 9449 §4.2: htu is the target URI *without* query and fragment; the verifier compares
    // normalized forms, so a proof carrying a query is refused here as malformed.
    if (/[?#]/.test(result.claims.htu)) throw refusal(failure(ctx, 'invalid_dpop_proof', 'htu must not contain a query or fragment'));
    return result;
  };

  return {
    async authenticate(req, url) {
      const auth = headerValues(req.headersDistinct, 'authorization');
      if (auth.length === 0) throw refusal(missingCredentials(ctx));
      const token = auth.length === 1 ? TOKEN_RE.exec(auth[0] ?? '')?.[1] : undefined;
      if (token === undefined) {
        // Several or malformed credentials: the verifier names the problem (before any nonce is issued).
        await verify(req, url);
        throw refusal(failure(ctx, 'invalid_request', 'malformed Authorization header'));
      }
      const device = token.length <= 512 ? await devices.byToken(token) : null;
      if (!device) throw refusal(failure(ctx, 'invalid_token', 'unknown or replaced access token'));
      if (device.revoked) throw refusal(failure(ctx, 'invalid_token', 'this device was revoked'), 'device_revoked');
      const proof = await verify(req, url, device.jkt);
      return { device, token, proof };
    },
    verifyProofOnly(req, url) {
      return verify(req, url);
    },
  };
}

/** A DPoP failure as an HTTP error: status, WWW-Authenticate and a fresh DPoP-Nonce when asked for. */
function refusal(result: DpopFailure, code?: 'device_revoked'): HttpError {
  return new HttpError(result.status, code ?? result.error, result.description, {
    headers: { 'www-authenticate': result.wwwAuthenticate, ...(result.dpopNonce !== undefined ? { 'dpop-nonce': result.dpopNonce } : {}) },
  });
}
