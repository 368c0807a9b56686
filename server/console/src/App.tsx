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

function SignedIn({ session, onSignedOut }: { session: ConsoleSession; onSignedOut(reason: string | null): void }) {
  const route = useRoute();
  const [notice, setNotice] = useState<Notice | null>(null);
  const ids = useRef(0);
  const announce = useCallback<Announce>((message, kind = 'error') => setNotice({ id: ++ids.current, kind, message }), []);
  const expired = useCallback(() => onSignedOut('Your session ended. Sign in again.'), [onSignedOut]);
  const value = useMemo<ConsoleContextValue>(
    () => ({ session, api: createConsoleApi(session, expired), isAdmin: session.user.role === 'admin', announce }),
    [session, expired, announce],
  );
  useEffect(() => setNotice((n) => (n?.kind === 'status' ? null : n)), [route.key]);
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
