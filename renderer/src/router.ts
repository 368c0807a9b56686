/** Hash routing (#/overview, #/prompt): the page is one file, so routes never reach the server. */
import { useEffect, useState } from 'react';

export const ROUTES = ['overview', 'inventory', 'activity', 'approvals', 'policy', 'settings', 'about', 'prompt'] as const;
export type Route = (typeof ROUTES)[number];

export function routeOf(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split(/[?&/]/)[0] ?? '';
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'overview';
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => routeOf(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(routeOf(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
