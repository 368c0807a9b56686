/**
 * Anomalous-egress flags: what the detector can raise about a request, each with a human
 * explanation. Policy maps each flag code to log, ask or deny. Types and constants only.
 */

export const ANOMALY_FLAG_CODES = [
  'first-seen-destination',
  'ip-literal-host',
  'punycode-host',
  'high-entropy-host',
  'paste-service',
  'webhook-service',
  'tunnel-service',
  'file-drop-service',
  'image-proxy-abuse',
  'upload-spike',
  'rate-spike',
  'secret-in-url',
  'secret-in-headers',
  'secret-in-body',
] as const;

export type AnomalyFlagCode = (typeof ANOMALY_FLAG_CODES)[number];

export type AnomalyFlag = {
  readonly code: AnomalyFlagCode;
  /** Human explanation, e.g. "claude-code has never talked to paste.example before". Never a secret value. */
  readonly message: string;
};

export type AnomalyAssessment = {
  readonly flags: readonly AnomalyFlag[];
  /** True while the agent's baseline is still being learned: flags are informational only. */
  readonly learning: boolean;
};
