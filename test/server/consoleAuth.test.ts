/**
 * Console sign-in and sessions on the fleet server, on SQLite and PostgreSQL: slow password
 * hashes, cookie flags, CSRF and Origin checks on changes, roles, rate-limited sign-in, idle and
 * absolute expiry, sign-out, disabled users, and sessions shared by two server processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { CSRF_HEADER, type ConsoleSession } from '../../app/api/fleetConsole.ts';
import { silentLogger } from '../../app/util/log.ts';
import { hashPassword, needsRehash, verifyPassword } from '../../server/auth/password.ts';
import { createFleetServer } from '../../server/app.ts';
import { MAX_FAILURES_PER_USER, SESSION_IDLE_MS } from '../../server/store/accounts.ts';
import { runServerCli } from '../../server/main.ts';
import { openFleetStore } from '../../server/store/fleetStore.ts';
import { backendMatrix, freshLocation, rawRequest, startTestServer, type RawResponse, type TestServer } from './helpers.ts';

const ADMIN = { username: 'alice', password: 'correct horse battery staple', role: 'admin' } as const;
const VIEWER = { username: 'victor', password: 'viewer passphrase 2026', role: 'viewer' } as const;
const POLICY = 'version: 1\nrules:\n  - id: no-paste\n    action: deny\n    hosts: [pastebin.com]\n';

type Signed = { cookie: string; session: ConsoleSession; setCookie: string };

function signIn(server: TestServer, username: string, password: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(`${server.url}/console/api/session`, 'POST', { 'content-type': 'application/json', ...headers }, JSON.stringify({ username, password }));
}

async function signedIn(server: TestServer, user: { username: string; password: string }): Promise<Signed> {
  const r = await signIn(server, user.username, user.password);
  assert.equal(r.status, 200, r.text);
  const setCookie = String(r.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0] ?? '', session: r.body as unknown as ConsoleSession, setCookie };
}

function withSession(server: TestServer, s: Signed, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { cookie: s.cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra };
  return rawRequest(`${server.url}${path}`, method, headers, body === undefined ? undefined : JSON.stringify(body));
}

test('passwords: scrypt, salted, constant-format; malformed stored hashes never match', async () => {
  const a = await hashPassword('a long enough passphrase');
  const b = await hashPassword('a long enough passphrase');
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b, 'salted');
  assert.equal(await verifyPassword('a long enough passphrase', a), true);
  assert.equal(await verifyPassword('a long enough passphrasE', a), false);
  for (const bad of ['', 'scrypt$1$1$1$x$y', 'bcrypt$whatever', 'scrypt$99999999$8$1$AAAA$BBBB', `${a}$extra`]) assert.equal(await verifyPassword('x', bad), false, bad);
  assert.equal(needsRehash('scrypt$16384$8$1$AAAA$BBBB'), true);
  assert.equal(needsRehash(a), false);
});

for (const { backend, skip, fresh } of backendMatrix()) {
  describe(`console sign-in and sessions (${backend})`, { skip }, () => {
    let server: TestServer;
    let now = Date.now();

    test('setup: an admin and a viewer', async () => {
      const { location, cleanup } = await fresh();
      server = await startTestServer(location, { cleanup, clock: () => now });
      await server.store.accounts.createUser(ADMIN, now);
      await server.store.accounts.createUser(VIEWER, now);
      await assert.rejects(server.store.accounts.createUser({ ...VIEWER, password: 'another passphrase' }, now), /already exists/);
      await assert.rejects(server.store.accounts.createUser({ username: 'shorty', password: 'short', role: 'viewer' }, now), /at least 12/);
      await assert.rejects(server.store.accounts.createUser({ username: 'bad name!', password: 'long enough password', role: 'viewer' }, now), /username/);
      const stored = await server.store.driver.get<{ password_hash: string }>('SELECT password_hash FROM console_users WHERE username = ?', ['alice']);
      assert.ok(stored && !stored.password_hash.includes(ADMIN.password), 'only the hash is stored');
    });

    test('sign-in: the cookie is HttpOnly and SameSite=Strict; wrong passwords and unknown users get the same answer', async () => {
      const s = await signedIn(server, ADMIN);
      assert.match(s.setCookie, /^cordon_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/, 'plain HTTP: no Secure, no __Host- prefix');
      assert.equal(s.session.user.username, 'alice');
      assert.equal(s.session.user.role, 'admin');
      assert.equal(s.session.csrfToken.length, 43);
      const me = await withSession(server, s, 'GET', '/console/api/session');
      assert.equal(me.status, 200);
      assert.equal((me.body as unknown as ConsoleSession).csrfToken, s.session.csrfToken);
      const wrong = await signIn(server, 'ALICE', 'not the password at all');
      const unknown = await signIn(server, 'mallory', 'not the password at all');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.text, unknown.text);
      assert.equal(wrong.headers['set-cookie'], undefined);
      assert.equal((await signIn(server, 'Alice', ADMIN.password)).status, 200, 'usernames are case-insensitive');
      const junk = await rawRequest(`${server.url}/console/api/session`, 'POST', { 'content-type': 'application/json' }, '{"username": 1}');
      assert.equal(junk.status, 400);
      const form = await rawRequest(`${server.url}/console/api/session`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'username=alice&password=x');
      assert.equal(form.status, 415, 'an HTML form cannot post a sign-in');
      const foreign = await signIn(server, ADMIN.username, ADMIN.password, { origin: 'https://evil.example' });
      assert.equal(foreign.status, 403, 'login CSRF from another site is refused');
    });

    test('roles: a viewer reads but cannot change; changes need the CSRF header and this origin', async () => {
      const viewer = await signedIn(server, VIEWER);
      assert.equal((await withSession(server, viewer, 'GET', '/admin/v1/devices')).status, 200);
      assert.equal((await withSession(server, viewer, 'GET', '/admin/v1/overview')).status, 200);
      const forged = await withSession(server, viewer, 'PUT', '/admin/v1/policy', { text: POLICY }, { [CSRF_HEADER]: viewer.session.csrfToken });
      assert.equal(forged.status, 403);
      assert.equal(forged.body?.error, 'forbidden');
      assert.equal((await withSession(server, viewer, 'GET', '/admin/v1/users')).status, 403, 'user management is admin-only');
      assert.equal((await withSession(server, viewer, 'GET', '/admin/v1/enroll-secrets')).status, 403);

      const admin = await signedIn(server, ADMIN);
      const noCsrf = await withSession(server, admin, 'PUT', '/admin/v1/policy', { text: POLICY });
      assert.equal(noCsrf.status, 403);
      assert.equal(noCsrf.body?.error, 'csrf_failed');
      const otherCsrf = await withSession(server, admin, 'PUT', '/admin/v1/policy', { text: POLICY }, { [CSRF_HEADER]: viewer.session.csrfToken });
      assert.equal(otherCsrf.status, 403, "another session's CSRF token does not work");
      const crossSite = await withSession(server, admin, 'PUT', '/admin/v1/policy', { text: POLICY }, { [CSRF_HEADER]: admin.session.csrfToken, origin: 'http://localhost.evil.example' });
      assert.equal(crossSite.status, 403);
      const sameSite = await withSession(server, admin, 'PUT', '/admin/v1/policy', { text: POLICY, comment: 'block paste' }, { [CSRF_HEADER]: admin.session.csrfToken, origin: server.url });
      assert.equal(sameSite.status, 201, sameSite.text);
      assert.equal((await server.store.policies.status()).current?.comment, 'block paste');
      assert.equal((await rawRequest(`${server.url}/admin/v1/devices`, 'GET', { cookie: 'cordon_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).status, 401, 'a made-up session is refused');
    });

    test('sign-in is rate limited per username, and a correct password does not get past the limit', async () => {
      for (let i = 0; i < MAX_FAILURES_PER_USER; i++) assert.equal((await signIn(server, VIEWER.username, `wrong password ${i}`)).status, 401);
      const limited = await signIn(server, VIEWER.username, VIEWER.password);
      assert.equal(limited.status, 429);
      assert.equal(limited.body?.error, 'rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 900, String(retryAfter));
      assert.equal((await signIn(server, ADMIN.username, ADMIN.password)).status, 200, 'another user is not locked out by it');
      now += 15 * 60_000 + 1000;
      assert.equal((await signIn(server, VIEWER.username, VIEWER.password)).status, 200, 'the window passes');
    });

    test('sessions end: idle timeout, sign-out, disabling the user, a new password', async () => {
      const idle = await signedIn(server, VIEWER);
      now += SESSION_IDLE_MS + 1000;
      assert.equal((await withSession(server, idle, 'GET', '/console/api/session')).status, 401, 'idle too long');

      const admin = await signedIn(server, ADMIN);
      const out = await withSession(server, admin, 'DELETE', '/console/api/session', undefined, { [CSRF_HEADER]: admin.session.csrfToken });
      assert.equal(out.status, 204);
      assert.match(String(out.headers['set-cookie']), /cordon_console=; .*Max-Age=0/);
      assert.equal((await withSession(server, admin, 'GET', '/admin/v1/devices')).status, 401, 'signed out on the server, not just in the browser');

      const admin2 = await signedIn(server, ADMIN);
      const viewer = await signedIn(server, VIEWER);
      const users = (await withSession(server, admin2, 'GET', '/admin/v1/users')).body?.items as { id: string; username: string }[];
      const victor = users.find((u) => u.username === 'victor');
      const alice = users.find((u) => u.username === 'alice');
      assert.ok(victor && alice);
      const csrf = { [CSRF_HEADER]: admin2.session.csrfToken };
      assert.equal((await withSession(server, admin2, 'POST', `/admin/v1/users/${alice.id}/disable`, undefined, csrf)).status, 422, 'not yourself');
      assert.equal((await withSession(server, admin2, 'POST', `/admin/v1/users/${victor.id}/disable`, undefined, csrf)).status, 200);
      assert.equal((await withSession(server, viewer, 'GET', '/admin/v1/devices')).status, 401, 'a disabled user is signed out');
      assert.equal((await signIn(server, VIEWER.username, VIEWER.password)).status, 401);
      assert.equal((await withSession(server, admin2, 'POST', `/admin/v1/users/${victor.id}/enable`, undefined, csrf)).status, 200);
      const again = await signedIn(server, VIEWER);
      const weak = await withSession(server, admin2, 'POST', `/admin/v1/users/${victor.id}/password`, { password: 'short' }, csrf);
      assert.equal(weak.status, 422);
      assert.equal((await withSession(server, admin2, 'POST', `/admin/v1/users/${victor.id}/password`, { password: 'a brand new passphrase' }, csrf)).status, 200);
      assert.equal((await withSession(server, again, 'GET', '/admin/v1/devices')).status, 401, 'a new password ends old sessions');
      assert.equal((await signIn(server, VIEWER.username, 'a brand new passphrase')).status, 200);
      const created = await withSession(server, admin2, 'POST', '/admin/v1/users', { username: 'carol', password: 'her own long passphrase', role: 'viewer' }, csrf);
      assert.equal(created.status, 201, created.text);
      assert.equal((await withSession(server, admin2, 'POST', '/admin/v1/users', { username: 'carol', password: 'her own long passphrase', role: 'viewer' }, csrf)).status, 409);
      assert.equal((await withSession(server, admin2, 'POST', '/admin/v1/users', { username: 'dave', password: 'his own long passphrase', role: 'root' }, csrf)).status, 400);
    });

    test('two server processes on one database share sessions and sign-in failures', async () => {
      // A second store on the same file or database is a second process's view: its own connections, no shared memory.
      const location = backend === 'sqlite' ? { kind: 'sqlite' as const, file: server.store.description.replace(/^sqlite:/, '') } : null;
      if (!location) return; // PostgreSQL: multiProcess.test.ts covers shared state; sessions are in the same database.
      const store = await openFleetStore(location);
      const other = createFleetServer({ store, log: silentLogger, clock: () => now });
      const url = await other.listen(0);
      try {
        const s = await signedIn(server, ADMIN);
        const r = await rawRequest(`${url}/admin/v1/overview`, 'GET', { cookie: s.cookie });
        assert.equal(r.status, 200, 'a session made by one process works on the other');
      } finally {
        await other.close();
        await store.close();
      }
    });

    test('HTTPS public URL: the cookie is Secure with the __Host- prefix', async () => {
      const store = server.store;
      const secure = createFleetServer({ store, log: silentLogger, publicUrl: 'https://fleet.example.com', clock: () => now });
      const url = await secure.listen(0);
      try {
        const r = await rawRequest(`${url}/console/api/session`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ username: ADMIN.username, password: ADMIN.password }));
        assert.equal(r.status, 200, r.text);
        assert.match(String(r.headers['set-cookie']), /^__Host-cordon_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
        const cookie = String(r.headers['set-cookie']).split(';')[0] ?? '';
        assert.equal((await rawRequest(`${url}/admin/v1/overview`, 'GET', { cookie })).status, 200);
        assert.equal((await rawRequest(`${url}/admin/v1/overview`, 'GET', { cookie: cookie.replace('__Host-', '') })).status, 401, 'the insecure cookie name is not accepted over HTTPS');
      } finally {
        await secure.close();
      }
    });

    test('teardown', async () => {
      await server.close();
    });
  });
}

test('server CLI: console users from a piped password or a file; weak passwords and bad roles refused', async () => {
  const { location, cleanup } = await freshLocation('sqlite');
  const db = location.kind === 'sqlite' ? `sqlite:${location.file}` : '';
  const dir = mkdtempSync(join(tmpdir(), 'cordon-users-'));
  const cli = async (argv: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
    const code = await runServerCli(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env: {}, ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}) });
    return { code, out, err };
  };
  try {
    const created = await cli(['user', 'create', '--db', db, '--username', 'Alice', '--role', 'admin'], 'piped passphrase 123\n');
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /^created admin alice \(usr_/);
    writeFileSync(join(dir, 'pw'), 'file passphrase 456\n');
    assert.equal((await cli(['user', 'create', '--db', db, '--username', 'bob', '--password-file', join(dir, 'pw')])).code, 0);
    assert.equal((await cli(['user', 'create', '--db', db, '--username', 'bob', '--password-file', join(dir, 'pw')])).code, 1, 'exists');
    assert.equal((await cli(['user', 'create', '--db', db, '--username', 'eve'], 'short\n')).code, 1);
    assert.equal((await cli(['user', 'create', '--db', db, '--username', 'eve', '--role', 'root'], 'long enough passphrase\n')).code, 2);
    assert.equal((await cli(['user', 'create', '--db', db, '--username', 'eve'])).code, 2, 'no password source');
    assert.equal((await cli(['user', 'disable', 'bob', '--db', db])).code, 0);
    const listed = await cli(['user', 'list', '--db', db]);
    assert.match(listed.out, /^alice\tadmin\tenabled\tlast sign-in never\nbob\tviewer\tdisabled\t/);
    assert.equal((await cli(['user', 'password', 'alice', '--db', db], 'another passphrase 789\n')).code, 0);
    const store = await openFleetStore(location);
    try {
      const outcome = await store.accounts.signIn('alice', 'another passphrase 789', '127.0.0.1', Date.now());
      assert.equal(outcome.ok, true);
      assert.equal((await store.accounts.signIn('bob', 'file passphrase 456', '127.0.0.1', Date.now())).ok, false, 'disabled');
    } finally {
      await store.close();
    }
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
