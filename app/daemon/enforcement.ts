/**
 * The enforcement point, wired: the loopback proxy asks attribution who is calling, the anomaly
 * detector what is unusual, the policy what to do, the approval queue when policy says ask, and
 * writes one audit event per request or tunnel. Keys and the CA come from the OS keychain; when
 * it is unreachable the proxy still runs, and inspection and DPoP fail closed.
 */
import type { ApprovalSubject } from '../api/approvals.ts';
import type { CordonEvent, LocalActionRequest, LocalActionResult, McpToolsChange } from '../api/control.ts';
import type { Decision, DecisionReason, EgressRequest, Principal } from '../api/enforcement.ts';
import type { Inventory } from '../api/inventory.ts';
import type { EffectivePolicyView, LocalAction, PolicyProblem } from '../api/policy.ts';
import type { DestinationContext } from '../api/sync.ts';
import { effectivePolicyView } from '../policy/explain.ts';
import { redactText } from '../audit/redact.ts';
import { decideLocalAction } from '../policy/local.ts';
import { createAnomalyDetector, type AnomalyDetector } from '../anomaly/detector.ts';
import { createBaseline } from '../anomaly/baseline.ts';
import { createApprovalQueue, type ApprovalQueue } from '../approvals/approvalQueue.ts';
import { createAttributor } from '../attribution/index.ts';
import { loadNativeSockDiag } from '../attribution/linux/nativeSockDiag.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { agentIdentity } from '../identity/agentIdentity.ts';
import { createAgentKeyManager, type AgentKeyManager } from '../identity/agentKeys.ts';
import { ensureRootCa, exportCaBundle } from '../identity/ca/rootCa.ts';
import { createLeafIssuer, type LeafIssuer } from '../identity/ca/leafCache.ts';
import { createCredentialStore, type CredentialStore } from '../identity/credentials.ts';
import { createDpopProof } from '../identity/dpop/proof.ts';
import { createOsKeyStore, type KeyStore } from '../identity/keyStore.ts';
import { decide, type DecisionInput } from '../policy/decide.ts';
import { loadEffectivePolicy, type LoadedPolicy } from '../policy/load.ts';
import { addUserRule, rulesFromAnswer } from '../policy/userRules.ts';
import { createProxyServer } from '../proxy/server.ts';
import { upstreamFromEnv } from '../proxy/upstream.ts';
import type { ProxyEvent, ProxyHooks, RunningProxy } from '../proxy/types.ts';
import { CoreError } from '../api/errors.ts';
import type { CordonPaths } from '../util/paths.ts';
import type { Logger } from '../util/log.ts';
import { watchPaths, type PathWatcher } from '../util/pathWatch.ts';
import type { SettingsWatch } from './daemonSettings.ts';
import { join } from 'node:path';

export type EnforcementStatus = {
  readonly paused: { readonly until: string } | null;
  readonly proxy: { readonly url: string; readonly port: number; readonly mode: string; readonly caFile: string | null; readonly stats: unknown } | null;
  readonly keychain: { readonly available: boolean; readonly error: string | null };
  readonly ca: { readonly bundle: string | null };
  readonly policy: { readonly problems: number; readonly rules: number };
  readonly approvals: { readonly pending: number };
};

export type Enforcement = Readonly<{
  approvals: ApprovalQueue;
  keyManager: AgentKeyManager | null;
  keyStore: KeyStore | null;
  /** Installs the fleet policy layer (from the sync client) and reloads. */
  setFleetPolicy(policy: { source: string; text: string } | null): Promise<void>;
  /** Where approval prompts get their fleet context ("allowed on N other devices"), once enrolled. */
  setFleetContext(lookup: ((host: string) => Promise<DestinationContext | null>) | null): void;
  status(): EnforcementStatus;
  policyProblems(): readonly PolicyProblem[];
  policyView(): EffectivePolicyView;
  reloadPolicy(reason: string): Promise<void>;
  /** Records what the MCP gateway reports when a server's tools changed since they were approved. */
  recordToolsChange(change: McpToolsChange): Promise<{ auditId: string }>;
  /** Decides a local action (hook, MCP gateway), waiting for an approval when policy asks. */
  decideLocal(request: LocalActionRequest): Promise<LocalActionResult>;
  applySettings(): void;
  /** Pauses enforcement for some minutes (refused when IT does not allow pausing). */
  pause(minutes: number): { until: string };
  resume(): void;
  pausedUntil(): string | null;
  close(): Promise<void>;
}>;

export type EnforcementOptions = Readonly<{
  paths: CordonPaths;
  env: NodeJS.ProcessEnv;
  log: Logger;
  settings: SettingsWatch;
  audit: AuditLog;
  inventory: () => Inventory | null;
  /** Pushes a recorded event (decisions, approvals, policy reloads) to control-API subscribers. */
  publish: (event: CordonEvent) => void;
}>;

export async function startEnforcement(options: EnforcementOptions): Promise<Enforcement> {
  const { paths, env, log, settings, audit } = options;
  const cleanups: (() => Promise<void> | void)[] = [];
  // Pausing (tray, `cordon pause`) drops to monitor mode for a while: decide and record, block nothing.
  let pausedUntil: number | null = null;
  let resumeTimer: NodeJS.Timeout | null = null;
  const effectiveMode = (): 'monitor' | 'enforce' => (pausedUntil !== null && Date.now() < pausedUntil ? 'monitor' : settings.current().mode);
  cleanups.push(() => {
    if (resumeTimer) clearTimeout(resumeTimer);
  });

  const identity = await openIdentity(paths, env, log);
  /** The fleet layer, as the sync client last received it. */
  let fleetPolicy: { source: string; text: string } | null = null;
  let fleetContext: ((host: string) => Promise<DestinationContext | null>) | null = null;
  cleanups.push(async () => identity.keyManager?.flush());

  let loaded: LoadedPolicy = await loadPolicy();
  let policyWatcher: PathWatcher | null = null;
  const watchPolicy = (files: readonly string[]): void => {
    if (policyWatcher) void policyWatcher.close();
    policyWatcher = watchPaths(files, {
      onChange: (path, detail) => void reloadPolicy(`${detail} ${path}`),
      onError: (error, path) => log.warn('policy watcher error', { error, path }),
    });
  };
  watchPolicy(loaded.watchPaths);
  cleanups.push(async () => policyWatcher?.close());

  const detector: AnomalyDetector = createAnomalyDetector({ baseline: createBaseline(join(paths.dataDir, 'baseline.json')) });
  cleanups.push(() => detector.save());

  const approvals = createApprovalQueue({
    timeoutMs: settings.current().settings.approvalTimeoutSeconds * 1000,
    defaultAction: settings.current().settings.approvalTimeoutAction,
    onAlways: (_approval, answer, context) => {
      const input = context as DecisionInput | undefined;
      if (!input) return;
      void addUserRule(paths, rulesFromAnswer(input, answer === 'allow-always' ? 'allow' : 'deny'))
        .then((result) => {
          if (!result.ok) log.warn('could not save the always answer as a rule', { reason: result.reason, message: result.message });
          return reloadPolicy('always answer');
        })
        .catch((error: unknown) => log.error('saving an always answer failed', { error }));
    },
    onChange: (approval) => {
      if (approval.status === 'pending' && approval.count === 1) {
        options.publish(audit.append('approval.requested', `approval asked: ${describeSubject(approval.subject)} by ${approval.agent?.name ?? 'an unattributed process'}`, approval, approval.id));
      } else if (approval.status !== 'pending') {
        options.publish(audit.append('approval.answered', `approval ${approval.status}: ${describeSubject(approval.subject)} (${approval.answer?.answer ?? ''})`, approval, approval.id));
      }
    },
  });
  cleanups.push(() => approvals.close());

  const attributor = createAttributor({ inventory: options.inventory });
  cleanups.push(() => attributor.close());
  if (process.platform === 'linux') {
    // Which way connections are looked up, for whoever wonders why attribution is slow.
    const addon = loadNativeSockDiag();
    if (typeof addon === 'function') log.info('attribution: sock_diag lookups in process (native addon)');
    else log.info('attribution: sock_diag lookups through the python3 helper, or /proc/net/tcp without python3', { addon });
  }

  const decideHook = async (request: EgressRequest, principal: Principal): Promise<Decision> => {
    const url = request.path !== undefined ? `${request.kind === 'http' ? 'http' : 'https'}://${request.host}:${request.port}${request.path}` : undefined;
    const assessment = await detector.assess(principal, request, { ...(url ? { url } : {}), ...(request.headers ? { headers: request.headers } : {}) });
    const flags: DecisionReason[] = assessment.flags.map((f) => ({ code: f.code, message: f.message }));
    const input: DecisionInput = {
      request,
      principal,
      flags,
      secrets: flags.some((f) => f.code.startsWith('secret-in-')),
      mode: effectiveMode(),
      learning: assessment.learning,
    };
    const decision = decide(loaded.policy, input);
    if (decision.action !== 'ask') return decision;
    const subject: ApprovalSubject = { kind: 'egress', host: request.host, port: request.port, ...(request.method ? { method: request.method } : {}), ...(request.path ? { path: request.path.split('?')[0] ?? '' } : {}) };
    // What the rest of the fleet did with this host, when enrolled (bounded wait, cached per host).
    const fleet = fleetContext ? await fleetContext(request.host) : null;
    const outcome = await approvals.request({ principal, subject, reasons: decision.reasons, rule: decision.rule, context: input, ...(fleet ? { fleet } : {}) });
    return {
      ...decision,
      action: outcome.action,
      reasons: [...decision.reasons, { code: `approval-${outcome.by}`, message: outcome.by === 'user' ? `answered ${outcome.answer} (approval ${outcome.approvalId})` : `nobody answered: ${outcome.action} by default (${outcome.by}, approval ${outcome.approvalId})` }],
    };
  };

  const hooks: ProxyHooks = {
    attribute: (conn) => attributor.attribute(conn),
    decide: decideHook,
    record(event: ProxyEvent): string {
      detector.observe(event.principal, event.request, event.bytesUp);
      const input = {
        principal: event.principal,
        request: event.request,
        decision: event.decision,
        bytesUp: event.bytesUp,
        bytesDown: event.bytesDown,
        durationMs: event.durationMs,
        status: event.status,
      };
      if (event.outcome === 'blocked' || event.decision.action === 'deny') {
        const recorded = audit.appendDecision(input);
        options.publish(recorded);
        return recorded.id;
      }
      const queued = audit.enqueueDecision(input);
      queued.committed.then(options.publish, () => undefined);
      return queued.id;
    },
    ...(identity.leaves ? { tls: { secureContextFor: (host: string) => identity.leaves!.leafFor(host).secureContext() } } : {}),
    ...(identity.keyManager && identity.credentials ? { dpop: dpopAuthorizer(identity.keyManager, identity.credentials) } : {}),
  };

  let proxy: RunningProxy | null = null;
  try {
    proxy = await createProxyServer({
      port: settings.current().settings.proxyPort,
      hooks,
      log: log.child({ component: 'proxy' }),
      mode: effectiveMode(),
      upstream: upstreamFromEnv(env),
    });
    cleanups.push(async () => proxy?.close());
  } catch (error) {
    log.error('the proxy could not start; discovery and the control API keep running', { error });
  }

  async function loadPolicy(): Promise<LoadedPolicy> {
    const result = await loadEffectivePolicy({ paths, env, settings: settings.report(), ...(fleetPolicy ? { fleet: fleetPolicy } : {}) });
    for (const p of result.problems) {
      (p.severity === 'error' ? log.error : log.warn)(`policy: ${p.message}`, { file: p.file, line: p.line, rule: p.ruleId });
    }
    return result;
  }

  async function reloadPolicy(reason: string): Promise<void> {
    try {
      loaded = await loadPolicy();
      watchPolicy(loaded.watchPaths);
      options.publish(audit.append('policy.reloaded', `policy reloaded (${reason}): ${loaded.problems.length} problem(s)`, { reason, problems: loaded.problems.length }));
    } catch (error) {
      log.error('policy reload failed; the previous policy stays in force', { error });
    }
  }

  const decideLocal = async (request: LocalActionRequest): Promise<LocalActionResult> => {
    const attributed: Principal = request.pid !== undefined
      ? await attributor.attributePid(request.pid)
      : { attributed: false, reason: 'no-pid: the caller gave no process id', chain: [], agent: null };
    // The hook knows which agent runs it; the chain may not (a renamed binary, a wrapper).
    const principal: Principal = attributed.agent
      ? attributed
      : { ...attributed, agent: { id: `kind:${request.agent}`, kind: request.agent, name: request.agent, pid: attributed.chain[1]?.pid ?? 0, exe: attributed.chain[1]?.exe ?? null } };
    const decision = decideLocalAction(loaded.policy, { action: request.action, principal, mode: effectiveMode() });
    let final: 'allow' | 'log' | 'deny' = decision.action === 'ask' ? 'deny' : decision.action;
    let reasons = decision.reasons;
    if (decision.action === 'ask') {
      const outcome = await approvals.request({ principal, subject: localSubject(request.action, request.cwd), reasons: decision.reasons, rule: decision.rule });
      final = outcome.action;
      reasons = [...reasons, { code: `approval-${outcome.by}`, message: outcome.by === 'user' ? `answered ${outcome.answer}` : `nobody answered: ${outcome.action} by default` }];
    }
    const what = describeLocal(request.action);
    // A deny is fsynced before it is answered; an allow is committed before it is answered and
    // fsynced in the background right after (docs/ARCHITECTURE.md, "The audit trail's durability").
    const event = (final === 'deny' ? audit.append : audit.appendSyncLater)(`local.${final}`, `${final} ${what} by ${principal.agent?.name ?? request.agent} (${request.source})`, {
      source: request.source,
      sessionId: request.sessionId ?? null,
      cwd: request.cwd ?? null,
      action: redactLocal(request.action),
      details: request.details ?? null,
      agent: principal.agent,
      chain: principal.chain.map((p) => ({ pid: p.pid, exe: p.exe })),
      decision: { action: final, policyAction: decision.action, rule: decision.rule, layer: decision.layer, reasons },
    }, principal.agent?.id);
    options.publish(event);
    const message = final === 'deny' ? `Cordon blocked ${what}: ${reasons.map((r) => r.message).join('; ')} (audit ${event.id})` : `Cordon ${final === 'log' ? 'allowed and logged' : 'allowed'} ${what}`;
    return { action: final, decision: { ...decision, action: final, reasons }, auditId: event.id, message };
  };

  /** A rug pull (or new tools) seen by the MCP gateway: evidence in the audit trail, high severity. */
  const recordToolsChange = async (change: McpToolsChange): Promise<{ auditId: string }> => {
    const principal = change.pid !== undefined ? await attributor.attributePid(change.pid) : null;
    const parts = [change.changed.length > 0 ? `changed: ${change.changed.join(', ')}` : null, change.added.length > 0 ? `new: ${change.added.join(', ')}` : null].filter(Boolean);
    const event = audit.append('mcp.tools-changed', `MCP server ${change.server} (${change.agent}) offers tools that differ from the approved set (${parts.join('; ')}); they are blocked until approved`, {
      server: change.server,
      agentKind: change.agent,
      changed: change.changed,
      added: change.added,
      severity: change.changed.length > 0 ? 'high' : 'medium',
      agent: principal?.agent ?? null,
      chain: principal?.chain.map((p) => ({ pid: p.pid, exe: p.exe })) ?? [],
    }, principal?.agent?.id);
    options.publish(event);
    return { auditId: event.id };
  };

  return {
    approvals,
    decideLocal,
    recordToolsChange,
    keyManager: identity.keyManager,
    keyStore: identity.keyStore,
    setFleetContext(lookup) {
      fleetContext = lookup;
    },
    async setFleetPolicy(policy) {
      fleetPolicy = policy ? { source: policy.source, text: policy.text } : null;
      await reloadPolicy('fleet policy received');
    },
    policyProblems: () => loaded.problems,
    policyView: () => effectivePolicyView(loaded.policy),
    reloadPolicy,
    pause(minutes) {
      const report = settings.report();
      const entry = report.entries.find((e) => e.key === 'allowPause');
      if (!report.effective.allowPause) {
        throw new CoreError('ERR_SETTINGS_LOCKED', entry?.locked ? 'pausing is turned off by IT (allowPause)' : 'pausing is turned off (setting allowPause)');
      }
      pausedUntil = Date.now() + minutes * 60_000;
      if (resumeTimer) clearTimeout(resumeTimer);
      resumeTimer = setTimeout(() => {
        pausedUntil = null;
        proxy?.setMode(effectiveMode());
        options.publish(audit.append('protection.resumed', 'protection resumed after the pause', {}));
      }, minutes * 60_000);
      resumeTimer.unref();
      proxy?.setMode('monitor');
      const until = new Date(pausedUntil).toISOString();
      options.publish(audit.append('protection.paused', `protection paused for ${minutes} minute(s), until ${until}`, { minutes, until }));
      return { until };
    },
    resume() {
      if (pausedUntil === null) return;
      pausedUntil = null;
      if (resumeTimer) clearTimeout(resumeTimer);
      proxy?.setMode(effectiveMode());
      options.publish(audit.append('protection.resumed', 'protection resumed', {}));
    },
    pausedUntil: () => (pausedUntil !== null && Date.now() < pausedUntil ? new Date(pausedUntil).toISOString() : null),
    applySettings() {
      proxy?.setMode(effectiveMode());
      void reloadPolicy('settings changed');
    },
    status: () => ({
      paused: pausedUntil !== null && Date.now() < pausedUntil ? { until: new Date(pausedUntil).toISOString() } : null,
      proxy: proxy ? { url: proxy.url, port: proxy.port, mode: proxy.mode(), caFile: identity.bundle, stats: proxy.stats() } : null,
      keychain: { available: identity.keyManager !== null, error: identity.error },
      ca: { bundle: identity.bundle },
      policy: { problems: loaded.problems.length, rules: loaded.policy.layers.reduce((n, l) => n + l.rules.length, 0) },
      approvals: { pending: approvals.pending().length },
    }),
    async close() {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log.warn('enforcement cleanup failed', { error });
        }
      }
    },
  };
}

type Identity = {
  keyStore: KeyStore | null;
  keyManager: AgentKeyManager | null;
  credentials: CredentialStore | null;
  leaves: LeafIssuer | null;
  bundle: string | null;
  error: string | null;
};

async function openIdentity(paths: CordonPaths, env: NodeJS.ProcessEnv, log: Logger): Promise<Identity> {
  try {
    const keyStore = createOsKeyStore(env.CORDON_KEYCHAIN_SERVICE ? { service: env.CORDON_KEYCHAIN_SERVICE } : {});
    const keyManager = createAgentKeyManager({ keyStore, dataDir: paths.dataDir });
    const caOptions = { keyStore, dataDir: paths.dataDir };
    const { ca } = await ensureRootCa(caOptions);
    const leaves = await createLeafIssuer(ca);
    const { path: bundle } = await exportCaBundle(caOptions);
    return { keyStore, keyManager, credentials: createCredentialStore(keyStore, paths.dataDir), leaves, bundle, error: null };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error('the OS keychain is unavailable: TLS inspection and DPoP are off and fail closed', { error: message });
    return { keyStore: null, keyManager: null, credentials: null, leaves: null, bundle: null, error: message };
  }
}

function dpopAuthorizer(keyManager: AgentKeyManager, credentials: CredentialStore): NonNullable<ProxyHooks['dpop']> {
  return {
    async authorize(principal, request) {
      const host = new URL(request.url).hostname;
      const token = await credentials.tokenFor(request.credential, host);
      if (token === null) throw new Error(`credential '${request.credential}' is not stored for ${host}`);
      const identity = principal.agent ? agentIdentity(principal.agent.kind, principal.agent.exe ? { executable: principal.agent.exe } : {}) : agentIdentity('unattributed');
      const signer = await keyManager.signerFor(identity);
      const proof = createDpopProof(signer, { htm: request.method, htu: request.url, accessToken: token, ...(request.nonce ? { nonce: request.nonce } : {}) });
      return { authorization: `DPoP ${token}`, dpop: proof };
    },
  };
}

function localSubject(action: LocalAction, cwd: string | undefined): ApprovalSubject {
  switch (action.kind) {
    case 'command':
      return { kind: 'command', command: redactText(action.command), cwd: cwd ?? null };
    case 'file':
      return { kind: 'file', path: action.path, operation: action.operation };
    case 'mcp':
      return { kind: 'mcp-tool', server: action.server, tool: action.tool };
  }
}

function redactLocal(action: LocalAction): LocalAction {
  return action.kind === 'command' ? { kind: 'command', command: redactText(action.command) } : action;
}

function describeLocal(action: LocalAction): string {
  return describeSubject(localSubject(action, undefined));
}

function describeSubject(subject: ApprovalSubject): string {
  switch (subject.kind) {
    case 'egress':
      return `${subject.method ? `${subject.method} ` : ''}${subject.host}:${subject.port}${subject.path ?? ''}`;
    case 'command':
      return `command ${subject.command.slice(0, 80)}`;
    case 'mcp-tool':
      return `MCP tool ${subject.server}/${subject.tool}`;
    case 'file':
      return `${subject.operation} ${subject.path}`;
  }
}
