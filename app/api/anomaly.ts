/**
 * Anomalous-egress flags: what the detector can raise about a request, each with a human
 * explanation. Policy maps each flag code to log, ask or deny. Types only.
 */
import type { FlagCode } from './policy.ts';

/** Flag codes the detector raises: the policy's flag vocabulary (app/api/policy.ts) minus the
 * aggregate `secrets` signal, which the daemon derives from the secret-in-* flags. */
export type AnomalyFlagCode = Exclude<FlagCode, 'secrets'>;

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
