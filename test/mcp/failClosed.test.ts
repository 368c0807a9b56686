// When the daemon cannot be reached, the gateway denies tools/call in enforce mode (hooks and
// gateways fail open in agents, so Cordon must not) and forwards with a warning in monitor mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayCore } from '../../app/mcp/gateway.ts';
import { createDaemonPolicy } from '../../app/mcp/gatewayPolicy.ts';
import { createToolStore } from '../../app/mcp/toolSet.ts';
import { cordonPaths } from '../../app/util/paths.ts';
import { testEnv } from '../helpers/daemonProcess.ts';
import { writeCordonConfig } from './helpers.ts';

const call = { jsonrpc: '2.0' as const, id: 3, method: 'tools/call', params: { name: 'echo', arguments: { a: 1 } } };

for (const mode of ['enforce', 'monitor'] as const) {
  test(`no daemon, ${mode} mode: tools/call is ${mode === 'enforce' ? 'denied' : 'forwarded with a warning'}`, async () => {
    const cordonHome = mkdtempSync(join(tmpdir(), 'cordon-mcp-fc-'));
    try {
      writeCordonConfig(cordonHome, { mode }, ['version: 1', 'defaults: {local: allow}']);
      const env = testEnv(cordonHome);
      const paths = cordonPaths(env);
      const warnings: string[] = [];
      const policy = createDaemonPolicy({ paths, env, server: 'srv', agent: 'claude-code', warn: (m) => warnings.push(m) });
      const core = createGatewayCore({ server: 'srv', policy, tools: createToolStore(paths.dataDir, 'srv'), warn: (m) => warnings.push(m) });
      const started = Date.now();
      const verdict = await core.onClientMessage(call);
      assert.ok(Date.now() - started < 3000, 'answers quickly when the daemon is down');
      if (mode === 'enforce') {
        assert.equal(verdict.kind, 'reply');
        assert.match(JSON.stringify(verdict.message), /Cordon blocked MCP tool srv\/echo: the Cordon daemon is not reachable/);
      } else {
        assert.equal(verdict.kind, 'forward');
        assert.match(warnings.join('\n'), /monitor mode: forwarding srv\/echo/);
      }
      // Non-call traffic is never held.
      assert.equal((await core.onClientMessage({ jsonrpc: '2.0', id: 4, method: 'ping' })).kind, 'forward');
      policy.close();
    } finally {
      rmSync(cordonHome, { recursive: true, force: true });
    }
  });
}
