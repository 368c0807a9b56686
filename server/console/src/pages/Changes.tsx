/** New, changed and removed agents and MCP servers across the fleet, newest first, keyset-paged. */
import { useEffect, useState } from 'react';
import { Badge, Card, Empty, Page } from '../../../../renderer/src/components/ui.tsx';
import { PagerControls } from '../components/Pager.tsx';
import { Results } from '../components/Results.tsx';
import { SelectField } from '../components/SelectField.tsx';
import { useApi, usePager } from '../context.ts';
import { changeTone, formatTime, isoToLocalInput, localInputToIso } from '../format.ts';
import { href, replaceFilters } from '../router.ts';

const PAGE_SIZE = 100;

export function Changes({ params }: { params: URLSearchParams }) {
  const [item, setItem] = useState(params.get('item') ?? '');
  const [since, setSince] = useState(params.get('since') ?? isoToLocalInput(Date.now() - 7 * 86_400_000));
  const deviceId = params.get('deviceId') ?? '';
  useEffect(() => replaceFilters('changes', [], { item, since, deviceId }), [item, since, deviceId]);
  const filter = { item, since: localInputToIso(since), deviceId };
  const key = JSON.stringify(filter);
  const pager = usePager(key);
  const changes = useApi((api) => api.changes({ ...filter, limit: PAGE_SIZE, cursor: pager.cursor }), `${key}|${pager.cursor ?? ''}`);
  return (
    <Page title="Changes">
      <form className="filters" aria-label="Filter changes" onSubmit={(e) => e.preventDefault()}>
        <SelectField id="changes-item" label="Item" value={item} onChange={setItem} options={[['', 'Agents and MCP servers'], ['agent', 'Agents'], ['mcp-server', 'MCP servers']]} />
        <div className="field">
          <label htmlFor="changes-since">Since</label>
          <input id="changes-since" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        </div>
        {deviceId ? <p className="muted">One device only · <a href={href('changes', [], { item, since })}>all devices</a></p> : null}
      </form>
      <Card title="New and changed items" wide>
        <Results state={changes}>
          {(page) => (
            <>
              {page.items.length === 0 ? <Empty>No changes in this period.</Empty> : (
                <table data-testid="changes-table">
                  <thead><tr><th scope="col">When</th><th scope="col">Device</th><th scope="col">Item</th><th scope="col">Name</th><th scope="col">Change</th><th scope="col">Detail</th></tr></thead>
                  <tbody>
                    {page.items.map((c, i) => (
                      <tr key={`${c.at}|${c.deviceId}|${c.itemId}|${i}`}>
                        <td>{formatTime(c.at)}</td>
                        <th scope="row"><a href={href('devices', [c.deviceId])}>{c.hostname}</a></th>
                        <td>{c.item === 'agent' ? 'agent' : 'MCP server'}</td>
                        <td>{c.name}</td>
                        <td><Badge tone={changeTone(c.change)}>{c.change}</Badge></td>
                        <td className="small">{c.detail ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <PagerControls pager={pager} nextCursor={page.nextCursor} shown={page.items.length} tookMs={page.tookMs} label="Changes" />
            </>
          )}
        </Results>
      </Card>
    </Page>
  );
}
