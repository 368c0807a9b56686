/** Overview: protection state, counts, pending approvals, recent blocks, decisions over time. */
import { useMemo } from 'react';
import { useCall } from '../client/hooks.ts';
import { BarList, DecisionsChart } from '../components/charts.tsx';
import { Badge, Card, Empty, Loaded, Page, Stat } from '../components/ui.tsx';
import { decisionOf, decisionsPerHour, formatTime, topDestinations, type DecisionRow } from '../format.ts';

const REFRESH = ['egress.', 'local.', 'approval.', 'agent.', 'server.', 'settings.', 'policy.', 'daemon.'];

export function Overview() {
  const status = useCall('status', {}, REFRESH);
  const events = useCall('events', { limit: 500 }, ['egress.', 'local.']);
  const rows = useMemo(() => (events.data ?? []).map(decisionOf).filter((r): r is DecisionRow => r !== null), [events.data]);
  const blocks = rows.filter((r) => r.action === 'deny').slice(0, 8);
  return (
    <Page title="Overview">
      <Loaded state={status}>
        {(s) => {
          const protectedNow = s.proxy !== null && s.mode === 'enforce';
          return (
            <>
              <div className="banner" data-testid="protection-state">
                <Badge tone={protectedNow ? 'ok' : s.proxy ? 'warn' : 'bad'}>
                  {protectedNow ? 'Protected' : s.proxy ? 'Monitoring only' : 'Proxy down'}
                </Badge>
                <span>
                  Mode <strong>{s.mode}</strong> · proxy {s.proxy ? <code>{s.proxy.url}</code> : 'not running'} · keychain{' '}
                  {s.keychain.available ? 'available' : `unavailable${s.keychain.error ? ` (${s.keychain.error})` : ''}`}
                </span>
              </div>
              <div className="stats">
                <Stat label="Agents" value={s.inventory.agents} />
                <Stat label="MCP servers" value={s.inventory.mcpServers} />
                <Stat label="Pending approvals" value={<a href="#/approvals">{s.approvals.pending}</a>} tone={s.approvals.pending > 0 ? 'warn' : undefined} />
                <Stat label="Policy rules" value={s.policy.rules} tone={s.policy.problems > 0 ? 'bad' : undefined} />
                <Stat label="Events recorded" value={s.events.total} />
              </div>
              <p className="muted">
                Daemon {s.version} (pid {s.pid}), up since {formatTime(s.startedAt)}; last scan {formatTime(s.inventory.scannedAt)}.
                {s.settings.problems > 0 ? ` ${s.settings.problems} settings problem(s).` : ''}
                {s.policy.problems > 0 ? ` ${s.policy.problems} policy problem(s).` : ''}
              </p>
            </>
          );
        }}
      </Loaded>
      <div className="grid">
        <Card title="Decisions over time">
          <Loaded state={events}>{() => <DecisionsChart buckets={decisionsPerHour(rows, Date.now())} />}</Loaded>
        </Card>
        <Card title="Top destinations">
          <Loaded state={events}>{() => (rows.length ? <BarList items={topDestinations(rows)} label="Top destinations" /> : <Empty>No traffic recorded yet.</Empty>)}</Loaded>
        </Card>
        <Card title="Recent blocks" wide>
          <Loaded state={events}>
            {() =>
              blocks.length === 0 ? (
                <Empty>Nothing blocked recently.</Empty>
              ) : (
                <table>
                  <thead>
                    <tr><th scope="col">Time</th><th scope="col">Agent</th><th scope="col">Destination</th><th scope="col">Rule</th></tr>
                  </thead>
                  <tbody>
                    {blocks.map((r) => (
                      <tr key={r.seq}><td>{formatTime(r.time)}</td><td>{r.agent}</td><td><code>{r.destination}</code></td><td>{r.rule}</td></tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Loaded>
        </Card>
      </div>
    </Page>
  );
}
