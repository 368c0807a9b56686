/**
 * The signed-in frame: skip link, top bar (navigation, who is signed in and their role, sign out,
 * light/dark toggle), the live regions where outcomes are announced, and the main landmark.
 * Focus moves to the page title on every navigation.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { Badge } from '../../../../renderer/src/components/ui.tsx';
import { useTheme } from '../../../../renderer/src/theme.ts';
import type { PageName } from '../router.ts';

const NAV: readonly { page: PageName; label: string; adminOnly?: boolean }[] = [
  { page: 'overview', label: 'Overview' },
  { page: 'devices', label: 'Devices' },
  { page: 'agents', label: 'Agents' },
  { page: 'mcp', label: 'MCP servers' },
  { page: 'changes', label: 'Changes' },
  { page: 'audit', label: 'Audit' },
  { page: 'policy', label: 'Policy' },
  { page: 'enroll', label: 'Enroll secrets', adminOnly: true },
  { page: 'users', label: 'Users', adminOnly: true },
];

export type Notice = Readonly<{ id: number; kind: 'error' | 'status'; message: string }>;

export function Layout(props: {
  page: PageName;
  routeKey: string;
  username: string;
  role: string;
  notice: Notice | null;
  onDismiss(): void;
  onSignOut(): void;
  children: ReactNode;
}) {
  const { page, routeKey, username, role, notice, onDismiss, onSignOut, children } = props;
  const [theme, toggle] = useTheme();
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  }, [routeKey]);
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header className="top">
        <span className="brand">◈ Cordon fleet</span>
        <nav aria-label="Console">
          <ul>
            {NAV.filter((n) => !n.adminOnly || role === 'admin').map((n) => (
              <li key={n.page}>
                <a href={`#/${n.page}`} aria-current={page === n.page ? 'page' : undefined}>{n.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="userbox" data-testid="signed-in">
          <span><span className="visually-hidden">Signed in as </span><strong>{username}</strong></span> <Badge tone={role === 'admin' ? 'info' : 'muted'}>{role}</Badge>
          <button type="button" onClick={onSignOut}>Sign out</button>
          <button type="button" onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
            {theme === 'dark' ? '☀ Light' : '☾ Dark'}
          </button>
        </div>
      </header>
      <div className="notices">
        <div role="alert" aria-live="assertive" data-testid="error-region">
          {notice?.kind === 'error' ? (
            <p className="notice notice-error" key={notice.id}>
              {notice.message} <button type="button" className="link" onClick={onDismiss}>Dismiss</button>
            </p>
          ) : null}
        </div>
        <div role="status" aria-live="polite" data-testid="status-region">
          {notice?.kind === 'status' ? <p className="notice notice-status" key={notice.id}>{notice.message}</p> : null}
        </div>
      </div>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
