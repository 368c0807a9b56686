/** Overview: the fleet at a glance (GET /admin/v1/overview) and blocked egress and approvals over time. */
import { useState } from 'react';
import { Card, Loaded, Page, Stat } from '../../../../renderer/src/components/ui.tsx';
import { APPROVAL_SERIES, BLOCKED_SERIES, rangeOf, timelineColumns } from '../charts.ts';
import { ColumnChart } from '../components/ColumnChart.tsx';
import { useApi } from '../context.ts';
import { href } from '../router.ts';

export function Overview() {
  const overview = useApi((api) => api.overview(), 'overview');
  const [range, setRange] = useState('24h');
  const [now] = useState(() => Date.now());
  const period = rangeOf(range, now);
  const timeline = useApi((api) => api.timeline(period), JSON.stringify(period));
  return (
    <Page title="Overview">
      <Loaded state={overview}>
        {(o) => (
          <>
            <Card title="Devices" wide>
              <div className="stats" data-testid="device-stats">
                <a className="stat-link" href={href('devices')}><Stat label="active devices" value={<span data-testid="stat-active">{o.devices.active}</span>} /></a>
                <Stat label="seen in the last day" value={<span data-testid="stat-seen">{o.devices.seenLastDay}</span>} />
                <Stat label="not seen for 7 days" value={o.devices.stale} tone={o.devices.stale > 0 ? 'warn' : undefined} />
                <a className="stat-link" href={href('devices', [], { status: 'revoked' })}><Stat label="revoked" value={o.devices.revoked} /></a>
                <a className="stat-link" href={href('devices', [], { mode: 'enforce' })}><Stat label="enforcing" value={<span data-testid="stat-enforce">{o.devices.enforce}</span>} /></a>
                <a className="stat-link" href={href('devices', [], { mode: 'monitor' })}><Stat label="monitoring" value={<span data-testid="stat-monitor">{o.devices.monitor}</span>} /></a>
              </div>
              <div className="stats" data-testid="protection-stats">
                <Stat label="protected" value={<span data-testid="stat-protected">{o.devices.protection.protected}</span>} />
                <Stat label="degraded" value={o.devices.protection.degraded} tone={o.devices.protection.degraded > 0 ? 'warn' : undefined} />
                <a className="stat-link" href={href('devices', [], { protection: 'unprotected' })}>
                  <Stat label="unprotected" value={<span data-testid="stat-unprotected">{o.devices.protection.unprotected}</span>} tone={o.devices.protection.unprotected > 0 ? 'bad' : undefined} />
                </a>
                <Stat label="unknown" value={o.devices.protection.unknown} />
                <Stat label="with audit chain problems" value={o.devices.chainProblems} tone={o.devices.chainProblems > 0 ? 'bad' : undefined} />
              </div>
            </Card>
            <div className="grid">
              <Card title="Inventory">
                <div className="stats">
                  <a className="stat-link" href={href('agents')}><Stat label="agent kinds" value={<span data-testid="stat-agent-kinds">{o.agentKinds}</span>} /></a>
                  <a className="stat-link" href={href('mcp')}><Stat label="MCP server groups" value={<span data-testid="stat-mcp-groups">{o.mcpServerGroups}</span>} /></a>
                  <a className="stat-link" href={href('mcp', [], { posture: 'literal' })}>
                    <Stat label="devices with a literal secret" value={<span data-testid="stat-literal">{o.devicesWithLiteralSecrets}</span>} tone={o.devicesWithLiteralSecrets > 0 ? 'bad' : undefined} />
                  </a>
                </div>
              </Card>
              <Card title="Decisions in the last 24 hours">
                <div className="stats">
                  <Stat label="allowed" value={<span data-testid="stat-allow">{o.lastDay.allow}</span>} />
                  <Stat label="logged" value={o.lastDay.log} />
                  <Stat label="asked" value={<span data-testid="stat-ask">{o.lastDay.ask}</span>} tone={o.lastDay.ask > 0 ? 'warn' : undefined} />
                  <a className="stat-link" href={href('audit', [], { decision: 'deny' })}>
                    <Stat label="blocked" value={<span data-testid="stat-deny">{o.lastDay.deny}</span>} tone={o.lastDay.deny > 0 ? 'bad' : undefined} />
                  </a>
                </div>
              </Card>
              <Card title="Fleet policy">
                <div className="stats">
                  <a className="stat-link" href={href('policy')}><Stat label="current version" value={<span data-testid="stat-policy">{o.policy.currentVersion ?? 'none'}</span>} /></a>
                  <Stat label="devices on the current version" value={o.policy.devicesOnCurrent} />
                </div>
              </Card>
            </div>
            <p className="muted small">Answered in {o.tookMs} ms.</p>
          </>
        )}
      </Loaded>
      <Card title="Blocked egress and approvals over time" wide>
        <div className="filters">
          <div className="field">
            <label htmlFor="overview-range">Period</label>
            <select id="overview-range" value={range} onChange={(e) => setRange(e.target.value)}>
              <option value="24h">Last 24 hours, by hour</option>
              <option value="7d">Last 7 days, by day</option>
              <option value="30d">Last 30 days, by day</option>
            </select>
          </div>
        </div>
        <Loaded state={timeline}>
          {(t) => {
            const columns = timelineColumns(t);
            return (
              <div className="grid">
                <div><h3>Blocked egress</h3><ColumnChart title="Blocked requests" series={BLOCKED_SERIES} columns={columns.blocked} testId="chart-blocked" /></div>
                <div><h3>Approvals</h3><ColumnChart title="Approvals" series={APPROVAL_SERIES} columns={columns.approvals} testId="chart-approvals" /></div>
              </div>
            );
          }}
        </Loaded>
      </Card>
    </Page>
  );
}
