/** Policy: the effective rules in evaluation order, each with its layer and file:line; IT-locked ones marked. */
import type { EffectiveRule, PolicyLayerName } from '../../../app/api/policy.ts';
import { useCall } from '../client/hooks.ts';
import { Badge, Card, Empty, Loaded, Page, actionTone } from '../components/ui.tsx';

const LOCKED_LAYERS: readonly PolicyLayerName[] = ['managed', 'fleet'];

function matchOf(entry: EffectiveRule): string {
  const r = entry.rule as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ['hosts', 'ips', 'cidrs', 'ports', 'methods', 'paths', 'commands', 'files', 'operations', 'agents', 'flags']) {
    const v = r[key];
    if (Array.isArray(v) && v.length) parts.push(`${key}: ${v.join(', ')}`);
  }
  const mcp = r.mcp;
  if (Array.isArray(mcp) && mcp.length) parts.push(`mcp: ${mcp.map((m: { server?: string; tools?: string[] }) => `${m.server ?? '?'}${m.tools ? `/${m.tools.join('|')}` : ''}`).join(', ')}`);
  return parts.join(' · ') || 'everything';
}

export function Policy() {
  const policy = useCall('policy', {}, ['policy.']);
  return (
    <Page title="Policy">
      <Loaded state={policy}>
        {({ view, problems }) => (
          <>
            <p>
              Mode <strong>{view.mode ?? 'from settings'}</strong> · default for egress <Badge tone={actionTone(view.defaults.egress)}>{view.defaults.egress}</Badge> ({view.defaults.origin.egress}) ·
              unattributed <Badge tone={actionTone(view.defaults.unattributed)}>{view.defaults.unattributed}</Badge> · local <Badge tone={actionTone(view.defaults.local)}>{view.defaults.local}</Badge>
              {view.failClosed ? <> · <Badge tone="bad">fail-closed</Badge></> : null}
            </p>
            <Card title={`Rules (${view.rules.length})`} wide>
              {view.rules.length === 0 ? <Empty>No rules: defaults apply.</Empty> : (
                <table data-testid="policy-rules">
                  <thead><tr><th scope="col">Rule</th><th scope="col">Kind</th><th scope="col">Action</th><th scope="col">Matches</th><th scope="col">Layer</th><th scope="col">Source</th></tr></thead>
                  <tbody>
                    {view.rules.map((entry, i) => {
                      const locked = LOCKED_LAYERS.includes(entry.layer);
                      return (
                        <tr key={`${entry.layer}:${entry.rule.id}:${i}`}>
                          <td>{entry.rule.id}{entry.rule.description ? <div className="muted small">{entry.rule.description}</div> : null}</td>
                          <td>{entry.kind}</td>
                          <td><Badge tone={actionTone(entry.rule.action)}>{entry.rule.action}</Badge></td>
                          <td className="small">{matchOf(entry)}</td>
                          <td>{entry.layer} {locked ? <Badge tone="info" title="Set by IT: you cannot change it">🔒 IT-locked</Badge> : null}</td>
                          <td><code className="small">{entry.file}:{entry.line}</code></td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
            </Card>
            <Card title="Sources" wide>
              <table>
                <thead><tr><th scope="col">Layer</th><th scope="col">File</th><th scope="col">Status</th><th scope="col">Rules</th></tr></thead>
                <tbody>
                  {view.sources.map((s) => (
                    <tr key={`${s.layer}:${s.file}`}><td>{s.layer}</td><td><code className="small">{s.file}</code></td><td><Badge tone={s.status === 'loaded' ? 'ok' : s.status === 'missing' ? 'muted' : 'bad'}>{s.status}</Badge></td><td>{s.rules} egress, {s.localRules} local</td></tr>
                  ))}
                </tbody>
              </table>
            </Card>
            <Card title={`Problems (${problems.length})`} wide>
              {problems.length === 0 ? <Empty>No problems.</Empty> : (
                <ul>{problems.map((p, i) => <li key={i}><Badge tone={p.severity === 'error' ? 'bad' : 'warn'}>{p.severity}</Badge> <code>{p.file}:{p.line}:{p.column}</code> {p.message}</li>)}</ul>
              )}
            </Card>
          </>
        )}
      </Loaded>
    </Page>
  );
}
