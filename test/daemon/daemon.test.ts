import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CordonEvent } from '../../app/api/control.ts';
import { CORDON_BIN, startDaemonProcess, waitFor } from '../helpers/daemonProcess.ts';

function fixtureHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'cordon-fixture-home-'));
  mkdirSync(join(home, '.cursor'), { recursive: true });
  writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] } } }));
  return home;
}

/** Sends raw lines on the control socket and collects the JSON replies. */
function rawExchange(socketPath: string, payload: string, expectReplies: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const replies: unknown[] = [];
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(replies);
    }, 3000);
    socket.on('data', (d) => {
      buffer += d.toString();
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buffer.slice(0, i)));
        buffer = buffer.slice(i + 1);
      }
      if (replies.length >= expectReplies) {
        clearTimeout(timer);
        socket.destroy();
        resolve(replies);
      }
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

test('the daemon serves status on a 0600 socket in a 0700 runtime dir, and refuses a second instance', async () => {
  const home = fixtureHome();
  const daemon = await startDaemonProcess({ home });
  try {
    assert.equal(statSync(daemon.paths.runtimeDir).mode & 0o777, 0o700);
    assert.equal(statSync(daemon.paths.socketPath).mode & 0o777, 0o600);
    const client = await daemon.connect();
    const status = await client.call('status');
    client.close();
    assert.equal(status.pid, daemon.child.pid);
    assert.equal(status.inventory.mcpServers >= 1, true);
    assert.equal(status.watcher.enabled, true);

    const second = spawnSync(process.execPath, [CORDON_BIN, 'daemon', '--home', home], { env: daemon.env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(second.status, 1);
    assert.match(second.stderr, /already running/);

    const cli = spawnSync(process.execPath, [CORDON_BIN, 'status'], { env: daemon.env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`daemon running \\(pid ${daemon.child.pid}`));
  } finally {
    await daemon.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
});

test('malformed control requests get error replies and the daemon stays up', async () => {
  const home = fixtureHome();
  const daemon = await startDaemonProcess({ home });
  try {
    const replies = await rawExchange(
      daemon.paths.socketPath,
      ['not json', '[1,2]', '{"id":"x","method":"status"}', '{"id":7,"method":"nope"}', '{"id":8,"method":"events","params":{"limit":-1}}', '{"id":9,"method":"status","params":[]}', '{"id":10,"method":"constructor"}', '{"id":11,"method":"status"}'].join('\n') + '\n',
      8,
    );
    // Replies carry the request id (0 when none could be read); they may arrive out of order.
    const got = replies
      .map((r) => r as { id: number; ok: boolean; error?: { code: string } })
      .map((r) => `${r.id}:${r.ok ? 'ok' : r.error?.code}`)
      .sort();
    assert.deepEqual(got, ['0:ERR_BAD_REQUEST', '0:ERR_BAD_REQUEST', '0:ERR_BAD_REQUEST', '10:ERR_UNKNOWN_METHOD', '11:ok', '7:ERR_UNKNOWN_METHOD', '8:ERR_BAD_REQUEST', '9:ERR_BAD_REQUEST']);
    // A line over 1 MiB without a newline is refused and that connection closed; others live on.
    await rawExchange(daemon.paths.socketPath, 'x'.repeat(1024 * 1024 + 10), 1);
    const client = await daemon.connect();
    assert.equal((await client.call('status')).pid, daemon.child.pid);
    client.close();
  } finally {
    await daemon.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
});

test('a config created, edited and deleted while the daemon runs becomes events, pushed to subscribers', async () => {
  const home = fixtureHome();
  const daemon = await startDaemonProcess({ home });
  try {
    const client = await daemon.connect();
    const seen: CordonEvent[] = [];
    client.onEvent((e) => seen.push(e));
    await client.call('subscribe', {});
    const config = join(home, '.codeium', 'windsurf', 'mcp_config.json');
    mkdirSync(join(home, '.codeium', 'windsurf'), { recursive: true });
    writeFileSync(config, JSON.stringify({ mcpServers: { notes: { command: 'node', args: ['notes.js'] } } }));
    await waitFor(() => seen.some((e) => e.type === 'server.added' && /notes/.test(e.summary)), 5000, () => JSON.stringify(seen));
    writeFileSync(config, JSON.stringify({ mcpServers: { notes: { command: 'node', args: ['evil.js'] } } }));
    await waitFor(() => seen.some((e) => e.type === 'server.changed' && /notes/.test(e.summary)), 5000, () => JSON.stringify(seen));
    rmSync(config);
    await waitFor(() => seen.some((e) => e.type === 'server.removed' && /notes/.test(e.summary)), 5000, () => JSON.stringify(seen));
    // The same events are in the store, in order.
    const stored = await client.call('events', { types: ['server.added', 'server.changed', 'server.removed'] });
    const notes = [...stored].reverse().filter((e) => /notes/.test(e.summary)).map((e) => e.type);
    assert.deepEqual(notes, ['server.added', 'server.changed', 'server.removed']);
    client.close();
  } finally {
    await daemon.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
});

test('SIGTERM shuts down cleanly; SIGKILL leaves no stale lock; changes made while down are recorded at start', async () => {
  const home = fixtureHome();
  const cordonHome = mkdtempSync(join(tmpdir(), 'cordon-home-'));
  try {
    const first = await startDaemonProcess({ home, cordonHome });
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    assert.equal(exit.code, 0, first.output());
    assert.equal(existsSync(first.paths.pidFile), false);
    assert.match(first.output(), /"msg":"daemon stopped"/);

    // While no daemon runs, a server is added.
    writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] }, offline: { url: 'https://mcp.example.com/mcp' } } }));

    const second = await startDaemonProcess({ home, cordonHome });
    // The control socket answers before start-up is recorded: kill only once it is.
    await waitFor(async () => {
      const client = await second.connect();
      try {
        return (await client.call('events', { limit: 100 })).filter((e) => e.type === 'daemon.started').length === 2;
      } finally {
        client.close();
      }
    }, 20_000, () => second.output().slice(-2000));
    second.child.kill('SIGKILL');
    await second.exited;

    const third = await startDaemonProcess({ home, cordonHome });
    try {
      const client = await third.connect();
      const events = await client.call('events', { limit: 100 });
      client.close();
      const types = events.map((e) => e.type);
      assert.ok(events.some((e) => e.type === 'server.added' && /offline/.test(e.summary)), JSON.stringify(types));
      assert.equal(events.filter((e) => e.type === 'daemon.started').length, 3);
      assert.equal(events.filter((e) => e.type === 'daemon.stopped').length, 1);
    } finally {
      await third.cleanup();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(cordonHome, { recursive: true, force: true });
  }
});
