/** Inventory: installed agents, MCP servers with their credential posture, recent changes. */
import type { McpServerRecord } from '../../../app/api/inventory.ts';
import { useCall, useClient } from '../client/hooks.ts';
import { Badge, Card, Empty, Loaded, Page } from '../components/ui.tsx';
import { formatTime } from '../format.ts';

const CHANGE_TYPES = ['agent.', 'server.'];

function Posture({ server }: { server: McpServerRecord }) {
  const { posture, findings } = server.credential;
  const detail = findings.map((f) => `${f.location} ${f.name} (${f.kind})`).join(', ');
  if (posture === 'literal') return <Badge tone="bad" title={detail}>literal secret</Badge>;
  if (posture === 'reference') return <Badge tone="ok" title={detail}>reference</Badge>;
  return <Badge tone="muted">none</Badge>;
}

export function Inventory() {
  const inventory = useCall('inventory', {}, CHANGE_TYPES);
  const changes = useCall('events', { limit: 300 }, CHANGE_TYPES);
  return (
    <Page title="Inventory" actions={<RescanButton onDone={() => { inventory.reload(); changes.reload(); }} />}>
      <Loaded state={inventory}>
        {(inv) => (
          <>
            <p className="muted">Scanned {formatTime(inv.scannedAt)} on {inv.host.hostname} ({inv.host.platform}) in {inv.stats.durationMs} ms; {inv.errors.length} scan error(s).</p>
            <Card title={`Agents (${inv.agents.length})`} wide>
              {inv.agents.length === 0 ? <Empty>No AI coding agents found.</Empty> : (
                <table>
                  <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Install</th><th scope="col">Version</th><th scope="col">Path</th></tr></thead>
                  <tbody>
                    {inv.agents.map((a) => (
                      <tr key={a.id}><td>{a.name}</td><td>{a.kind}</td><td>{a.installType}</td><td>{a.version ?? '—'}</td><td><code>{a.path}</code></td></tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
            <Card title={`MCP servers (${inv.mcpServers.length})`} wide>
              {inv.mcpServers.length === 0 ? <Empty>No MCP servers configured.</Empty> : (
                <table>
                  <thead><tr><th scope="col">Name</th><th scope="col">Client</th><th scope="col">Scope</th><th scope="col">Transport</th><th scope="col">Credentials</th><th scope="col">Config</th></tr></thead>
                  <tbody>
                    {inv.mcpServers.map((s) => (
                      <tr key={s.id} className={s.credential.posture === 'literal' ? 'row-bad' : undefined}>
                        <td>{s.name}{s.enabled ? '' : ' (disabled)'}</td>
                        <td>{s.client}</td>
                        <td>{s.scope}{s.project ? <div className="muted small">{s.project}</div> : null}</td>
                        <td>{s.transport}{s.url ? <div className="muted small">{s.url}</div> : s.command ? <div className="muted small"><code>{s.command}</code></div> : null}</td>
                        <td><Posture server={s} /></td>
                        <td><code className="small">{s.configPath}</code></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
          </>
        )}
      </Loaded>
      <Card title="Recent changes" wide>
        <Loaded state={changes}>
          {(events) => {
            const list = events.filter((e) => CHANGE_TYPES.some((p) => e.type.startsWith(p))).slice(0, 20);
            return list.length === 0 ? <Empty>No inventory changes recorded.</Empty> : (
              <ul className="timeline">
                {list.map((e) => <li key={e.seq}><time dateTime={e.time}>{formatTime(e.time)}</time> <Badge tone="info">{e.type}</Badge> {e.summary}</li>)}
              </ul>
            );
          }}
        </Loaded>
      </Card>
    </Page>
  );
}

function RescanButton({ onDone }: { onDone: () => void }) {
  const client = useClient();
  return (
    <button type="button" onClick={() => void client.call('rescan', {}).then(onDone, onDone)}>
      Rescan now
    </button>
  );
}
