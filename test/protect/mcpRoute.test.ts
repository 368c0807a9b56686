// `cordon agents protect --mcp` on fixtures of every supported agent's MCP config (JSONC with
// comments, Codex TOML with comments): stdio servers wrapped, literal env secrets moved into the
// real keychain (a private gnome-keyring under scripts/run-tests.ts), references and remote
// servers left alone; idempotent; unprotect restores the file byte for byte and deletes the
// credentials; a file edited in between gets the servers and secrets back; drift is noticed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parseJsonc } from '../../app/config/jsonc.ts';
import { createCredentialStore, type CredentialStore } from '../../app/identity/credentials.ts';
import { createOsKeyStore } from '../../app/identity/keyStore.ts';
import { ROUTE_MARK } from '../../app/protect/mcpRoute.ts';
import { protectAgent, protectionState, unprotectAgent, type ProtectContext } from '../../app/protect/protect.ts';
import type { ProtectAgent, ProtectSettings } from '../../app/protect/types.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const SERVICE = `dev.cordon.test.mcproute.${randomBytes(4).toString('hex')}`;
const LAUNCHER = { command: '/opt/node/bin/node', args: ['/opt/cordon/bin/cordon.js'] };

type Case = {
  agent: ProtectAgent;
  fixture: string;
  file: string;
  /** The stdio server holding a literal secret, its variable and the secret. */
  server: string;
  variable: string;
  secret: string;
  command: string;
  args: string[];
  /** Env the routed server keeps (non-secret values). */
  keptEnv: Record<string, string> | undefined;
  comment: string | null;
  remote: string;
};

const GITHUB = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const OPENAI = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';
const cases: Case[] = [
  { agent: 'claude-code', fixture: 'mcp-claude.json', file: '.claude.json', server: 'github', variable: 'GITHUB_PERSONAL_ACCESS_TOKEN', secret: GITHUB, command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], keptEnv: undefined, comment: null, remote: 'linear' },
  { agent: 'cursor', fixture: 'mcp-cursor.json', file: '.cursor/mcp.json', server: 'github', variable: 'GITHUB_PERSONAL_ACCESS_TOKEN', secret: GITHUB, command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], keptEnv: { GITHUB_HOST: 'github.com' }, comment: '/* a hosted server */', remote: 'linear' },
  { agent: 'gemini-cli', fixture: 'mcp-gemini-settings.json', file: '.gemini/settings.json', server: 'openai-tools', variable: 'OPENAI_API_KEY', secret: OPENAI, command: 'uvx', args: ['openai-mcp'], keptEnv: undefined, comment: '// remote', remote: 'docs' },
  { agent: 'windsurf', fixture: 'mcp-windsurf.json', file: '.codeium/windsurf/mcp_config.json', server: 'stripe', variable: 'STRIPE_SECRET_KEY', secret: 'sk_test_0123456789abcdefghijklmn', command: 'npx', args: ['-y', '@stripe/mcp', '--tools=all'], keptEnv: undefined, comment: '// the Stripe server, with its key pasted in', remote: 'remote-docs' },
  { agent: 'codex', fixture: 'mcp-codex.toml', file: '.codex/config.toml', server: 'github', variable: 'GITHUB_PERSONAL_ACCESS_TOKEN', secret: GITHUB, command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], keptEnv: { GITHUB_HOST: 'github.com' }, comment: '# the official one', remote: 'linear' },
];

const stores: CredentialStore[] = [];
after(async () => {
  // Whatever a failed assertion left behind in the test keyring.
  for (const store of stores) for (const c of await store.list()) await store.remove(c.name);
});

function settings(agent: ProtectAgent, mcp = true): ProtectSettings {
  return {
    hookCommand: `/opt/node/bin/node /opt/cordon/bin/cordon-hook.js hook ${agent}`,
    hookTimeoutSeconds: 130,
    proxyUrl: 'http://127.0.0.1:47001',
    caFile: '/var/cordon/ca.pem',
    noProxy: 'localhost,127.0.0.1,::1',
    ...(mcp ? { mcp: LAUNCHER } : {}),
  };
}

function setup(): { home: string; ctx: ProtectContext; store: CredentialStore; done(): void } {
  const home = mkdtempSync(join(tmpdir(), 'cordon-mcproute-'));
  const store = createCredentialStore(createOsKeyStore({ service: SERVICE }), join(home, 'cordon-data'));
  stores.push(store);
  const ctx: ProtectContext = { where: { home, env: {}, platform: 'linux' }, stateDir: join(home, 'cordon-data', 'protect'), credentials: store };
  return { home, ctx, store, done: () => rmSync(home, { recursive: true, force: true }) };
}

function place(home: string, c: Case): string {
  const path = join(home, c.file);
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(join(FIXTURES, c.fixture), path);
  return path;
}

type Servers = Record<string, { command?: string; args?: string[]; env?: Record<string, string>; [k: string]: unknown }>;

function servers(path: string): Servers {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.toml')) return (JSON.parse(JSON.stringify(parseToml(text))) as { mcp_servers: Servers }).mcp_servers;
  const r = parseJsonc(text);
  assert.ok(r.ok, `${path} parses`);
  return (r.value as { mcpServers: Servers }).mcpServers;
}

/** An env without the proxy variables Cordon adds to Codex's servers. */
function withoutProxy(env: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!env) return env;
  const rest = Object.fromEntries(Object.entries(env).filter(([k]) => !/^(HTTPS?_PROXY|NO_PROXY|NODE_USE_ENV_PROXY|NODE_EXTRA_CA_CERTS)$/.test(k)));
  return Object.keys(rest).length > 0 ? rest : undefined;
}

function credentialOf(c: Case): string {
  return `mcp.${c.agent}.${c.server}.${c.variable}`;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

test('protect --mcp wraps stdio servers and moves literal secrets to the keychain; unprotect restores every fixture byte for byte', async () => {
  for (const c of cases) {
    const { home, ctx, store, done } = setup();
    try {
      const path = place(home, c);
      const original = readFileSync(path, 'utf8');
      const before = servers(path);
      const outcome = await protectAgent(c.agent, 'user', settings(c.agent), ctx);
      assert.equal(outcome.status, 'protected', `${c.agent}: ${outcome.notes.join('; ')}`);
      assert.ok(outcome.files.includes(path), `${c.agent} edited ${path}`);
      const text = readFileSync(path, 'utf8');
      const after = servers(path);

      // The server with a literal token: wrapped, the token gone from the file, in the keychain.
      const id = credentialOf(c);
      const routed = after[c.server];
      assert.equal(routed?.command, LAUNCHER.command, c.agent);
      assert.deepEqual(routed?.args, [...LAUNCHER.args, 'mcp', 'wrap', '--server', c.server, '--agent', c.agent, '--secret-env', `${c.variable}=${id}`, '--', c.command, ...c.args], c.agent);
      assert.deepEqual(withoutProxy(routed?.env), c.keptEnv, `${c.agent} keeps the non-secret env`);
      assert.ok(!text.includes(c.secret), `${c.agent}: the literal secret is gone from the file`);
      assert.equal(await store.localSecret(id, c.server), c.secret, `${c.agent}: the secret is in the keychain`);
      assert.equal(await store.tokenFor(id, 'api.github.com'), null, 'a local credential is never sent to a host');
      assert.match(outcome.notes.join('\n'), new RegExp(`moved the literal secret in ${c.variable} of MCP server "${c.server}"`));

      // The server with a reference: wrapped, its reference kept, nothing moved.
      const search = after.search;
      assert.equal(search?.command, LAUNCHER.command, `${c.agent} routes the reference server too`);
      assert.ok(!search?.args?.includes('--secret-env'), c.agent);
      assert.deepEqual(search?.args?.slice(-2), ['--', 'search-mcp']);
      assert.deepEqual(withoutProxy(search?.env), before.search?.env, `${c.agent} keeps the reference as written`);
      // Codex clears its servers' environment: the proxy variables still reach the wrapped server.
      if (c.agent === 'codex') assert.equal(routed?.env?.HTTPS_PROXY, 'http://127.0.0.1:47001');
      if (c.agent === 'codex') assert.deepEqual(search?.env_vars, ['SEARCH_API_KEY']);

      // The remote server: untouched, reported.
      assert.deepEqual(after[c.remote], before[c.remote], `${c.agent}: the remote server is left as it was`);
      assert.match(outcome.notes.join('\n'), new RegExp(`"${c.remote}" not routed \\(remote\\)`));
      if (c.comment) assert.ok(text.includes(c.comment), `${c.agent} keeps comments`);

      // No copy of the secret anywhere in Cordon's state (backups hold a placeholder).
      for (const file of filesUnder(join(home, 'cordon-data'))) assert.ok(!readFileSync(file, 'utf8').includes(c.secret), `${c.agent}: ${file} holds no secret`);

      const state = await protectionState(c.agent, 'user', ctx);
      assert.equal(state.drifted, false, `${c.agent} ${JSON.stringify(state)}`);
      assert.equal(state.files.find((f) => f.path === path)?.mcp, 'ok', c.agent);

      // Idempotent: the second run changes nothing.
      const again = await protectAgent(c.agent, 'user', settings(c.agent), ctx);
      assert.equal(again.status, 'unchanged', `${c.agent}: ${again.notes.join('; ')}`);
      assert.equal(readFileSync(path, 'utf8'), text);
      assert.ok(!again.notes.some((n) => n.includes('already goes through')), 'servers Cordon routed are not reported as foreign');

      const undone = await unprotectAgent(c.agent, 'user', ctx);
      assert.equal(undone.status, 'unprotected', `${c.agent}: ${undone.notes.join('; ')}`);
      assert.equal(readFileSync(path, 'utf8'), original, `${c.agent} restored byte for byte`);
      assert.equal(await store.localSecret(id, c.server), null, `${c.agent}: the credential is deleted`);
      assert.deepEqual(await store.list(), []);
      assert.equal((await protectionState(c.agent, 'user', ctx)).recorded, false);
    } finally {
      done();
    }
  }
});

test('a file edited in between: unprotect puts back the commands and the secrets, keeps the edits, deletes the credentials', async () => {
  for (const c of cases) {
    const { home, ctx, store, done } = setup();
    try {
      const path = place(home, c);
      const expected = servers(path);
      assert.equal((await protectAgent(c.agent, 'user', settings(c.agent), ctx)).status, 'protected');
      const text = readFileSync(path, 'utf8');
      if (c.agent === 'codex') writeFileSync(path, `${text}\n# user note\n[profiles.fast]\nmodel = "x"\n`);
      else writeFileSync(path, text.replace(/^\{/, '{\n  "userAdded": true,'));
      const undone = await unprotectAgent(c.agent, 'user', ctx);
      assert.equal(undone.status, 'unprotected', `${c.agent}: ${undone.notes.join('; ')}`);
      assert.match(undone.notes.join(' '), /kept your edits/);
      const restored = readFileSync(path, 'utf8');
      assert.ok(!restored.includes('cordon-hook') && !restored.includes('cordon.js') && !restored.includes(ROUTE_MARK), `${c.agent}: ${restored}`);
      if (c.comment) assert.ok(restored.includes(c.comment), `${c.agent} keeps comments`);
      assert.deepEqual(servers(path), expected, `${c.agent}: every server is back as it was, secret included`);
      assert.ok(restored.includes(c.agent === 'codex' ? 'model = "x"' : '"userAdded": true'), `${c.agent} keeps the user's edit`);
      assert.deepEqual(await store.list(), [], `${c.agent}: credentials deleted`);
    } finally {
      done();
    }
  }
});

test('drift: a routed server taken out of the gateway is noticed, and re-protecting (as the daemon does) routes it again', async () => {
  const { home, ctx, store, done } = setup();
  try {
    const c = cases[1]!;
    const path = place(home, c);
    const original = readFileSync(path, 'utf8');
    await protectAgent('cursor', 'user', settings('cursor'), ctx);
    const protectedText = readFileSync(path, 'utf8');
    // The user puts the server back to run directly (without the secret).
    const unwrapped = protectedText.replace(/"command": "\/opt\/node\/bin\/node",\s*"args": \[[^\]]*"--server",\s*"github"[^\]]*\]/, '"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]');
    assert.notEqual(unwrapped, protectedText);
    writeFileSync(path, unwrapped);
    const state = await protectionState('cursor', 'user', ctx);
    const file = state.files.find((f) => f.path === path);
    assert.deepEqual({ drifted: state.drifted, mcp: file?.mcp }, { drifted: true, mcp: 'altered' });
    assert.match(file?.problems.join(' ') ?? '', /"github" no longer goes through the Cordon gateway/);
    // The daemon re-applies with settings that do not mention MCP: the record keeps routing on.
    const outcome = await protectAgent('cursor', 'user', settings('cursor', false), ctx);
    assert.equal(outcome.status, 'protected', outcome.notes.join('; '));
    // Routed again with this installation's launcher (absolute node and bin/cordon.js, as for the hook).
    const rerouted = servers(path).github;
    assert.equal(rerouted?.command, process.execPath);
    assert.match(rerouted?.args?.[0] ?? '', /bin\/cordon\.js$/);
    assert.deepEqual(rerouted?.args?.slice(1, 8), ['mcp', 'wrap', '--server', 'github', '--agent', 'cursor', '--secret-env']);
    assert.equal((await protectionState('cursor', 'user', ctx)).drifted, false);
    // The credential survives re-routing; unprotect still gives back the original bytes.
    assert.equal(await store.localSecret(credentialOf(c), 'github'), c.secret);
    await unprotectAgent('cursor', 'user', ctx);
    assert.equal(readFileSync(path, 'utf8'), original);
    assert.deepEqual(await store.list(), []);
  } finally {
    done();
  }
});

test('protect first, --mcp later: the older backup loses the secret too, and unprotect still restores the original bytes', async () => {
  for (const c of [cases[2]!, cases[4]!]) {
    const { home, ctx, store, done } = setup();
    try {
      const path = place(home, c);
      const original = readFileSync(path, 'utf8');
      assert.equal((await protectAgent(c.agent, 'user', settings(c.agent, false), ctx)).status, 'protected');
      assert.equal(servers(path)[c.server]?.command, c.command, 'no routing without --mcp');
      const backups = filesUnder(join(ctx.stateDir, 'backups'));
      assert.ok(backups.some((b) => readFileSync(b, 'utf8').includes(c.secret)), 'the hook-only backup is the plain original');
      assert.equal((await protectAgent(c.agent, 'user', settings(c.agent), ctx)).status, 'protected');
      for (const b of filesUnder(join(ctx.stateDir, 'backups'))) assert.ok(!readFileSync(b, 'utf8').includes(c.secret), `${c.agent}: ${b} no longer holds the secret`);
      assert.equal((await unprotectAgent(c.agent, 'user', ctx)).status, 'unprotected');
      assert.equal(readFileSync(path, 'utf8'), original, c.agent);
      assert.deepEqual(await store.list(), []);
    } finally {
      done();
    }
  }
});

test('no keychain: protect --mcp refuses to move a secret and writes nothing; a server already wrapped by hand is left alone', async () => {
  const { home, ctx, done } = setup();
  try {
    const c = cases[1]!;
    const path = place(home, c);
    const original = readFileSync(path, 'utf8');
    const noKeychain: ProtectContext = { where: ctx.where, stateDir: ctx.stateDir };
    const outcome = await protectAgent('cursor', 'user', settings('cursor'), noKeychain);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.notes.join(' '), /keychain is not available/);
    assert.equal(readFileSync(path, 'utf8'), original);

    const byHand = '{ "mcpServers": { "fs": { "command": "cordon", "args": ["mcp", "wrap", "--server", "fs", "--", "npx", "fs-mcp"] } } }\n';
    writeFileSync(path, byHand);
    const wrapped = await protectAgent('cursor', 'user', settings('cursor'), ctx);
    assert.match(wrapped.notes.join(' '), /"fs" already goes through cordon mcp wrap: left alone/);
    assert.equal(readFileSync(path, 'utf8'), byHand);
    await unprotectAgent('cursor', 'user', ctx);
  } finally {
    done();
  }
});

test('MCP routing is user scope only', async () => {
  const { ctx, done } = setup();
  try {
    const outcome = await protectAgent('cursor', 'managed', settings('cursor'), ctx);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.notes.join(' '), /--scope user/);
  } finally {
    done();
  }
});

test('edge cases: odd names get a valid gateway name, mixed and multi-line secrets stay, other TOML shapes are reported', async () => {
  const { home, ctx, store, done } = setup();
  try {
    const cursor = join(home, '.cursor', 'mcp.json');
    mkdirSync(dirname(cursor), { recursive: true });
    writeFileSync(cursor, JSON.stringify({
      mcpServers: {
        'my server!': { command: 'srv', env: { API_TOKEN: 'tok_0123456789abcdefghijklmnopqrstuv' } },
        mixed: { command: 'srv', env: { AUTH_TOKEN: 'Bearer abcdefghijklmnop-${EXTRA}' } },
        broken: { command: ['srv', '--x'] },
      },
    }, null, 2));
    const outcome = await protectAgent('cursor', 'user', settings('cursor'), ctx);
    assert.equal(outcome.status, 'protected', outcome.notes.join('; '));
    const notes = outcome.notes.join('\n');
    assert.match(notes, /"my server!" is named "my-server" in the gateway/);
    assert.match(notes, /AUTH_TOKEN mixes a literal secret with a variable reference: left in place/);
    assert.match(notes, /"broken" has no command string: not routed/);
    const after = servers(cursor);
    assert.deepEqual(after['my server!']?.args?.slice(2, 9), ['wrap', '--server', 'my-server', '--agent', 'cursor', '--secret-env', 'API_TOKEN=mcp.cursor.my-server.API_TOKEN']);
    assert.equal(await store.localSecret('mcp.cursor.my-server.API_TOKEN', 'my-server'), 'tok_0123456789abcdefghijklmnopqrstuv');
    assert.equal(after.mixed?.env?.AUTH_TOKEN, 'Bearer abcdefghijklmnop-${EXTRA}');
    await unprotectAgent('cursor', 'user', ctx);

    const toml = join(home, '.codex', 'config.toml');
    mkdirSync(dirname(toml), { recursive: true });
    const tomlText = [
      '[mcp_servers]',
      'inline = { command = "srv", env = { API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz012345" } }',
      '',
      '[mcp_servers.multi]',
      'command = "srv"',
      '[mcp_servers.multi.env]',
      'SECRET_TOKEN = """',
      'sk-proj-abcdefghijklmnopqrstuvwxyz012345"""',
      '',
    ].join('\n');
    writeFileSync(toml, tomlText);
    const codex = await protectAgent('codex', 'user', settings('codex'), ctx);
    assert.equal(codex.status, 'protected', codex.notes.join('; '));
    const codexNotes = codex.notes.join('\n');
    assert.match(codexNotes, /"inline" is not written as a \[mcp_servers\.inline\] table: not routed/);
    assert.match(codexNotes, /"multi": the secret in SECRET_TOKEN is not written as one plain string line: left in place/);
    const routed = servers(toml);
    assert.equal(routed.multi?.command, LAUNCHER.command);
    assert.ok(!routed.multi?.args?.includes('--secret-env'), 'a secret left in place is not also passed by the wrap');
    assert.equal(routed.inline?.command, 'srv');
    assert.deepEqual(await store.list(), []);
    assert.equal((await unprotectAgent('codex', 'user', ctx)).status, 'unprotected');
    assert.equal(readFileSync(toml, 'utf8'), tomlText);
  } finally {
    done();
  }
});
