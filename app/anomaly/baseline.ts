/**
 * The per-agent baseline learned from history: which destinations each agent has talked to, and
 * its usual request rate and bytes out per minute (exponentially weighted). Bounded in memory,
 * saved to a JSON file (atomic write, throttled) so it survives restarts. Times are injected.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const MAX_DESTINATIONS_PER_AGENT = 5000;
const MAX_AGENTS = 500;
const WINDOW_MS = 60_000;
/** Weight of the newest minute in the moving averages. */
const ALPHA = 0.2;

export type AgentBaseline = {
  firstSeenMs: number;
  /** destination ("host:port") -> last seen ms */
  destinations: Record<string, number>;
  /** Moving averages per minute over completed minutes. */
  avgRequestsPerMinute: number;
  avgBytesOutPerMinute: number;
  minutesObserved: number;
  /** The minute being counted now. */
  windowStartMs: number;
  windowRequests: number;
  windowBytesOut: number;
};

export type BaselineFile = { version: 1; agents: Record<string, AgentBaseline> };

export type Baseline = Readonly<{
  get(agentId: string): AgentBaseline | undefined;
  /** Records one request (before it is sent) and its bytes (after); returns the agent's baseline. */
  observe(agentId: string, destination: string, bytesOut: number, nowMs: number): AgentBaseline;
  hasSeen(agentId: string, destination: string): boolean;
  /** Current minute's counts, rolled forward to nowMs. */
  currentWindow(agentId: string, nowMs: number): { requests: number; bytesOut: number } | undefined;
  save(): void;
}>;

export function createBaseline(file: string | null): Baseline {
  const data: BaselineFile = load(file);
  let dirty = false;
  let lastSave = 0;

  const roll = (b: AgentBaseline, nowMs: number): void => {
    while (nowMs - b.windowStartMs >= WINDOW_MS) {
      b.avgRequestsPerMinute = b.minutesObserved === 0 ? b.windowRequests : ALPHA * b.windowRequests + (1 - ALPHA) * b.avgRequestsPerMinute;
      b.avgBytesOutPerMinute = b.minutesObserved === 0 ? b.windowBytesOut : ALPHA * b.windowBytesOut + (1 - ALPHA) * b.avgBytesOutPerMinute;
      b.minutesObserved++;
      b.windowStartMs += WINDOW_MS;
      b.windowRequests = 0;
      b.windowBytesOut = 0;
      // Long idle gaps: jump instead of looping minute by minute.
      if (nowMs - b.windowStartMs > 60 * WINDOW_MS) b.windowStartMs = nowMs - ((nowMs - b.windowStartMs) % WINDOW_MS);
    }
  };

  const save = (): void => {
    if (!file || !dirty) return;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
    renameSync(tmp, file);
    dirty = false;
    lastSave = Date.now();
  };

  return {
    get: (id) => data.agents[id],
    hasSeen: (id, destination) => data.agents[id]?.destinations[destination] !== undefined,
    observe(agentId, destination, bytesOut, nowMs) {
      let b = data.agents[agentId];
      if (!b) {
        if (Object.keys(data.agents).length >= MAX_AGENTS) evictOldestAgent(data);
        b = { firstSeenMs: nowMs, destinations: {}, avgRequestsPerMinute: 0, avgBytesOutPerMinute: 0, minutesObserved: 0, windowStartMs: nowMs, windowRequests: 0, windowBytesOut: 0 };
        data.agents[agentId] = b;
      }
      roll(b, nowMs);
      if (b.destinations[destination] === undefined && Object.keys(b.destinations).length >= MAX_DESTINATIONS_PER_AGENT) evictOldestDestination(b);
      b.destinations[destination] = nowMs;
      b.windowRequests += 1;
      b.windowBytesOut += bytesOut;
      dirty = true;
      if (Date.now() - lastSave > 30_000) save();
      return b;
    },
    currentWindow(agentId, nowMs) {
      const b = data.agents[agentId];
      if (!b) return undefined;
      roll(b, nowMs);
      return { requests: b.windowRequests, bytesOut: b.windowBytesOut };
    },
    save,
  };
}

function load(file: string | null): BaselineFile {
  if (!file) return { version: 1, agents: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as BaselineFile;
    if (parsed && parsed.version === 1 && parsed.agents && typeof parsed.agents === 'object') return parsed;
  } catch {
    // Missing or damaged: start learning again rather than failing the daemon.
  }
  return { version: 1, agents: {} };
}

function evictOldestAgent(data: BaselineFile): void {
  let oldest: string | undefined;
  let oldestMs = Infinity;
  for (const [id, b] of Object.entries(data.agents)) {
    const last = Math.max(b.windowStartMs, ...Object.values(b.destinations).slice(0, 50));
    if (last < oldestMs) {
      oldestMs = last;
      oldest = id;
    }
  }
  if (oldest !== undefined) delete data.agents[oldest];
}

function evictOldestDestination(b: AgentBaseline): void {
  let oldest: string | undefined;
  let oldestMs = Infinity;
  for (const [d, t] of Object.entries(b.destinations)) {
    if (t < oldestMs) {
      oldestMs = t;
      oldest = d;
    }
  }
  if (oldest !== undefined) delete b.destinations[oldest];
}
