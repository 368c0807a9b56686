/**
 * Hash routing (#/devices, #/devices/<id>, #/audit?decision=deny): the server answers every
 * console path with the same page, and filters live in the hash so a view can be linked and
 * reloaded. Pages write their filters back with replaceFilters (no history entry per keystroke).
 */
import { useEffect, useState } from 'react';

export const PAGES = ['overview', 'devices', 'agents', 'mcp', 'changes', 'audit', 'policy', 'enroll', 'users'] as const;
export type PageName = (typeof PAGES)[number];

export type Route = Readonly<{
  page: PageName;
  /** Path segments after the page (#/devices/<id> -> [id]). */
  rest: readonly string[];
  params: URLSearchParams;
  /** The whole hash: a new value means the user navigated. */
  key: string;
}>;

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  const [name = '', ...rest] = path.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  const page = (PAGES as readonly string[]).includes(name) ? (name as PageName) : 'overview';
  return { page, rest: page === name ? rest.filter((s) => s !== '') : [], params: new URLSearchParams(query), key: hash };
}

/** The hash of a page with optional sub-path and filters (empty filters are left out). */
export function href(page: PageName, rest: readonly string[] = [], params: Readonly<Record<string, string | undefined>> = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, v);
  const query = search.toString();
  return `#/${[page, ...rest.map(encodeURIComponent)].join('/')}${query ? `?${query}` : ''}`;
}

/** Keeps the page's filters in the address bar without adding history entries or re-routing. */
export function replaceFilters(page: PageName, rest: readonly string[], params: Readonly<Record<string, string | undefined>>): void {
  const next = href(page, rest, params);
  if (window.location.hash !== next) window.history.replaceState(window.history.state, '', next);
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
