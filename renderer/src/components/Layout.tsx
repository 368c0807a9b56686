/** The console frame: skip link, header with navigation and the theme toggle, and the main landmark. */
import { useEffect, useRef, type ReactNode } from 'react';
import type { Route } from '../router.ts';
import { useTheme } from '../theme.ts';

const NAV: readonly { route: Route; label: string }[] = [
  { route: 'overview', label: 'Overview' },
  { route: 'inventory', label: 'Inventory' },
  { route: 'activity', label: 'Activity' },
  { route: 'approvals', label: 'Approvals' },
  { route: 'policy', label: 'Policy' },
  { route: 'settings', label: 'Settings' },
  { route: 'about', label: 'About' },
];

export function Layout({ route, pending, children }: { route: Route; pending: number; children: ReactNode }) {
  const [theme, toggle] = useTheme();
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  }, [route]);
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header className="top">
        <span className="brand" aria-label="Cordon">◈ Cordon</span>
        <nav aria-label="Console">
          <ul>
            {NAV.map((n) => (
              <li key={n.route}>
                <a href={`#/${n.route}`} aria-current={route === n.route ? 'page' : undefined}>
                  {n.label}
                  {n.route === 'approvals' && pending > 0 ? <span className="count" aria-label={`${pending} pending`}>{pending}</span> : null}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="theme" onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
