/** Sign-in for security staff: username and password; wrong credentials and rate limits are explained. */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ConsoleSession } from '../../../../app/api/fleetConsole.ts';
import { PASSWORD_MAX } from '../../../../app/api/fleetConsole.ts';
import { useTheme } from '../../../../renderer/src/theme.ts';
import { ApiError, signIn } from '../api.ts';
import { messageOf } from '../format.ts';

function explain(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'Wrong username or password.';
    if (e.status === 429) return `Too many sign-in attempts. Try again in ${e.retryAfter ?? 60} seconds.`;
    return `Sign-in failed: ${e.message}`;
  }
  return `Sign-in failed: ${messageOf(e)}`;
}

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn(session: ConsoleSession): void }) {
  const [theme, toggle] = useTheme();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), []);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn({ username: username.trim(), password }));
    } catch (err) {
      setError(explain(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <h1 ref={title} tabIndex={-1}>Sign in to the Cordon fleet console</h1>
        {notice ? <p role="status" className="muted">{notice}</p> : null}
        <form onSubmit={(e) => void submit(e)} aria-describedby="signin-error">
          <div className="field">
            <label htmlFor="signin-username">Username</label>
            <input id="signin-username" name="username" autoComplete="username" required maxLength={64} value={username} onChange={(e) => setUsername(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="signin-password">Password</label>
            <input id="signin-password" name="password" type="password" autoComplete="current-password" required maxLength={PASSWORD_MAX} value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          <div id="signin-error" role="alert" aria-live="assertive" className="error">{error}</div>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
        <button type="button" className="link theme-link" onClick={toggle}>{theme === 'dark' ? 'Light theme' : 'Dark theme'}</button>
      </div>
    </main>
  );
}
