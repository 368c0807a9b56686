/**
 * Enroll secrets (admins only): what IT pushes with MDM so laptops enroll themselves. Create one
 * (its value is shown once, here, and never again), list them, revoke them.
 */
import { useState, type FormEvent } from 'react';
import type { EnrollSecretInfo } from '../../../../app/api/sync.ts';
import { Badge, Card, Empty, Loaded, Page, type Tone } from '../../../../renderer/src/components/ui.tsx';
import { ConfirmButton } from '../components/Confirm.tsx';
import { useApi, useConsole } from '../context.ts';
import { formatTime, messageOf } from '../format.ts';

function stateOf(s: EnrollSecretInfo, now: number): [string, Tone] {
  if (s.revokedAt) return ['revoked', 'muted'];
  if (s.expiresAt && Date.parse(s.expiresAt) <= now) return ['expired', 'muted'];
  if (s.maxUses !== null && s.uses >= s.maxUses) return ['used up', 'muted'];
  return ['active', 'ok'];
}

function CreateForm({ onCreated }: { onCreated(): void }) {
  const { api, announce } = useConsole();
  const [label, setLabel] = useState('');
  const [days, setDays] = useState('');
  const [maxUses, setMaxUses] = useState('');
  const [created, setCreated] = useState<{ secret: string; info: EnrollSecretInfo } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const result = await api.createEnrollSecret({
        ...(label.trim() ? { label: label.trim() } : {}),
        ...(days ? { expiresInDays: Number(days) } : {}),
        ...(maxUses ? { maxUses: Number(maxUses) } : {}),
      });
      setCreated(result);
      setLabel('');
      setDays('');
      setMaxUses('');
      announce('Enroll secret created: copy it now, it is shown only once.', 'status');
      onCreated();
    } catch (err) {
      announce(`Could not create the enroll secret: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="New enroll secret" wide>
      <form className="form-row" onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor="secret-label">Label</label>
          <input id="secret-label" value={label} maxLength={200} placeholder="e.g. engineering laptops" onChange={(e) => setLabel(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="secret-days">Expires in (days)</label>
          <input id="secret-days" type="number" min={1} max={3650} value={days} placeholder="never" onChange={(e) => setDays(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="secret-uses">Maximum uses</label>
          <input id="secret-uses" type="number" min={1} max={10_000_000} value={maxUses} placeholder="unlimited" onChange={(e) => setMaxUses(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={busy}>Create</button>
      </form>
      {created ? (
        <div className="secret-once" data-testid="secret-once">
          <p><strong>Copy this secret now.</strong> It is shown only once: the server keeps only its hash.</p>
          <p>
            <label htmlFor="secret-value" className="visually-hidden">Enroll secret</label>
            <input id="secret-value" className="mono wide-input" readOnly value={created.secret} onFocus={(e) => e.currentTarget.select()} />{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created.secret).then(() => announce('Copied.', 'status'), () => announce('Copy failed: select the text and copy it.'))}>Copy</button>{' '}
            <button type="button" onClick={() => setCreated(null)}>Done</button>
          </p>
          <p className="muted small">Devices enroll with <code>cordon enroll --server {window.location.origin} --secret …</code> or from managed settings.</p>
        </div>
      ) : null}
    </Card>
  );
}

export function EnrollSecrets() {
  const { api, isAdmin } = useConsole();
  const secrets = useApi((a) => (isAdmin ? a.enrollSecrets() : Promise.resolve({ items: [] })), 'enroll-secrets');
  const now = Date.now();
  if (!isAdmin) return <Page title="Enroll secrets"><p>Only admins manage enroll secrets.</p></Page>;
  return (
    <Page title="Enroll secrets">
      <CreateForm onCreated={secrets.reload} />
      <Card title="Secrets" wide>
        <Loaded state={secrets}>
          {({ items }) => items.length === 0 ? <Empty>No enroll secrets.</Empty> : (
            <table data-testid="secrets-table">
              <thead><tr><th scope="col">Label</th><th scope="col">Id</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Uses</th><th scope="col">State</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                {items.map((s) => {
                  const [state, tone] = stateOf(s, now);
                  return (
                    <tr key={s.id}>
                      <th scope="row">{s.label ?? '—'}</th>
                      <td><code className="small">{s.id}</code></td>
                      <td>{formatTime(s.createdAt)}</td>
                      <td>{s.expiresAt ? formatTime(s.expiresAt) : 'never'}</td>
                      <td>{s.uses}{s.maxUses !== null ? ` of ${s.maxUses}` : ''}</td>
                      <td><Badge tone={tone}>{state}</Badge></td>
                      <td>
                        {s.revokedAt ? null : (
                          <ConfirmButton
                            label="Revoke"
                            ariaLabel={`Revoke ${s.label ?? s.id}`}
                            danger
                            title={`Revoke ${s.label ?? s.id}?`}
                            confirmLabel="Revoke secret"
                            done="The enroll secret is revoked: no new device can enroll with it."
                            action={() => api.revokeEnrollSecret(s.id)}
                            onDone={secrets.reload}
                          >
                            <p>No new device can enroll with it. Devices already enrolled are not affected.</p>
                          </ConfirmButton>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Loaded>
      </Card>
    </Page>
  );
}
