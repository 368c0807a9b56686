/**
 * Audit search across the fleet: by device, agent, destination host, decision and time, newest
 * first and keyset-paged; decisions, blocked egress and approvals over the same period as charts;
 * and export of the same filters as OCSF JSON lines or CSV (plain links: the session cookie goes
 * along and the server answers a download).
 */
import { useEffect, useState } from 'react';
import type { AuditDecision } from '../../../../app/api/audit.ts';
import { AUDIT_DECISIONS } from '../../../../app/api/audit.ts';
import type { FleetAuditEvent } from '../../../../app/api/sync.ts';
import { BarList } from '../../../../renderer/src/components/charts.tsx';
import { Badge, Card, Empty, Loaded, Page, actionTone } from '../../../../renderer/src/components/ui.tsx';
import { auditExportUrl, type AuditFilter } from '../api.ts';
import { APPROVAL_SERIES, BLOCKED_SERIES, DECISION_SERIES, timelineColumns } from '../charts.ts';
import { ColumnChart } from '../components/ColumnChart.tsx';
import { PagerControls } from '../components/Pager.tsx';
import { Results } from '../components/Results.tsx';
import { useApi, useDebounced, usePager } from '../context.ts';
import { formatTime, isoToLocalInput, localInputToIso } from '../format.ts';
import { SelectField } from '../components/SelectField.tsx';
import { href, replaceFilters } from '../router.ts';

const PAGE_SIZE = 100;
const DAY = 86_400_000;

function Destination({ event }: { event: FleetAuditEvent }) {
  const d = event.destination;
  if (!d) return null;
  return (
    <>
      <code className="small nowrap">{d.method ? `${d.method} ` : ''}{d.host}{d.port !== null ? `:${d.port}` : ''}</code>
      {d.path ? <div className="muted small ellipsis" title={d.path}>{d.path}</div> : null}
    </>
  );
}

function isDecision(v: string): v is AuditDecision {
  return (AUDIT_DECISIONS as readonly string[]).includes(v);
}

function Charts({ deviceId, agent, since, until }: { deviceId: string; agent: string; since: string | undefined; until: string | undefined }) {
  const [now] = useState(() => Date.now());
  const from = since ? Date.parse(since) : now - 7 * DAY;
  const to = until ? Date.parse(until) : now;
  const bucket: 'hour' | 'day' = to - from <= 3 * DAY ? 'hour' : 'day';
  const filter = { deviceId, agent, since: new Date(from).toISOString(), until: new Date(to).toISOString(), bucket };
  const timeline = useApi((api) => api.timeline(filter), JSON.stringify(filter));
  return (
    <Card title="Over time" wide>
      <p className="muted small">By {bucket}, {formatTime(filter.since)} to {formatTime(filter.until)}{deviceId || agent ? ' (device and agent filters apply)' : ''}.</p>
      <Loaded state={timeline}>
        {(t) => {
          const columns = timelineColumns(t);
          return (
            <div className="grid">
              <div><h3>Decisions</h3><ColumnChart title="Decisions" series={DECISION_SERIES} columns={columns.decisions} testId="chart-decisions" /></div>
              <div><h3>Blocked egress</h3><ColumnChart title="Blocked requests" series={BLOCKED_SERIES} columns={columns.blocked} testId="chart-blocked" /></div>
              <div><h3>Approvals</h3><ColumnChart title="Approvals" series={APPROVAL_SERIES} columns={columns.approvals} testId="chart-approvals" /></div>
            </div>
          );
        }}
      </Loaded>
    </Card>
  );
}

function DeviceField({ value, onChange }: { value: string; onChange(v: string): void }) {
  const typed = useDebounced(value.trim(), 300);
  const suggestions = useApi((api) => (typed ? api.devices({ q: typed, limit: 8, status: 'all' }) : Promise.resolve(null)), typed);
  return (
    <div className="field">
      <label htmlFor="audit-device">Device</label>
      <input id="audit-device" list="audit-device-list" value={value} placeholder="device id (type a hostname)" maxLength={256} onChange={(e) => onChange(e.target.value)} />
      <datalist id="audit-device-list">
        {(suggestions.data?.items ?? []).map((d) => <option key={d.id} value={d.id}>{d.hostname}</option>)}
      </datalist>
    </div>
  );
}

export function Audit({ params }: { params: URLSearchParams }) {
  const [deviceId, setDeviceId] = useState(params.get('deviceId') ?? '');
  const [agent, setAgent] = useState(params.get('agent') ?? '');
  const [host, setHost] = useState(params.get('host') ?? '');
  const [decision, setDecision] = useState(params.get('decision') ?? '');
  const [since, setSince] = useState(params.get('since') ?? isoToLocalInput(Date.now() - 7 * DAY));
  const [until, setUntil] = useState(params.get('until') ?? '');
  const settledDevice = useDebounced(deviceId.trim(), 300);
  const settledAgent = useDebounced(agent.trim(), 300);
  const settledHost = useDebounced(host.trim().toLowerCase(), 300);
  useEffect(
    () => replaceFilters('audit', [], { deviceId: settledDevice, agent: settledAgent, host: settledHost, decision, since, until }),
    [settledDevice, settledAgent, settledHost, decision, since, until],
  );
  const filter: AuditFilter = { deviceId: settledDevice, agent: settledAgent, host: settledHost, decision: isDecision(decision) ? decision : '', since: localInputToIso(since), until: localInputToIso(until) };
  const key = JSON.stringify(filter);
  const pager = usePager(key);
  const results = useApi((api) => api.audit({ ...filter, limit: PAGE_SIZE, cursor: pager.cursor }), `${key}|${pager.cursor ?? ''}`);
  return (
    <Page
      title="Audit"
      actions={
        <div className="exports">
          <a className="button" href={auditExportUrl('ocsf', filter)} download data-testid="export-ocsf">Export OCSF (JSON lines)</a>
          <a className="button" href={auditExportUrl('csv', filter)} download data-testid="export-csv">Export CSV</a>
        </div>
      }
    >
      <form className="filters" role="search" aria-label="Search audit events" onSubmit={(e) => e.preventDefault()}>
        <DeviceField value={deviceId} onChange={setDeviceId} />
        <div className="field">
          <label htmlFor="audit-agent">Agent</label>
          <input id="audit-agent" value={agent} placeholder="kind or id, e.g. claude-code" maxLength={256} onChange={(e) => setAgent(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-host">Destination host</label>
          <input id="audit-host" value={host} placeholder="api.example.com" maxLength={256} onChange={(e) => setHost(e.target.value)} />
        </div>
        <SelectField id="audit-decision" label="Decision" value={decision} onChange={setDecision} options={[['', 'Any'], ['allow', 'Allowed'], ['log', 'Logged'], ['ask', 'Asked'], ['deny', 'Denied']]} />
        <div className="field">
          <label htmlFor="audit-since">Since</label>
          <input id="audit-since" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-until">Until</label>
          <input id="audit-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
        </div>
      </form>
      <Card title="Events" wide>
        <Results state={results}>
          {(page) => (
            <>
              {page.items.length === 0 ? <Empty>No audit events match.</Empty> : (
                <table data-testid="audit-table">
                  <thead>
                    <tr><th scope="col">Time</th><th scope="col">Device</th><th scope="col">Event</th><th scope="col">Agent</th><th scope="col">Decision</th><th scope="col">Destination</th><th scope="col">Rule</th></tr>
                  </thead>
                  <tbody>
                    {page.items.map((e) => (
                      <tr key={`${e.deviceId}|${e.id}`} data-decision={e.decision ?? ''}>
                        <td className="nowrap">{formatTime(e.time)}</td>
                        <th scope="row" className="nowrap"><a href={href('devices', [e.deviceId])}>{e.hostname}</a></th>
                        <td><code className="small">{e.type}</code><div className="muted small">{e.summary}</div></td>
                        <td className="nowrap">{e.agentKind ?? e.agent ?? '—'}</td>
                        <td>{e.decision ? <Badge tone={actionTone(e.decision)}>{e.decision}</Badge> : '—'}</td>
                        <td><Destination event={e} /></td>
                        <td>{e.rule ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <PagerControls pager={pager} nextCursor={page.nextCursor} shown={page.items.length} tookMs={page.tookMs} label="Audit events" />
              {page.items.length > 0 ? <TopLists items={page.items} /> : null}
            </>
          )}
        </Results>
      </Card>
      <Charts deviceId={settledDevice} agent={settledAgent} since={filter.since} until={filter.until} />
    </Page>
  );
}

function TopLists({ items }: { items: readonly FleetAuditEvent[] }) {
  const count = (values: (string | null)[]): { label: string; value: number }[] => {
    const m = new Map<string, number>();
    for (const v of values) if (v) m.set(v, (m.get(v) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 8).map(([label, value]) => ({ label, value }));
  };
  return (
    <div className="grid toplists">
      <div><h3>Top destinations on this page</h3><BarList label="Top destinations on this page" items={count(items.map((e) => e.destination?.host ?? null))} /></div>
      <div><h3>Top devices on this page</h3><BarList label="Top devices on this page" items={count(items.map((e) => e.hostname))} /></div>
    </div>
  );
}
