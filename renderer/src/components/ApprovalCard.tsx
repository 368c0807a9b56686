/**
 * One pending approval: who (agent, process chain, project), what, why, the countdown to the
 * default action, and the four answers, also on the keyboard (a, A, d, D).
 */
import { useEffect, useState } from 'react';
import type { Approval, ApprovalAnswer } from '../../../app/api/approvals.ts';
import { useClient, useNow } from '../client/hooks.ts';
import { countdown, describeFleet, describeSubject, secondsLeft } from '../format.ts';
import { Badge } from './ui.tsx';

const ANSWERS: readonly { answer: ApprovalAnswer; label: string; key: string; tone: string }[] = [
  { answer: 'allow-once', label: 'Allow once', key: 'a', tone: 'primary' },
  { answer: 'allow-always', label: 'Always allow for this agent', key: 'A', tone: '' },
  { answer: 'deny', label: 'Deny', key: 'd', tone: 'danger' },
  { answer: 'deny-always', label: 'Always deny', key: 'D', tone: 'danger' },
];

/** The answer a key press means (a/A/d/D), or null. */
export function answerForKey(key: string): ApprovalAnswer | null {
  return ANSWERS.find((a) => a.key === key)?.answer ?? null;
}

export function ApprovalCard({ approval, onAnswered, keyboard }: { approval: Approval; onAnswered: () => void; keyboard: boolean }) {
  const client = useClient();
  const now = useNow(500);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const left = secondsLeft(approval.expiresAt, now);
  const answer = (a: ApprovalAnswer): void => {
    if (busy) return;
    setBusy(true);
    client
      .call('answerApproval', { id: approval.id, answer: a })
      .then(() => onAnswered())
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  useEffect(() => {
    if (!keyboard) return undefined;
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey || e.altKey) return;
      const a = answerForKey(e.key);
      if (a) {
        e.preventDefault();
        answer(a);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });
  return (
    <article className="approval" aria-labelledby={`ap-${approval.id}`} data-testid="approval">
      <h2 id={`ap-${approval.id}`}>
        {approval.agent?.name ?? 'An unattributed process'} wants to {describeSubject(approval.subject)}
      </h2>
      <dl className="facts">
        <dt>Agent</dt>
        <dd>{approval.agent ? `${approval.agent.name} (${approval.agent.kind}, pid ${approval.agent.pid})` : 'not attributed to a known agent'}</dd>
        <dt>Process chain</dt>
        <dd><code>{approval.chain.length ? approval.chain.join(' ← ') : '—'}</code></dd>
        <dt>Project</dt>
        <dd>{approval.project ? <code>{approval.project}</code> : '—'}</dd>
        <dt>Why</dt>
        <dd>
          <ul className="reasons">{approval.reasons.map((r, i) => <li key={i}><Badge tone="info">{r.code}</Badge> {r.message}</li>)}</ul>
          <span className="muted small">Rule {approval.rule}</span>
        </dd>
        {approval.count > 1 ? (<><dt>Requests waiting</dt><dd>{approval.count}</dd></>) : null}
        {approval.fleet ? (<><dt>Across the fleet</dt><dd data-testid="fleet-context">{describeFleet(approval.fleet)}</dd></>) : null}
      </dl>
      <p className="countdown" role="timer" aria-live="off" data-testid="countdown">
        <strong>{approval.defaultAction === 'deny' ? 'Denied' : 'Allowed'}</strong> automatically in <strong>{countdown(approval.expiresAt, now)}</strong>
        <progress max={Math.max(1, secondsLeft(approval.expiresAt, Date.parse(approval.createdAt)))} value={left} aria-label="Time left" />
      </p>
      <div className="answers" role="group" aria-label="Answer">
        {ANSWERS.map((a, i) => (
          <button key={a.answer} type="button" className={a.tone} disabled={busy} autoFocus={keyboard && i === 0} onClick={() => answer(a.answer)} aria-keyshortcuts={a.key === a.key.toUpperCase() ? `Shift+${a.key}` : a.key}>
            {a.label} <kbd>{a.key}</kbd>
          </button>
        ))}
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
    </article>
  );
}
