/** Agents across the fleet: each kind and version with the number of devices that run it. */
import { useEffect, useState } from 'react';
import { Card, Empty, Page } from '../../../../renderer/src/components/ui.tsx';
import { BarList } from '../../../../renderer/src/components/charts.tsx';
import { Results } from '../components/Results.tsx';
import { useApi, useDebounced, usePager } from '../context.ts';
import { PagerControls } from '../components/Pager.tsx';
import { href, replaceFilters } from '../router.ts';

/** Groups come most-used first, a page at a time (the server's maintained counts). */
const GROUP_LIMIT = 500;

export function Agents({ params }: { params: URLSearchParams }) {
  const [q, setQ] = useState(params.get('q') ?? '');
  const search = useDebounced(q.trim());
  useEffect(() => replaceFilters('agents', [], { q: search }), [search]);
  const pager = usePager(search);
  const agents = useApi((api) => api.agents({ q: search, limit: GROUP_LIMIT, cursor: pager.cursor }), `${search}|${pager.cursor ?? ''}`);
  return (
    <Page title="Agents">
      <form className="filters" role="search" aria-label="Search agents" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="agents-q">Search</label>
          <input id="agents-q" type="search" value={q} placeholder="kind or name" maxLength={256} onChange={(e) => setQ(e.target.value)} />
        </div>
      </form>
      <Results state={agents}>
        {(page) => {
          const byKind = new Map<string, number>();
          for (const a of page.items) byKind.set(a.name, (byKind.get(a.name) ?? 0) + a.devices);
          return page.items.length === 0 ? <Empty>No agents match.</Empty> : (
            <div className="grid">
              <Card title="Devices per agent, summed over versions">
                <BarList label="Devices per agent, summed over versions" items={[...byKind.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([label, value]) => ({ label, value }))} />
              </Card>
              <Card title="Agents by version" wide>
                <table data-testid="agents-table">
                  <thead><tr><th scope="col">Agent</th><th scope="col">Kind</th><th scope="col">Version</th><th scope="col">Devices</th></tr></thead>
                  <tbody>
                    {page.items.map((a) => (
                      <tr key={`${a.kind}|${a.name}|${a.version ?? ''}`}>
                        <th scope="row">{a.name}</th><td><code>{a.kind}</code></td><td>{a.version ?? 'unknown'}</td><td>{a.devices}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {page.nextCursor !== null || pager.page > 1 ? <PagerControls pager={pager} nextCursor={page.nextCursor} shown={page.items.length} tookMs={page.tookMs} label="Agent groups" /> : null}
                <p className="muted small">{page.items.length} groups, the most used first · {page.tookMs} ms · <a href={href('changes', [], { item: 'agent' })}>recent agent changes</a></p>
              </Card>
            </div>
          );
        }}
      </Results>
    </Page>
  );
}
