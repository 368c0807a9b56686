// Protect / unprotect round trips on fixtures of every supported agent's settings (JSONC with
// comments, TOML with comments): byte-for-byte restore, a file the user edited in between, drift,
// a file created by Cordon, and refusal to overwrite a file that changed since it was read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parseJsonc } from '../../app/config/jsonc.ts';
import { readSnapshot, writeChecked } from '../../app/protect/fileStore.ts';
import { protectAgent, protectionState, unprotectAgent, type ProtectContext } from '../../app/protect/protect.ts';
import type { ProtectAgent, ProtectSettings } from '../../app/protect/types.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

const cases: { agent: ProtectAgent; fixture: string; file: string; comment: string }[] = [
  { agent: 'claude-code', fixture: 'claude-settings.json', file: '.claude/settings.json', comment: '// trailing comment' },
  { agent: 'cursor', fixture: 'cursor-hooks.json', file: '.cursor/hooks.json', comment: "/* the user's own hook */" },
  { agent: 'gemini-cli', fixture: 'gemini-settings.json', file: '.gemini/settings.json', comment: '// Gemini CLI user settings' },
  { agent: 'codex', fixture: 'codex-config.toml', file: '.codex/config.toml', comment: '# the database URL' },
  { agent: 'windsurf', fixture: 'windsurf-hooks.json', file: '.codeium/windsurf/hooks.json', comment: '// keep this' },
];

function settingsFor(agent: ProtectAgent): ProtectSettings {
  return { hookCommand: `/opt/node/bin/node /opt/cordon/bin/cordon-hook.js hook ${agent}`, hookTimeoutSeconds: 130, proxyUrl: 'http://127.0.0.1:47001', caFile: '/var/cordon/ca.pem', noProxy: 'localhost,127.0.0.1,::1' };
}

function setup(): { home: string; ctx: ProtectContext; done(): void } {
  const home = mkdtempSync(join(tmpdir(), 'cordon-protect-'));
  return { home, ctx: { where: { home, env: {}, platform: 'linux' }, stateDir: join(home, 'cordon-state') }, done: () => rmSync(home, { recursive: true, force: true }) };
}

function place(home: string, c: (typeof cases)[number]): string {
  const path = join(home, c.file);
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(join(FIXTURES, c.fixture), path);
  return path;
}

function parsed(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  // Plain JSON values: smol-toml's tables do not share Object.prototype.
  if (path.endsWith('.toml')) return JSON.parse(JSON.stringify(parseToml(text)));
  const r = parseJsonc(text);
  assert.ok(r.ok, path);
  return r.value;
}

test('protect installs the hook keeping comments; unprotect restores every fixture byte for byte', async () => {
  for (const c of cases) {
    const { home, ctx, done } = setup();
    try {
      const path = place(home, c);
      const original = readFileSync(path, 'utf8');
      const outcome = await protectAgent(c.agent, 'user', settingsFor(c.agent), ctx);
      assert.equal(outcome.status, 'protected', `${c.agent}: ${outcome.notes.join('; ')}`);
      const edited = readFileSync(path, 'utf8');
      assert.ok(edited.includes(c.comment), `${c.agent} keeps comments`);
      const hookFile = c.agent === 'codex' ? join(home, '.codex', 'hooks.json') : path;
      assert.ok(readFileSync(hookFile, 'utf8').includes(`cordon-hook.js hook ${c.agent}`), `${c.agent} hook installed`);
      const state = await protectionState(c.agent, 'user', ctx);
      assert.deepEqual({ protected: state.protected, drifted: state.drifted }, { protected: true, drifted: false }, `${c.agent} ${JSON.stringify(state)}`);
      assert.equal((await protectAgent(c.agent, 'user', settingsFor(c.agent), ctx)).status, 'unchanged', `${c.agent} second protect is a no-op`);
      const undone = await unprotectAgent(c.agent, 'user', ctx);
      assert.equal(undone.status, 'unprotected', c.agent);
      assert.equal(readFileSync(path, 'utf8'), original, `${c.agent} restored byte for byte`);
      if (c.agent === 'codex') assert.ok(!existsSync(hookFile), 'the hooks.json Cordon created is removed');
      assert.equal((await protectionState(c.agent, 'user', ctx)).recorded, false);
    } finally {
      done();
    }
  }
});

test('claude-code: the user NO_PROXY=* is overridden, and restored when the user did not touch it', async () => {
  const { home, ctx, done } = setup();
  try {
    const path = place(home, cases[0]!);
    await protectAgent('claude-code', 'user', settingsFor('claude-code'), ctx);
    const env = (parsed(path) as { env: Record<string, string> }).env;
    assert.equal(env.NO_PROXY, 'localhost,127.0.0.1,::1');
    assert.equal(env.HTTPS_PROXY, 'http://127.0.0.1:47001');
    assert.equal(env.NODE_EXTRA_CA_CERTS, '/var/cordon/ca.pem');
    // The user edits another key: unprotect keeps the edit and puts NO_PROXY back.
    writeFileSync(path, readFileSync(path, 'utf8').replace('"model": "opus"', '"model": "sonnet"'));
    const undone = await unprotectAgent('claude-code', 'user', ctx);
    assert.equal(undone.status, 'unprotected');
    assert.match(undone.notes.join(' '), /kept your edits/);
    const after = readFileSync(path, 'utf8');
    assert.ok(!after.includes('cordon-hook'), after);
    const value = parsed(path) as { model: string; env: Record<string, string>; hooks: { PreToolUse: unknown[] } };
    assert.equal(value.model, 'sonnet');
    assert.deepEqual(value.env, { NO_PROXY: '*', FOO: 'bar' });
    assert.equal(value.hooks.PreToolUse.length, 1, "the user's own hook stays");
    assert.ok(after.includes('// trailing comment'));
  } finally {
    done();
  }
});

test('a file the user edited in between: only Cordon entries go, for every agent', async () => {
  for (const c of cases) {
    const { home, ctx, done } = setup();
    try {
      const path = place(home, c);
      const expected = parsed(path);
      await protectAgent(c.agent, 'user', settingsFor(c.agent), ctx);
      const edit = c.agent === 'codex' ? '\n# user note\n[profiles.fast]\nmodel = "x"\n' : null;
      if (edit) writeFileSync(path, readFileSync(path, 'utf8') + edit);
      else writeFileSync(path, readFileSync(path, 'utf8').replace(/^\{/, '{\n  "userAdded": true,'));
      const undone = await unprotectAgent(c.agent, 'user', ctx);
      assert.equal(undone.status, 'unprotected', `${c.agent}: ${undone.notes.join('; ')}`);
      const text = readFileSync(path, 'utf8');
      assert.ok(!text.includes('cordon-hook') && !text.includes('cordon-protect'), `${c.agent}: ${text}`);
      assert.ok(text.includes(c.comment), `${c.agent} keeps comments`);
      const value = parsed(path) as Record<string, unknown>;
      if (edit) assert.deepEqual(value, { ...(expected as object), profiles: { fast: { model: 'x' } } });
      else assert.deepEqual(value, { userAdded: true, ...(expected as object) });
    } finally {
      done();
    }
  }
});

test('drift: removing the hook or turning hooks off is noticed, and protect re-applies', async () => {
  const { home, ctx, done } = setup();
  try {
    const path = place(home, cases[0]!);
    const original = readFileSync(path, 'utf8');
    await protectAgent('claude-code', 'user', settingsFor('claude-code'), ctx);
    const protectedText = readFileSync(path, 'utf8');
    writeFileSync(path, original);
    let state = await protectionState('claude-code', 'user', ctx);
    assert.deepEqual({ protected: state.protected, drifted: state.drifted, hook: state.files[0]?.hook }, { protected: false, drifted: true, hook: 'missing' });
    writeFileSync(path, protectedText.replace('{', '{\n  "disableAllHooks": true,'));
    state = await protectionState('claude-code', 'user', ctx);
    assert.equal(state.drifted, true);
    assert.match(state.files[0]?.problems.join(' ') ?? '', /disableAllHooks/);
    writeFileSync(path, protectedText.replace('cordon-hook.js hook claude-code', 'cordon-hook.js hook cursor'));
    assert.equal((await protectionState('claude-code', 'user', ctx)).files[0]?.hook, 'altered');
    writeFileSync(path, original);
    assert.equal((await protectAgent('claude-code', 'user', settingsFor('claude-code'), ctx)).status, 'protected');
    assert.equal((await protectionState('claude-code', 'user', ctx)).drifted, false);
    // The first backup is kept: unprotect still returns the pre-Cordon bytes.
    await unprotectAgent('claude-code', 'user', ctx);
    assert.equal(readFileSync(path, 'utf8'), original);
  } finally {
    done();
  }
});

test('a missing settings file is created, then removed again; managed scope honours the system root', async () => {
  const { home, ctx, done } = setup();
  try {
    const managedCtx: ProtectContext = { ...ctx, where: { ...ctx.where, env: { CORDON_PROTECT_SYSTEM_ROOT: join(home, 'sys') } } };
    const outcome = await protectAgent('windsurf', 'managed', settingsFor('windsurf'), managedCtx);
    const path = join(home, 'sys', 'etc', 'windsurf', 'hooks.json');
    assert.deepEqual(outcome.files, [path]);
    assert.ok(readFileSync(path, 'utf8').includes('pre_run_command'));
    assert.equal((await unprotectAgent('windsurf', 'managed', managedCtx)).status, 'unprotected');
    assert.ok(!existsSync(path));
  } finally {
    done();
  }
});

test('invalid settings are refused without writing; a file changed since it was read is never overwritten', async () => {
  const { home, ctx, done } = setup();
  try {
    const path = join(home, '.gemini', 'settings.json');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{ "hooks": ');
    const outcome = await protectAgent('gemini-cli', 'user', settingsFor('gemini-cli'), ctx);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.notes.join(' '), /not valid JSON/);
    assert.equal(readFileSync(path, 'utf8'), '{ "hooks": ');
    writeFileSync(path, '{"a": 1}');
    const snap = await readSnapshot(path);
    writeFileSync(path, '{"a": 2}');
    assert.equal(await writeChecked(path, '{"cordon": true}', snap.hash), 'changed');
    assert.equal(readFileSync(path, 'utf8'), '{"a": 2}');
    assert.equal(await writeChecked(path, '{"cordon": true}', (await readSnapshot(path)).hash), 'ok');
    assert.equal(readFileSync(path, 'utf8'), '{"cordon": true}');
  } finally {
    done();
  }
});
