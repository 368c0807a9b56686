/** Activity: decisions as they happen (live over onEvent), filterable by decision, agent, destination. */
import { useEffect, useMemo, useState } from 'react';
import { useCall, useEvents } from '../client/hooks.ts';
import { DecisionsChart } from '../components/charts.tsx';
import { Badge, Card, Empty, Loaded, Page, actionTone } from '../components/ui.tsx';
import { decisionOf, decisionsPerHour, formatTime, type DecisionRow } from '../format.ts';

const MAX_ROWS = 1000;

export function Activity() {
  const initial = useCall('events', { limit: 500 });
  const [rows, setRows] = useState<DecisionRow[]>([]);
  const [decision, setDecision] = useState('');
  const [agent, setAgent] = useState('');
  const [destination, setDestination] = useState('');
  useEffect(() => {
    if (initial.data) setRows(initial.data.map(decisionOf).filter((r): r is DecisionRow => r !== null));
  }, [initial.data]);
  useEvents((event) => {
    const row = decisionOf(event);
    if (row) setRows((old) => (old.some((r) => r.seq === row.seq) ? old : [row, ...old].slice(0, MAX_ROWS)));
  });
  const agents = useMemo(() => [...new Set(rows.map((r) => r.agent))].sort(), [rows]);
  const shown = rows.filter(
    (r) => (!decision || r.action === decision) && (!agent || r.agent === agent) && (!destination || r.destination.toLowerCase().includes(destination.toLowerCase())),
  );
  return (
    <Page title="Activity">
      <Card title="Decisions over time" wide>
        <DecisionsChart buckets={decisionsPerHour(rows, Date.now())} />
      </Card>
      <form className="filters" role="search" aria-label="Filter decisions" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-decision">Decision</label>
          <select id="filter-decision" value={decision} onChange={(e) => setDecision(e.target.value)}>
            <option value="">All</option>
            <option value="allow">Allowed</option>
            <option value="log">Logged</option>
            <option value="deny">Denied</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-agent">Agent</label>
          <select id="filter-agent" value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">All</option>
            {agents.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-destination">Destination</label>
          <input id="filter-destination" type="search" value={destination} placeholder="host, command or tool" onChange={(e) => setDestination(e.target.value)} />
        </div>
        <span className="muted" aria-live="polite">{shown.length} of {rows.length} decisions</span>
      </form>
      <Loaded state={initial}>
        {() =>
          shown.length === 0 ? <Empty>No decisions match.</Empty> : (
            <table data-testid="activity-table">
              <thead><tr><th scope="col">Time</th><th scope="col">Decision</th><th scope="col">Agent</th><th scope="col">Destination</th><th scope="col">Rule</th></tr></thead>
              <tbody>
                {shown.slice(0, 200).map((r) => (
                  <tr key={r.seq}>
                    <td>{formatTime(r.time)}</td>
                    <td><Badge tone={actionTone(r.action)}>{r.action}</Badge>{r.kind === 'local' ? <span className="muted small"> local</span> : null}</td>
                    <td>{r.agent}</td>
                    <td><code>{r.destination}</code></td>
                    <td>{r.rule}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Page>
  );
}
