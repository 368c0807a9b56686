/**
 * The anomalous-egress detector: for one request by one agent, the flags worth a person's
 * attention, each with a human explanation. Combines destination shape (hostShapes.ts), the
 * agent's learned baseline (first-seen destination, rate and upload spikes) and secret scanning
 * (secretScan.ts). While an agent is in its learning period, flags are reported as learning:
 * the caller logs them and blocks or asks nothing.
 */
import type { AnomalyAssessment, AnomalyFlag } from '../api/anomaly.ts';
import type { EgressRequest, Principal } from '../api/enforcement.ts';
import type { Baseline } from './baseline.ts';
import { hostShapeFlags } from './hostShapes.ts';
import { scanForSecrets } from './secretScan.ts';

export type DetectorOptions = Readonly<{
  baseline: Baseline;
  /** How long after an agent is first seen it is only learned, never blocked (default 7 days). */
  learningMs?: number;
  now?: () => number;
  /** Upload spike: bytes out this minute above max(minBytes, factor x the agent's average). */
  uploadSpike?: { factor: number; minBytes: number };
  rateSpike?: { factor: number; minRequests: number };
}>;

export type RequestDetail = Readonly<{
  /** Full URL when visible (plain HTTP or inspected HTTPS). */
  url?: string;
  headers?: Readonly<Record<string, string | readonly string[]>>;
  bodySample?: string;
}>;

export type AnomalyDetector = Readonly<{
  assess(principal: Principal, request: EgressRequest, detail?: RequestDetail): Promise<AnomalyAssessment>;
  /** Records a request into the baseline (call once per request, with bytes when known). */
  observe(principal: Principal, request: EgressRequest, bytesOut: number): void;
  save(): void;
}>;

export function createAnomalyDetector(options: DetectorOptions): AnomalyDetector {
  const now = options.now ?? Date.now;
  const learningMs = options.learningMs ?? 7 * 24 * 3600_000;
  const upload = options.uploadSpike ?? { factor: 10, minBytes: 20 * 1024 * 1024 };
  const rate = options.rateSpike ?? { factor: 10, minRequests: 300 };

  return {
    async assess(principal, request, detail = {}) {
      const agentId = agentKey(principal);
      const agentName = principal.agent?.name ?? 'an unattributed process';
      const destination = `${request.host.toLowerCase()}:${request.port}`;
      const flags: AnomalyFlag[] = hostShapeFlags(request.host, request.path);
      const base = options.baseline.get(agentId);
      if (!options.baseline.hasSeen(agentId, destination)) {
        flags.push({ code: 'first-seen-destination', message: `${agentName} has never connected to ${destination} before` });
      }
      const window = options.baseline.currentWindow(agentId, now());
      if (base && window && base.minutesObserved >= 5) {
        const bytesLimit = Math.max(upload.minBytes, upload.factor * base.avgBytesOutPerMinute);
        if (window.bytesOut > bytesLimit) {
          flags.push({ code: 'upload-spike', message: `${agentName} sent ${mib(window.bytesOut)} in the last minute, over ${upload.factor}x its usual ${mib(base.avgBytesOutPerMinute)}/min` });
        }
        const requestLimit = Math.max(rate.minRequests, rate.factor * base.avgRequestsPerMinute);
        if (window.requests > requestLimit) {
          flags.push({ code: 'rate-spike', message: `${agentName} made ${window.requests} requests in the last minute, over ${rate.factor}x its usual ${base.avgRequestsPerMinute.toFixed(1)}/min` });
        }
      }
      if (detail.url || detail.headers || detail.bodySample) flags.push(...(await scanForSecrets(detail)));
      const learning = !base || now() - base.firstSeenMs < learningMs;
      return { flags, learning };
    },
    observe(principal, request, bytesOut) {
      options.baseline.observe(agentKey(principal), `${request.host.toLowerCase()}:${request.port}`, bytesOut, now());
    },
    save: () => options.baseline.save(),
  };
}

function agentKey(principal: Principal): string {
  return principal.agent?.id ?? 'unattributed';
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
