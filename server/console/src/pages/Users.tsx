/** Console users (admins only): list, create with a role, disable and enable again. */
import { useState, type FormEvent } from 'react';
import type { ConsoleRole } from '../../../../app/api/fleetConsole.ts';
import { CONSOLE_ROLES, PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN } from '../../../../app/api/fleetConsole.ts';
import { Badge, Card, Empty, Loaded, Page } from '../../../../renderer/src/components/ui.tsx';
import { ConfirmButton } from '../components/Confirm.tsx';
import { useApi, useConsole } from '../context.ts';
import { formatTime, messageOf } from '../format.ts';

function CreateUser({ onCreated }: { onCreated(): void }) {
  const { api, announce } = useConsole();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<ConsoleRole>('viewer');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!new RegExp(USERNAME_PATTERN).test(username.trim())) {
      announce('A username is 1 to 64 letters, digits, dots, underscores, @ or hyphens.');
      return;
    }
    setBusy(true);
    try {
      const user = await api.createUser({ username: username.trim(), password, role });
      announce(`User ${user.username} created (${user.role}).`, 'status');
      setUsername('');
      setPassword('');
      onCreated();
    } catch (err) {
      announce(`Could not create the user: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="New user" wide>
      <form className="form-row" onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor="user-name">Username</label>
          <input id="user-name" required maxLength={64} autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="user-password">Password ({PASSWORD_MIN} characters or more)</label>
          <input id="user-password" type="password" required minLength={PASSWORD_MIN} maxLength={PASSWORD_MAX} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select id="user-role" value={role} onChange={(e) => setRole(e.target.value === 'admin' ? 'admin' : 'viewer')}>
            {CONSOLE_ROLES.map((r) => <option key={r} value={r}>{r === 'admin' ? 'Admin (can change things)' : 'Viewer (read only)'}</option>)}
          </select>
        </div>
        <button type="submit" className="primary" disabled={busy}>Create user</button>
      </form>
    </Card>
  );
}

export function Users() {
  const { api, isAdmin, session } = useConsole();
  const users = useApi((a) => (isAdmin ? a.users() : Promise.resolve({ items: [] })), 'users');
  if (!isAdmin) {
    return <Page title="Users"><p>Only admins manage console users.</p></Page>;
  }
  return (
    <Page title="Users">
      <CreateUser onCreated={users.reload} />
      <Card title="Console users" wide>
        <Loaded state={users}>
          {({ items }) => items.length === 0 ? <Empty>No users.</Empty> : (
            <table data-testid="users-table">
              <thead><tr><th scope="col">Username</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Last sign-in</th><th scope="col">State</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                {items.map((u) => (
                  <tr key={u.id}>
                    <th scope="row">{u.username}{u.id === session.user.id ? <span className="muted small"> (you)</span> : null}</th>
                    <td><Badge tone={u.role === 'admin' ? 'info' : 'muted'}>{u.role}</Badge></td>
                    <td>{formatTime(u.createdAt)}</td>
                    <td>{formatTime(u.lastSignInAt)}</td>
                    <td>{u.disabledAt ? <Badge tone="bad">disabled</Badge> : <Badge tone="ok">active</Badge>}</td>
                    <td>
                      {u.id === session.user.id ? null : u.disabledAt ? (
                        <ConfirmButton label="Enable" ariaLabel={`Enable ${u.username}`} title={`Enable ${u.username}?`} confirmLabel="Enable" done={`${u.username} can sign in again.`} action={() => api.enableUser(u.id)} onDone={users.reload}>
                          <p>{u.username} can sign in again with their password.</p>
                        </ConfirmButton>
                      ) : (
                        <ConfirmButton label="Disable" ariaLabel={`Disable ${u.username}`} danger title={`Disable ${u.username}?`} confirmLabel="Disable" done={`${u.username} is disabled and signed out.`} action={() => api.disableUser(u.id)} onDone={users.reload}>
                          <p>{u.username} cannot sign in any more, and their sessions end.</p>
                        </ConfirmButton>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Card>
    </Page>
  );
}
