/**
 * MCP servers across the fleet: groups by name, package, version and transport with how many
 * devices run each and on how many its config holds a literal secret; a group drills down to its
 * instances ("which laptops run server X, at which version, with a literal secret").
 */
import { useEffect, useState } from 'react';
import { Badge, Card, Empty, Page } from '../../../../renderer/src/components/ui.tsx';
import type { FleetMcpGroup } from '../../../../app/api/sync.ts';
import { PagerControls } from '../components/Pager.tsx';
import { Results } from '../components/Results.tsx';
import { useApi, useDebounced, usePager } from '../context.ts';
import { formatTime, postureTone } from '../format.ts';
import { SelectField } from '../components/SelectField.tsx';
import { href, replaceFilters } from '../router.ts';

const PAGE_SIZE = 100;
/** Groups come most-used first, a page at a time (the server's maintained counts). */
const GROUP_LIMIT = 500;

/** The instance filter of a group (its grouping keys that the API can filter on). */
function drillDown(g: FleetMcpGroup, posture?: string): Record<string, string | undefined> {
  return { name: g.name, package: g.package ?? undefined, version: g.version ?? undefined, transport: g.transport, posture };
}

function PostureSelect({ id, value, onChange }: { id: string; value: string; onChange(v: string): void }) {
  return <SelectField id={id} label="Credentials" value={value} onChange={onChange} options={[['', 'Any'], ['literal', 'Literal secret in config'], ['reference', 'Reference (env, keychain)'], ['none', 'None']]} />;
}

function Groups({ params }: { params: URLSearchParams }) {
  const [q, setQ] = useState(params.get('q') ?? '');
  const [posture, setPosture] = useState(params.get('posture') ?? '');
  const [transport, setTransport] = useState(params.get('transport') ?? '');
  const search = useDebounced(q.trim());
  useEffect(() => replaceFilters('mcp', [], { q: search, posture, transport }), [search, posture, transport]);
  const filter = { q: search, posture, transport };
  const pager = usePager(JSON.stringify(filter));
  const groups = useApi((api) => api.mcpServers({ ...filter, limit: GROUP_LIMIT, cursor: pager.cursor }), `${JSON.stringify(filter)}|${pager.cursor ?? ''}`);
  return (
    <Page title="MCP servers">
      <form className="filters" role="search" aria-label="Search MCP servers" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="mcp-q">Search</label>
          <input id="mcp-q" type="search" value={q} placeholder="name, package or URL" maxLength={256} onChange={(e) => setQ(e.target.value)} />
        </div>
        <PostureSelect id="mcp-posture" value={posture} onChange={setPosture} />
        <SelectField id="mcp-transport" label="Transport" value={transport} onChange={setTransport} options={[['', 'Any'], ['stdio', 'stdio'], ['http', 'http'], ['sse', 'sse'], ['ws', 'ws']]} />
      </form>
      <Card title="Servers across the fleet" wide>
        <Results state={groups}>
          {(page) => page.items.length === 0 ? <Empty>No MCP servers match.</Empty> : (
            <>
              <table data-testid="mcp-groups-table">
                <thead>
                  <tr><th scope="col">Server</th><th scope="col">Package or URL</th><th scope="col">Version</th><th scope="col">Transport</th><th scope="col">Devices</th><th scope="col">With a literal secret</th></tr>
                </thead>
                <tbody>
                  {page.items.map((g) => (
                    <tr key={`${g.name}|${g.package ?? ''}|${g.version ?? ''}|${g.transport}|${g.url ?? ''}`}>
                      <th scope="row"><a href={href('mcp', ['instances'], drillDown(g))}>{g.name}</a></th>
                      <td>{g.package ? <code>{g.package}</code> : g.url ? <code>{g.url}</code> : '—'}</td>
                      <td>{g.version ?? '—'}</td>
                      <td>{g.transport}</td>
                      <td>{g.devices}</td>
                      <td>
                        {g.literalDevices > 0
                          ? <a href={href('mcp', ['instances'], drillDown(g, 'literal'))} aria-label={`${g.literalDevices} devices with a literal secret for ${g.name}`}><Badge tone="bad">{g.literalDevices}</Badge></a>
                          : 0}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {page.nextCursor !== null || pager.page > 1
                ? <PagerControls pager={pager} nextCursor={page.nextCursor} shown={page.items.length} tookMs={page.tookMs} label="MCP server groups" />
                : <p className="muted small">{page.items.length} groups, the most used first · {page.tookMs} ms</p>}
            </>
          )}
        </Results>
      </Card>
    </Page>
  );
}

function Instances({ params }: { params: URLSearchParams }) {
  const fixed = { name: params.get('name') ?? '', package: params.get('package') ?? '', version: params.get('version') ?? '', transport: params.get('transport') ?? '', q: params.get('q') ?? '' };
  const [posture, setPosture] = useState(params.get('posture') ?? '');
  useEffect(() => replaceFilters('mcp', ['instances'], { ...fixed, posture }), [posture]);
  const filter = { ...fixed, posture };
  const key = JSON.stringify(filter);
  const pager = usePager(key);
  const instances = useApi((api) => api.mcpInstances({ ...filter, limit: PAGE_SIZE, cursor: pager.cursor }), `${key}|${pager.cursor ?? ''}`);
  const what = [fixed.name, fixed.package, fixed.version ? `version ${fixed.version}` : ''].filter(Boolean).join(' · ') || 'all servers';
  return (
    <Page title={`Where ${fixed.name || fixed.package || 'MCP servers'} runs`} actions={<a href={href('mcp')}>← All MCP servers</a>}>
      <p className="muted">Instances of <strong>{what}</strong>{fixed.transport ? ` over ${fixed.transport}` : ''}.</p>
      <form className="filters" aria-label="Filter instances" onSubmit={(e) => e.preventDefault()}>
        <PostureSelect id="instances-posture" value={posture} onChange={setPosture} />
      </form>
      <Card title="Devices running it" wide>
        <Results state={instances}>
          {(page) => (
            <>
              {page.items.length === 0 ? <Empty>No device matches.</Empty> : (
                <table data-testid="mcp-instances-table">
                  <thead>
                    <tr><th scope="col">Device</th><th scope="col">User</th><th scope="col">Server</th><th scope="col">Client</th><th scope="col">Scope</th><th scope="col">Version</th><th scope="col">Credentials</th><th scope="col">Runs</th><th scope="col">Changed</th></tr>
                  </thead>
                  <tbody>
                    {page.items.map((m) => (
                      <tr key={`${m.deviceId}|${m.serverId}`}>
                        <th scope="row"><a href={href('devices', [m.deviceId])}>{m.hostname}</a></th>
                        <td>{m.user}</td>
                        <td>{m.name}</td>
                        <td>{m.client}</td>
                        <td>{m.scope}</td>
                        <td>{m.version ?? '—'}</td>
                        <td><Badge tone={postureTone(m.posture)}>{m.posture === 'literal' ? 'literal secret' : m.posture}</Badge></td>
                        <td>{m.url ? <code>{m.url}</code> : m.command ? <code>{m.command}</code> : '—'}</td>
                        <td>{formatTime(m.changedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <PagerControls pager={pager} nextCursor={page.nextCursor} shown={page.items.length} tookMs={page.tookMs} label="Instances" />
            </>
          )}
        </Results>
      </Card>
    </Page>
  );
}

export function McpServers({ params, instances }: { params: URLSearchParams; instances: boolean }) {
  return instances ? <Instances params={params} /> : <Groups params={params} />;
}
