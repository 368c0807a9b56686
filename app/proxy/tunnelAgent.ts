/**
 * The keep-alive HTTPS agent for origins of inspected tunnels: connects directly, or through the
 * upstream proxy with CONNECT and then TLS on top, verifying the origin's certificate either way.
 */
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { openTunnel, type UpstreamRoutes } from './upstream.ts';

/** An https.Agent whose connections follow the (current) upstream routes. */
export function createTunnelAgent(options: AgentOptions, routes: () => UpstreamRoutes, connectTimeoutMs: number): HttpsAgent {
  return new TunnelAgent(options, routes, connectTimeoutMs);
}

class TunnelAgent extends HttpsAgent {
  readonly #routes: () => UpstreamRoutes;
  readonly #connectTimeoutMs: number;

  constructor(options: AgentOptions, routes: () => UpstreamRoutes, connectTimeoutMs: number) {
    super(options);
    this.#routes = routes;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.host ?? options.hostname ?? 'localhost';
    const port = Number(options.port ?? 443);
    const upstream = this.#routes().forTunnel(host, port);
    if (upstream === null) return super.createConnection(options, callback);
    openTunnel(upstream, host, port, this.#connectTimeoutMs).then(
      (socket) => {
        // host stays in the options: with an existing socket it is only used to check the certificate.
        callback?.(null, tlsConnect({ ...(options as ConnectionOptions), socket }));
      },
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}
