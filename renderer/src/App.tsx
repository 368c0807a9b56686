/** The console app: establishes the session, then routes between pages (and the bare prompt view). */
import { useEffect, useState } from 'react';
import type { CordonUiClient } from '../../app/api/uiClient.ts';
import { ClientContext, useCall } from './client/hooks.ts';
import { Layout } from './components/Layout.tsx';
import { About } from './pages/About.tsx';
import { Activity } from './pages/Activity.tsx';
import { Approvals } from './pages/Approvals.tsx';
import { Inventory } from './pages/Inventory.tsx';
import { Overview } from './pages/Overview.tsx';
import { Policy } from './pages/Policy.tsx';
import { Prompt } from './pages/Prompt.tsx';
import { Settings } from './pages/Settings.tsx';
import { useRoute, type Route } from './router.ts';
import { useTheme } from './theme.ts';

function PageFor({ route }: { route: Route }) {
  switch (route) {
    case 'overview': return <Overview />;
    case 'inventory': return <Inventory />;
    case 'activity': return <Activity />;
    case 'approvals': return <Approvals />;
    case 'policy': return <Policy />;
    case 'settings': return <Settings />;
    case 'about': return <About />;
    case 'prompt': return <Prompt />;
  }
}

function Console() {
  const route = useRoute();
  const status = useCall('status', {}, ['approval.']);
  useTheme();
  if (status.error && status.data === null && 'status' in status.error && (status.error as { status: number }).status === 401) return <NoSession />;
  if (route === 'prompt') return <Prompt />;
  return (
    <Layout route={route} pending={status.data?.approvals.pending ?? 0}>
      <PageFor key={route} route={route} />
    </Layout>
  );
}

function NoSession() {
  return (
    <main id="main" className="nosession">
      <h1>Open Cordon from your terminal</h1>
      <p>This console needs the session secret the daemon hands to <code>cordon ui</code>. Run <code>cordon ui</code> to open it.</p>
    </main>
  );
}

export function App({ client, session }: { client: CordonUiClient; session: Promise<boolean> }) {
  const [ready, setReady] = useState<'wait' | 'ok' | string>('wait');
  useEffect(() => {
    session.then(() => setReady('ok'), (e: unknown) => setReady(e instanceof Error ? e.message : String(e)));
  }, [session]);
  if (ready === 'wait') return <p aria-busy="true" className="muted">Connecting…</p>;
  if (ready !== 'ok') return <main className="nosession"><h1>Cordon</h1><p role="alert" className="error">{ready}</p></main>;
  return (
    <ClientContext.Provider value={client}>
      <Console />
    </ClientContext.Provider>
  );
}
