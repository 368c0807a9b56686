/** Small shared pieces: cards, badges, loading and error states, page headings. */
import type { ReactNode } from 'react';
import type { CallState } from '../client/hooks.ts';

export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section aria-labelledby="page-title" className="page">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>{title}</h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Card({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  const id = `card-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section className={wide ? 'card wide' : 'card'} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export function Badge({ tone, children, title }: { tone: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge ${tone}`} title={title}>
      {children}
    </span>
  );
}

/** Tone for a decision action. */
export function actionTone(action: string): Tone {
  if (action === 'deny' || action === 'denied' || action === 'expired' || action === 'refused') return 'bad';
  if (action === 'ask' || action === 'log' || action === 'pending') return 'warn';
  if (action === 'allow' || action === 'allowed') return 'ok';
  return 'muted';
}

/** Shows loading or the error of a call; renders children only with data. */
export function Loaded<T>({ state, children }: { state: CallState<T>; children: (data: T) => ReactNode }) {
  if (state.error && state.data === null) {
    return (
      <p role="alert" className="error">
        Could not load: {state.error.message}
      </p>
    );
  }
  if (state.data === null) return <p aria-busy="true" className="muted">Loading…</p>;
  return <>{children(state.data)}</>;
}

export function Stat({ label, value, tone }: { label: string; value: ReactNode; tone?: Tone }) {
  return (
    <div className={`stat ${tone ?? ''}`}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}
