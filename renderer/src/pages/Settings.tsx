/** Settings: effective settings with their source and IT locks, agent keys, and the CA bundle to export. */
import { useCall } from '../client/hooks.ts';
import { Badge, Card, Empty, Loaded, Page } from '../components/ui.tsx';
import { formatTime, formatValue } from '../format.ts';

export function Settings() {
  const settings = useCall('settings', {}, ['settings.']);
  const keys = useCall('keys', {});
  const status = useCall('status', {});
  return (
    <Page title="Settings">
      <Card title="Effective settings" wide>
        <Loaded state={settings}>
          {(report) => (
            <>
              <table data-testid="settings-table">
                <thead><tr><th scope="col">Setting</th><th scope="col">Value</th><th scope="col">Source</th><th scope="col">Locked</th></tr></thead>
                <tbody>
                  {report.entries.map((e) => (
                    <tr key={e.key}>
                      <th scope="row"><code>{e.key}</code></th>
                      <td>{formatValue(e.value)}{e.note ? <div className="muted small">{e.note}</div> : null}{e.error ? <div className="error small">{e.error}</div> : null}</td>
                      <td>{e.source}{e.file ? <div className="muted small">{e.file}</div> : null}</td>
                      <td>{e.locked ? <Badge tone="info" title="Enforced by IT">🔒 locked</Badge> : <span className="muted">—</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="muted small">User settings file: <code>{report.files.user}</code>{report.files.managed.present ? <> · managed: <code>{report.files.managed.path}</code></> : ' · no managed settings'}</p>
              {report.problems.length ? <ul>{report.problems.map((p, i) => <li key={i}><Badge tone={p.severity === 'error' ? 'bad' : 'warn'}>{p.kind}</Badge> {p.message}</li>)}</ul> : null}
            </>
          )}
        </Loaded>
      </Card>
      <Card title="Enrollment" >
        <Loaded state={settings}>
          {(report) => {
            const url = report.entries.find((e) => e.key === 'fleetServerUrl')?.value;
            return typeof url === 'string' && url ? <p>Enrolled with <code>{url}</code></p> : <p>Not enrolled in a fleet: this device is governed by local policy only.</p>;
          }}
        </Loaded>
      </Card>
      <Card title="TLS inspection CA">
        <Loaded state={status}>
          {(s) => (s.ca.bundle ? <p>Export the CA bundle from <code data-testid="ca-bundle">{s.ca.bundle}</code> to trust Cordon's inspection in other tools.</p> : <Empty>No CA bundle exported.</Empty>)}
        </Loaded>
      </Card>
      <Card title="Keys" wide>
        <Loaded state={keys}>
          {(list) => list.length === 0 ? <Empty>No agent or device keys yet.</Empty> : (
            <table>
              <thead><tr><th scope="col">Owner</th><th scope="col">Purpose</th><th scope="col">Algorithm</th><th scope="col">Thumbprint</th><th scope="col">Created</th><th scope="col">Last used</th></tr></thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.keyId}><td>{k.ownerId}</td><td>{k.purpose}</td><td>{k.alg}</td><td><code className="small">{k.thumbprint}</code></td><td>{formatTime(k.created)}</td><td>{formatTime(k.lastUsed)}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Card>
    </Page>
  );
}
