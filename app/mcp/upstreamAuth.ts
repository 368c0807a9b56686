/**
 * The credential the remote gateway sends upstream: the token lives in the keychain (never in
 * the client's config), sent DPoP-bound (RFC 9449) when the upstream asks for DPoP or the
 * operator says so, as a bearer token otherwise.
 */
import { CoreError } from '../api/errors.ts';
import { agentIdentity } from '../identity/agentIdentity.ts';
import { createAgentKeyManager, type AgentSigner } from '../identity/agentKeys.ts';
import { createCredentialStore } from '../identity/credentials.ts';
import { createDpopProof } from '../identity/dpop/proof.ts';
import type { KeyStore } from '../identity/keyStore.ts';

/** auto: bearer until the upstream challenges with `WWW-Authenticate: DPoP`, then DPoP. */
export type DpopMode = 'auto' | 'always' | 'never';

export type UpstreamAuth = Readonly<{
  /** Authorization (and DPoP) headers for one request; empty without a credential. */
  headers(method: string, url: URL): Promise<Record<string, string>>;
  /**
   * Learns from a 401/400 answer (a DPoP challenge, a DPoP-Nonce). True when a retry with
   * new headers may succeed.
   */
  learn(status: number, headers: Headers): boolean;
  usesDpop(): boolean;
}>;

export type UpstreamAuthOptions = Readonly<{
  credential: string | null;
  upstream: URL;
  dpop: DpopMode;
  keyStore: KeyStore;
  dataDir: string;
  /** Whose DPoP key signs the proofs (an agent kind). */
  agent: string;
}>;

/** Loads the credential now, so a missing one fails at start, not on the first call. */
export async function createUpstreamAuth(options: UpstreamAuthOptions): Promise<UpstreamAuth> {
  if (options.credential === null) return { headers: async () => ({}), learn: () => false, usesDpop: () => false };
  const token = await createCredentialStore(options.keyStore, options.dataDir).tokenFor(options.credential, options.upstream.hostname);
  if (token === null) {
    throw new CoreError('ERR_NOT_FOUND', `no credential '${options.credential}' for host ${options.upstream.hostname}: store it with 'cordon credentials set --name ${options.credential} --host ${options.upstream.hostname}'`);
  }
  let dpop = options.dpop === 'always';
  let nonce: string | undefined;
  let signer: Promise<AgentSigner> | null = null;
  const signerOf = (): Promise<AgentSigner> =>
    (signer ??= createAgentKeyManager({ keyStore: options.keyStore, dataDir: options.dataDir }).signerFor(agentIdentity(options.agent)));
  return {
    async headers(method, url): Promise<Record<string, string>> {
      if (!dpop) return { authorization: `Bearer ${token}` };
      const proof = createDpopProof(await signerOf(), { htm: method, htu: url, accessToken: token, ...(nonce !== undefined ? { nonce } : {}) });
      return { authorization: `DPoP ${token}`, dpop: proof };
    },
    learn(status, headers) {
      if (options.dpop === 'never') return false;
      const newNonce = headers.get('dpop-nonce');
      const challenge = headers.get('www-authenticate') ?? '';
      let retry = false;
      if (newNonce && newNonce !== nonce) {
        // RFC 9449 §8/§9: the newest nonce goes into the next proof; a 401/400 asked for it.
        nonce = newNonce;
        retry = (status === 401 || status === 400) && (dpop || /\bDPoP\b/i.test(challenge));
      }
      if (status === 401 && !dpop && options.dpop === 'auto' && /(^|,)\s*DPoP\b/i.test(challenge)) {
        dpop = true;
        retry = true;
      }
      return retry;
    },
    usesDpop: () => dpop,
  };
}
