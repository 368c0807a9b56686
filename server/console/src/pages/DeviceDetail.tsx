/**
 * One device: its state, agents, MCP servers (credential posture per server) and recorded gaps in
 * its audit trail, with links to its audit events and changes; admins can revoke it or ask it to
 * move to a new key (each after a confirmation).
 */
import { Badge, Card, Empty, Loaded, Page } from '../../../../renderer/src/components/ui.tsx';
import { ConfirmButton } from '../components/Confirm.tsx';
import { useApi, useConsole } from '../context.ts';
import { ago, formatTime, postureTone, protectionTone, short } from '../format.ts';
import { href } from '../router.ts';

export function DeviceDetailPage({ deviceId }: { deviceId: string }) {
  const { api, isAdmin } = useConsole();
  const detail = useApi((a) => a.device(deviceId), deviceId);
  const title = detail.data ? `Device ${detail.data.device.hostname}` : 'Device';
  return (
    <Page title={title} actions={<a href={href('devices')}>← All devices</a>}>
      <Loaded state={detail}>
        {({ device: d, agents, mcpServers, gaps }) => (
          <>
            <div className="banner" data-testid="device-banner">
              <Badge tone={protectionTone(d.protection)}>{d.protection ?? 'unknown'}</Badge>
              <span>{d.mode ? `${d.mode} mode` : 'mode not reported'}</span>
              {d.revokedAt ? <Badge tone="bad">revoked {formatTime(d.revokedAt)}</Badge> : null}
              {d.rekeyRequested ? <Badge tone="warn">re-key requested</Badge> : null}
              <span className="spacer" />
              <a href={href('audit', [], { deviceId: d.id })}>Audit events</a>
              <a href={href('changes', [], { deviceId: d.id })}>Changes</a>
              {isAdmin && !d.revokedAt ? (
                <>
                  <ConfirmButton
                    label="Request re-key"
                    title={`Ask ${d.hostname} to move to a new key?`}
                    confirmLabel="Request re-key"
                    done={`Re-key requested for ${d.hostname}: it moves to a new key on its next sync.`}
                    action={() => api.rekeyDevice(d.id)}
                    onDone={detail.reload}
                  >
                    <p>The device proves its current key once more and then uses a new one. Its access token changes.</p>
                  </ConfirmButton>
                  <ConfirmButton
                    label="Revoke"
                    danger
                    title={`Revoke ${d.hostname}?`}
                    confirmLabel="Revoke device"
                    done={`${d.hostname} is revoked: the server refuses its requests from now on.`}
                    action={() => api.revokeDevice(d.id)}
                    onDone={detail.reload}
                  >
                    <p>The server refuses every request of this device from now on. This cannot be undone: the laptop must enroll again.</p>
                  </ConfirmButton>
                </>
              ) : null}
            </div>
            <div className="grid">
              <Card title="Device">
                <dl className="facts">
                  <dt>Hostname</dt><dd>{d.hostname}</dd>
                  <dt>User</dt><dd>{d.user}</dd>
                  <dt>OS</dt><dd>{d.platform}</dd>
                  <dt>Cordon version</dt><dd>{d.agentVersion}</dd>
                  <dt>Policy version</dt><dd>{d.policyVersion ?? 'none applied'}</dd>
                  <dt>Last seen</dt><dd>{formatTime(d.lastSeenAt)} ({ago(d.lastSeenAt)})</dd>
                  <dt>Enrolled</dt><dd>{formatTime(d.enrolledAt)}</dd>
                  <dt>Device id</dt><dd><code>{d.id}</code></dd>
                  <dt>Key thumbprint</dt><dd><code>{d.keyThumbprint}</code></dd>
                </dl>
              </Card>
              <Card title="Audit trail">
                <dl className="facts">
                  <dt>Acknowledged up to</dt><dd>seq {d.cursor}</dd>
                  <dt>Chain head</dt><dd>{d.headSeq === null ? 'none yet' : <>seq {d.headSeq} <code title={d.headHash ?? ''}>{short(d.headHash, 16)}</code></>}</dd>
                  <dt>Chain problems</dt><dd>{d.chainProblems > 0 ? <Badge tone="bad">{d.chainProblems} events did not verify</Badge> : <Badge tone="ok">none</Badge>}</dd>
                </dl>
                {gaps.length === 0 ? <Empty>No gaps in the uploaded trail.</Empty> : (
                  <table>
                    <caption>Gaps (events the device said it sent that the server never had)</caption>
                    <thead><tr><th scope="col">From seq</th><th scope="col">To seq</th><th scope="col">Recorded</th></tr></thead>
                    <tbody>{gaps.map((g) => <tr key={g.fromSeq}><td>{g.fromSeq}</td><td>{g.toSeq}</td><td>{formatTime(g.recordedAt)}</td></tr>)}</tbody>
                  </table>
                )}
              </Card>
            </div>
            <Card title="Managed settings (IT)" wide>
              {d.managed === null ? <Empty>Not reported yet (the device reports them with its next inventory).</Empty> : d.managed.source === null ? <Empty>No managed settings on this device.</Empty> : (
                <dl className="facts" data-testid="device-managed">
                  <dt>Source</dt><dd><code>{d.managed.source}</code></dd>
                  <dt>Enforced</dt><dd>{d.managed.enforced.length === 0 ? 'none' : d.managed.enforced.map((k) => <code key={k} className="key">{k}</code>)}</dd>
                  <dt>IT defaults</dt><dd>{d.managed.defaults.length === 0 ? 'none' : d.managed.defaults.map((k) => <code key={k} className="key">{k}</code>)}</dd>
                  <dt>Refused values</dt><dd>{d.managed.problems > 0 ? <Badge tone="bad">{d.managed.problems} refused as invalid</Badge> : <Badge tone="ok">none</Badge>}</dd>
                  <dt>Fingerprint</dt><dd><code title={d.managed.fingerprint ?? ''}>{short(d.managed.fingerprint, 16)}</code></dd>
                </dl>
              )}
            </Card>
            <Card title={`MCP servers (${mcpServers.length})`} wide>
              {mcpServers.length === 0 ? <Empty>No MCP servers on this device.</Empty> : (
                <table data-testid="device-mcp-table">
                  <thead>
                    <tr><th scope="col">Name</th><th scope="col">Client</th><th scope="col">Scope</th><th scope="col">Transport</th><th scope="col">Package</th><th scope="col">Version</th><th scope="col">Credentials</th><th scope="col">Enabled</th><th scope="col">Changed</th></tr>
                  </thead>
                  <tbody>
                    {mcpServers.map((m) => (
                      <tr key={m.serverId}>
                        <th scope="row">{m.name}</th>
                        <td>{m.client}</td>
                        <td>{m.scope}</td>
                        <td>{m.transport}</td>
                        <td>{m.package ? <code>{m.package}</code> : m.url ? <code>{m.url}</code> : m.command ? <code>{m.command}</code> : '—'}</td>
                        <td>{m.version ?? '—'}</td>
                        <td><Badge tone={postureTone(m.posture)}>{m.posture === 'literal' ? 'literal secret' : m.posture}</Badge></td>
                        <td>{m.enabled ? 'yes' : 'no'}</td>
                        <td>{formatTime(m.changedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
            <Card title={`Agents (${agents.length})`} wide>
              {agents.length === 0 ? <Empty>No coding agents on this device.</Empty> : (
                <table data-testid="device-agents-table">
                  <thead><tr><th scope="col">Agent</th><th scope="col">Kind</th><th scope="col">Install</th><th scope="col">Version</th><th scope="col">Path</th></tr></thead>
                  <tbody>
                    {agents.map((a) => (
                      <tr key={a.id}><th scope="row">{a.name}</th><td>{a.kind}</td><td>{a.installType}</td><td>{a.version ?? '—'}</td><td><code className="small">{a.path}</code></td></tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
          </>
        )}
      </Loaded>
    </Page>
  );
}
