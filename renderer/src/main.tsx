/** Entry point: picks the client (Electron bridge or HTTP) and mounts the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { defaultClient, establishSession } from './client/httpClient.ts';
import './styles.css';

const bridged = (window as unknown as { cordon?: unknown }).cordon !== undefined;
const session = bridged ? Promise.resolve(true) : establishSession();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App client={defaultClient()} session={session} />
    </StrictMode>,
  );
}
