/** About: versions and where things are. */
import { useCall } from '../client/hooks.ts';
import { Card, Loaded, Page } from '../components/ui.tsx';

export function About() {
  const status = useCall('status', {});
  return (
    <Page title="About">
      <Card title="Cordon" wide>
        <p>Cordon governs the AI coding agents on this machine: it finds them and their MCP servers, routes their traffic through a local proxy, asks you when policy says so, and keeps a tamper-evident audit trail.</p>
        <Loaded state={status}>
          {(s) => (
            <dl className="facts">
              <dt>Version</dt><dd data-testid="version">{s.version}</dd>
              <dt>Control protocol</dt><dd>{s.protocolVersion}</dd>
              <dt>Daemon</dt><dd>pid {s.pid}, socket <code>{s.socketPath}</code></dd>
              <dt>Audit database</dt><dd><code>{s.databaseFile}</code></dd>
            </dl>
          )}
        </Loaded>
        <p className="muted small">Command line: <code>cordon --help</code>, <code>cordon approvals</code>, <code>cordon audit verify</code>.</p>
      </Card>
    </Page>
  );
}
