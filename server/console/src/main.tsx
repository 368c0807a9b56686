/** Entry point of the fleet web console: styles (the desktop console's design system plus ours) and the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../../../renderer/src/styles.css';
import './console.css';
import { App } from './App.tsx';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
