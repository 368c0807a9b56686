/**
 * The fleet console app: asks who is signed in, shows the sign-in page until someone is, then the
 * frame and the page the hash names. A 401 from any call (session expired, signed out elsewhere)
 * returns to sign-in with a notice.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ConsoleSession } from '../../../app/api/fleetConsole.ts';
import { useTheme } from '../../../renderer/src/theme.ts';
import { createConsoleApi, getSession, signOut } from './api.ts';
import { Layout, type Notice } from './components/Layout.tsx';
import { ConsoleContext, type Announce, type ConsoleContextValue } from './context.ts';
import { messageOf } from './format.ts';
import { Agents } from './pages/Agents.tsx';
import { Audit } from './pages/Audit.tsx';
import { Changes } from './pages/Changes.tsx';
import { DeviceDetailPage } from './pages/DeviceDetail.tsx';
import { Devices } from './pages/Devices.tsx';
import { EnrollSecrets } from './pages/EnrollSecrets.tsx';
import { McpServers } from './pages/McpServers.tsx';
import { Overview } from './pages/Overview.tsx';
import { Policy } from './pages/Policy.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { Users } from './pages/Users.tsx';
import { useRoute, type Route } from './router.ts';
import { sessionWarning, timeLeft } from './sessionTimer.ts';

function PageFor({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview': return <Overview />;
    case 'devices': return route.rest[0] ? <DeviceDetailPage deviceId={route.rest[0]} /> : <Devices params={route.params} />;
    case 'agents': return <Agents params={route.params} />;
    case 'mcp': return <McpServers params={route.params} instances={route.rest[0] === 'instances'} />;
    case 'changes': return <Changes params={route.params} />;
    case 'audit': return <Audit params={route.params} />;
    case 'policy': return <Policy />;
    case 'enroll': return <EnrollSecrets />;
    case 'users': return <Users />;
  }
}

/**
 * The warning before the session ends, with "Stay signed in" while activity can still extend it;
 * when the session has ended, `onEnded`. It ticks on its own, so the page does not re-render.
 */
function SessionGuard({ session, lastActivity, onStay, onEnded }: { session: ConsoleSession; lastActivity: { readonly current: number }; onStay(): void; onEnded(): void }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);
  const warning = sessionWarning(now, lastActivity.current, session.idleMinutes, Date.parse(session.expiresAt));
  useEffect(() => {
    if (warning.kind === 'ended') onEnded();
  }, [warning.kind, onEnded]);
  if (warning.kind === 'idle') {
    return (
      <p className="notice notice-warning" role="alert" data-testid="session-warning">
        {/* The countdown is not in the live region: a screen reader says the warning once, not every second. */}
        You will soon be signed out because the console has been idle<span aria-hidden="true"> ({timeLeft(warning.endsAt - now)} left)</span>.
        <button type="button" onClick={onStay}>Stay signed in</button>
      </p>
    );
  }
  if (warning.kind === 'limit') {
    return (
      <p className="notice notice-warning" role="alert" data-testid="session-warning">
        This session soon reaches its time limit<span aria-hidden="true"> ({timeLeft(warning.endsAt - now)} left)</span>; sign in again then to go on.
      </p>
    );
  }
  return null;
}

function SignedIn({ session, onSignedOut }: { session: ConsoleSession; onSignedOut(reason: string | null): void }) {
  const route = useRoute();
  const [notice, setNotice] = useState<Notice | null>(null);
  const ids = useRef(0);
  const lastActivity = useRef(Date.now());
  const announce = useCallback<Announce>((message, kind = 'error') => setNotice({ id: ++ids.current, kind, message }), []);
  const expired = useCallback(() => onSignedOut('Your session ended. Sign in again.'), [onSignedOut]);
  const active = useCallback(() => {
    lastActivity.current = Date.now();
  }, []);
  const value = useMemo<ConsoleContextValue>(
    () => ({ session, api: createConsoleApi(session, expired, active), isAdmin: session.user.role === 'admin', announce }),
    [session, expired, active, announce],
  );
  useEffect(() => setNotice((n) => (n?.kind === 'status' ? null : n)), [route.key]);
  const ended = useCallback(() => {
    // The server may keep it up to a minute longer: end it there too rather than leave it usable.
    void signOut(session.csrfToken).catch(() => undefined);
    onSignedOut('You were signed out: the console was idle too long, or the session reached its time limit. Sign in again.');
  }, [session.csrfToken, onSignedOut]);
  const stay = useCallback(() => {
    value.api.session().catch((e: unknown) => announce(`Could not keep the session: ${messageOf(e)}`));
  }, [value, announce]);
  const doSignOut = async (): Promise<void> => {
    try {
      await signOut(session.csrfToken);
      onSignedOut(null);
    } catch (e) {
      announce(`Could not sign out: ${messageOf(e)}`);
    }
  };
  return (
    <ConsoleContext.Provider value={value}>
      <Layout
        page={route.page}
        routeKey={route.key}
        username={session.user.username}
        role={session.user.role}
        notice={notice}
        onDismiss={() => setNotice(null)}
        onSignOut={() => void doSignOut()}
      >
        <SessionGuard session={session} lastActivity={lastActivity} onStay={stay} onEnded={ended} />
        <PageFor key={route.key} route={route} />
      </Layout>
    </ConsoleContext.Provider>
  );
}

type State = { kind: 'loading' } | { kind: 'failed'; message: string } | { kind: 'signed-out'; notice: string | null } | { kind: 'signed-in'; session: ConsoleSession };

export function App() {
  useTheme();
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    getSession().then(
      (session) => setState(session ? { kind: 'signed-in', session } : { kind: 'signed-out', notice: null }),
      (e: unknown) => setState({ kind: 'failed', message: messageOf(e) }),
    );
  }, []);
  const onSignedOut = useCallback((notice: string | null) => setState({ kind: 'signed-out', notice }), []);
  switch (state.kind) {
    case 'loading':
      return <p aria-busy="true" className="muted centered">Connecting…</p>;
    case 'failed':
      return (
        <main className="signin">
          <h1>Cordon fleet console</h1>
          <p role="alert" className="error">The fleet server did not answer: {state.message}</p>
          <button type="button" onClick={() => window.location.reload()}>Try again</button>
        </main>
      );
    case 'signed-out':
      return <SignIn notice={state.notice} onSignedIn={(session) => setState({ kind: 'signed-in', session })} />;
    case 'signed-in':
      return <SignedIn key={state.session.user.id} session={state.session} onSignedOut={onSignedOut} />;
  }
}
