/**
 * Devices: search (hostname, user or id) and filters by platform, mode, protection and status,
 * keyset-paged so it stays fast at 10,000 devices; each row opens the device's detail.
 */
import { useEffect, useState } from 'react';
import { Badge, Card, Empty, Page } from '../../../../renderer/src/components/ui.tsx';
import { PagerControls } from '../components/Pager.tsx';
import { Results } from '../components/Results.tsx';
import { useApi, useDebounced, usePager } from '../context.ts';
import { ago, formatTime, protectionTone } from '../format.ts';
import { SelectField } from '../components/SelectField.tsx';
import { href, replaceFilters } from '../router.ts';

const PAGE_SIZE = 50;

export function Devices({ params }: { params: URLSearchParams }) {
  const [q, setQ] = useState(params.get('q') ?? '');
  const [platform, setPlatform] = useState(params.get('platform') ?? '');
  const [mode, setMode] = useState(params.get('mode') ?? '');
  const [protection, setProtection] = useState(params.get('protection') ?? '');
  const [status, setStatus] = useState(params.get('status') ?? 'active');
  const search = useDebounced(q.trim());
  const filter = { q: search, platform, mode, protection, status };
  const key = JSON.stringify(filter);
  const pager = usePager(key);
  useEffect(() => replaceFilters('devices', [], { q: search, platform, mode, protection, status: status === 'active' ? '' : status }), [search, platform, mode, protection, status]);
  const devices = useApi((api) => api.devices({ ...filter, limit: PAGE_SIZE, cursor: pager.cursor }), `${key}|${pager.cursor ?? ''}`);
  return (
    <Page title="Devices">
      <form className="filters" role="search" aria-label="Search devices" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="devices-q">Search</label>
          <input id="devices-q" type="search" value={q} placeholder="hostname, user or device id" maxLength={256} onChange={(e) => setQ(e.target.value)} />
        </div>
        <SelectField id="devices-platform" label="Platform" value={platform} onChange={setPlatform} options={[['', 'All'], ['linux', 'Linux'], ['darwin', 'macOS'], ['win32', 'Windows']]} />
        <SelectField id="devices-mode" label="Mode" value={mode} onChange={setMode} options={[['', 'All'], ['enforce', 'Enforce'], ['monitor', 'Monitor']]} />
        <SelectField
          id="devices-protection"
          label="Protection"
          value={protection}
          onChange={setProtection}
          options={[['', 'All'], ['protected', 'Protected'], ['degraded', 'Degraded'], ['unprotected', 'Unprotected'], ['unknown', 'Unknown']]}
        />
        <SelectField id="devices-status" label="Status" value={status} onChange={setStatus} options={[['active', 'Active'], ['revoked', 'Revoked'], ['all', 'All']]} />
      </form>
      <Card title="Devices" wide>
        <Results state={devices}>
          {(page) => (
            <>
              {page.items.length === 0 ? <Empty>No devices match.</Empty> : (
                <table data-testid="devices-table">
                  <thead>
                    <tr>
                      <th scope="col">Hostname</th><th scope="col">User</th><th scope="col">OS</th><th scope="col">Version</th><th scope="col">Mode</th>
                      <th scope="col">Protection</th><th scope="col">Policy</th><th scope="col">Last seen</th><th scope="col">Agents</th><th scope="col">MCP servers</th><th scope="col">Literal secrets</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((d) => (
                      <tr key={d.id} className={d.chainProblems > 0 ? 'row-bad' : undefined}>
                        <th scope="row">
                          <a href={href('devices', [d.id])}>{d.hostname}</a>
                          {d.revokedAt ? <> <Badge tone="bad">revoked</Badge></> : null}
                          {d.rekeyRequested ? <> <Badge tone="warn">re-key requested</Badge></> : null}
                          {d.chainProblems > 0 ? <> <Badge tone="bad" title="events whose hashes did not verify or chain">{d.chainProblems} chain problems</Badge></> : null}
                        </th>
                        <td>{d.user}</td>
                        <td>{d.platform}</td>
                        <td>{d.agentVersion}</td>
                        <td>{d.mode ?? '—'}</td>
                        <td><Badge tone={protectionTone(d.protection)}>{d.protection ?? 'unknown'}</Badge></td>
                        <td>{d.policyVersion ?? '—'}</td>
                        <td title={formatTime(d.lastSeenAt)}>{ago(d.lastSeenAt)}</td>
                        <td>{d.agents}</td>
                        <td>{d.mcpServers}</td>
                        <td>{d.literalSecrets > 0 ? <Badge tone="bad">{d.literalSecrets}</Badge> : 0}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <PagerControls pager={pager} nextCursor={page.nextCursor} shown={page.items.length} tookMs={page.tookMs} label="Devices" />
            </>
          )}
        </Results>
      </Card>
    </Page>
  );
}
