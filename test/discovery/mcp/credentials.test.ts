// Credential posture classification (none / reference / literal) for every reference syntax and
// secret shape the clients use, and redaction of args and URLs. Table-driven through buildRecord,
// the function every scanned entry goes through.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CredentialPosture } from '../../../app/api/inventory.ts';
import type { RawServer } from '../../../app/discovery/mcp/model.ts';
import { buildRecord } from '../../../app/discovery/mcp/record.ts';

const ORIGIN = { client: 'test', configPath: '/cfg/mcp.json', scope: 'user', project: null } as const;

function record(raw: Partial<RawServer>) {
  return buildRecord(ORIGIN, { name: 's', transport: 'stdio', command: 'srv', enabled: true, ...raw });
}

type Row = readonly [title: string, value: string, posture: CredentialPosture, kind?: string];

describe('env values', () => {
  const rows: readonly (readonly [string, string, string, CredentialPosture, string?])[] = [
    ['no credential: a plain setting', 'LOG_LEVEL', 'debug', 'none'],
    ['no credential: an empty secret-named var', 'GITHUB_TOKEN', '', 'none'],
    ['no credential: a placeholder', 'API_KEY', '<your-api-key>', 'none'],
    ['no credential: a non-secret var passed through', 'PATH', '${env:PATH}', 'none'],
    ['reference: ${VAR} (Claude Code)', 'API_KEY', '${MY_KEY}', 'reference', 'env-var'],
    ['reference: ${VAR:-} with an empty default', 'API_KEY', '${MY_KEY:-}', 'reference', 'env-var'],
    ['reference: ${env:VAR} (VS Code, Roo)', 'TOKEN', '${env:GH_TOKEN}', 'reference', 'env-var'],
    ['reference: ${input:id} (VS Code)', 'DB_PASSWORD', '${input:db-pass}', 'reference', 'vscode-input'],
    ['reference: $VAR (Gemini, Crush)', 'API_KEY', '$MY_API_KEY', 'reference', 'env-var'],
    ['reference: {env:VAR} (opencode)', 'MY_TOKEN', '{env:MY_TOKEN}', 'reference', 'env-var'],
    ['reference: {file:path} (opencode)', 'KEY', '{file:~/.secrets/key}', 'reference', 'file'],
    ['reference: ${{ secrets.X }} (Continue)', 'DB', '${{ secrets.DB_TOKEN }}', 'reference', 'continue-secret'],
    ['reference: ${user_config.x} (Claude Desktop extensions)', 'WEATHER', '${user_config.api_key}', 'reference', 'user-config'],
    ['reference: $(command) (Crush)', 'TOKEN', '$(gh auth token)', 'reference', 'shell-command'],
    ['reference: a credential file path', 'GOOGLE_APPLICATION_CREDENTIALS', '/home/u/key.json', 'reference', 'file-path'],
    ['reference: a secret-named var referenced under any name', 'X', '${OPENAI_API_KEY}', 'reference', 'env-var'],
    ['literal: a value under a secret name', 'API_KEY', 'abc123def456', 'literal', 'api-key'],
    ['literal: a password', 'DB_PASSWORD', 'hunter2-correct', 'literal', 'password'],
    ['literal: GitHub PAT under any name', 'X', 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB', 'literal', 'github-token'],
    ['literal: fine-grained GitHub PAT', 'X', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv', 'literal', 'github-token'],
    ['literal: OpenAI key', 'X', 'sk-proj-abcdefghijklmnopqrstuvwxyz012345', 'literal', 'openai-key'],
    ['literal: Anthropic key', 'X', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz', 'literal', 'anthropic-key'],
    ['literal: Slack bot token', 'X', 'xoxb-1234567890-abcdefghijkl', 'literal', 'slack-token'],
    ['literal: AWS access key id', 'X', 'AKIAIOSFODNN7EXAMPLE', 'literal', 'aws-access-key'],
    ['literal: JWT', 'X', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'literal', 'jwt'],
    ['literal: "Bearer x" under a non-secret name', 'AUTH_HEADER', 'Bearer abcdef123456', 'literal', 'bearer'],
    ['literal: a password in a connection URL', 'DATABASE_URL', 'postgres://app:s3cretpw@db:5432/app', 'literal', 'password'],
    ['literal: a secret default inside ${VAR:-default}', 'API_KEY', '${API_KEY:-sk-proj-abcdefghijklmnopqrstuvwxyz0123}', 'literal', 'openai-key'],
    ['literal: a private key block', 'SSH_KEY', '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----', 'literal', 'private-key'],
  ];
  for (const [title, name, value, posture, kind] of rows) {
    test(title, () => {
      const r = record({ env: [[name, value]] });
      assert.equal(r.credential.posture, posture);
      if (kind) assert.equal(r.credential.findings[0]?.kind, kind);
      assert.deepEqual(r.envNames, [name]);
      assert.ok(!JSON.stringify(r).includes(value) || posture !== 'literal', 'a literal value never appears in the record');
    });
  }
});

describe('headers', () => {
  const rows: readonly Row[] = [
    ['none: a non-secret header', 'X-Region: eu', 'none'],
    ['reference: Authorization "Bearer ${TOKEN}"', 'Authorization: Bearer ${TOKEN}', 'reference', 'env-var'],
    ['reference: Authorization from a VS Code env var', 'Authorization: Bearer ${env:GH_TOKEN}', 'reference', 'env-var'],
    ['literal: Authorization bearer token', 'Authorization: Bearer abcdefghijklmnop', 'literal', 'bearer'],
    ['literal: Authorization basic credentials', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'literal', 'basic'],
    ['literal: X-API-Key value', 'X-API-Key: k-1234567890', 'literal', 'api-key'],
    ['literal: a token in any header', 'X-Custom: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB', 'literal', 'github-token'],
    ['literal: a cookie', 'Cookie: session=abcdef0123456789', 'literal'],
  ];
  for (const [title, header, posture, kind] of rows) {
    test(title, () => {
      const colon = header.indexOf(':');
      const name = header.slice(0, colon);
      const r = record({ transport: 'http', command: undefined, url: 'https://h.example.com/mcp', headers: [[name, header.slice(colon + 1).trim()]] });
      assert.equal(r.credential.posture, posture);
      if (kind) assert.equal(r.credential.findings[0]?.kind, kind);
      assert.deepEqual(r.headerNames, [name]);
    });
  }
});

describe('args redaction', () => {
  const rows: readonly (readonly [string, readonly string[], readonly string[], CredentialPosture])[] = [
    ['--flag=value with a secret flag', ['--api-key=abc123secret'], ['--api-key=<redacted>'], 'literal'],
    ['--flag value with a secret flag', ['--token', 'abc123secret', '--port', '8080'], ['--token', '<redacted>', '--port', '8080'], 'literal'],
    ['--password=${VAR} is a reference, left as is', ['--password=${DB_PASS}'], ['--password=${DB_PASS}'], 'reference'],
    ['NAME=value (docker -e) with a secret name', ['-e', 'GITHUB_TOKEN=abcdef123456'], ['-e', 'GITHUB_TOKEN=<redacted>'], 'literal'],
    ['docker -e NAME without a value is just a name', ['run', '-e', 'GITHUB_TOKEN', 'img'], ['run', '-e', 'GITHUB_TOKEN', 'img'], 'none'],
    ['a bare token-looking arg', ['serve', 'xoxb-1234567890-abcdefghijkl'], ['serve', '<redacted>'], 'literal'],
    ['-H "Authorization: Bearer x"', ['-H', 'Authorization: Bearer abcdef123456'], ['-H', 'Authorization: <redacted>'], 'literal'],
    ['--header=Name:value', ['--header=X-Api-Key:abcdef123456'], ['--header=X-Api-Key: <redacted>'], 'literal'],
    ['mcp-remote convention Authorization:${AUTH_HEADER}', ['--header', 'Authorization:${AUTH_HEADER}'], ['--header', 'Authorization:${AUTH_HEADER}'], 'reference'],
    ['a URL arg with a secret query', ['https://x.example.com/sse?api_key=abc123'], ['https://x.example.com/sse?api_key=<redacted>'], 'literal'],
    ['a connection string arg', ['postgresql://u:pw123456@db/app'], ['postgresql://u:<redacted>@db/app'], 'literal'],
    ['a secret inside inline JSON', ['--config', '{"apiKey":"abc123secret","region":"eu"}'], ['--config', '{"apiKey":"<redacted>","region":"eu"}'], 'literal'],
    ['a secret pair inside a flag value', ['--opts=user=bob,password=pw123456'], ['--opts=user=bob,password=<redacted>'], 'literal'],
    ['ordinary args are untouched', ['-y', '@modelcontextprotocol/server-filesystem', '/home/u/docs'], ['-y', '@modelcontextprotocol/server-filesystem', '/home/u/docs'], 'none'],
  ];
  for (const [title, args, redacted, posture] of rows) {
    test(title, () => {
      const r = record({ args });
      assert.deepEqual(r.args, redacted);
      assert.equal(r.credential.posture, posture);
    });
  }

  test('an argument too long to examine is redacted whole', () => {
    const r = record({ args: ['ok', `x${'a'.repeat(10_000)}`] });
    assert.deepEqual(r.args, ['ok', '<redacted>']);
  });

  test('a shell-string command carrying a token is redacted too', () => {
    const r = record({ command: 'GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB npx server' });
    assert.ok(!JSON.stringify(r).includes('ghp_0123456789'));
    assert.equal(r.credential.posture, 'literal');
  });
});

describe('URL redaction', () => {
  const rows: readonly (readonly [string, string, string, CredentialPosture])[] = [
    ['plain URL unchanged', 'https://mcp.example.com/mcp', 'https://mcp.example.com/mcp', 'none'],
    ['every query value redacted, names kept', 'https://m.example.com/mcp?api_key=abc123&mode=fast', 'https://m.example.com/mcp?api_key=<redacted>&mode=<redacted>', 'literal'],
    ['a non-secret query is redacted but not a finding', 'https://m.example.com/sse?transport=sse', 'https://m.example.com/sse?transport=<redacted>', 'none'],
    ['a query reference is a reference', 'https://m.example.com/mcp?token=${TOKEN}', 'https://m.example.com/mcp?token=<redacted>', 'reference'],
    ['userinfo password redacted', 'https://alice:pw-1234@m.example.com/mcp', 'https://alice:<redacted>@m.example.com/mcp', 'literal'],
    ['a token used as username redacted', 'https://ghp_0123456789abcdefghijklmnopqrstuvwxyzAB@github.com/x', 'https://<redacted>@github.com/x', 'literal'],
    ['a token in the path redacted', 'https://mcp.example.com/s/ghp_0123456789abcdefghijklmnopqrstuvwxyzAB/mcp', 'https://mcp.example.com/s/<redacted>/mcp', 'literal'],
    ['a fragment value redacted', 'https://m.example.com/cb#access_token=abcdef123456', 'https://m.example.com/cb#access_token=<redacted>', 'literal'],
    ['placeholders in the host survive', 'https://${HOST}/mcp', 'https://${HOST}/mcp', 'none'],
  ];
  for (const [title, url, redacted, posture] of rows) {
    test(title, () => {
      const r = record({ transport: 'http', command: undefined, url });
      assert.equal(r.url, redacted);
      assert.equal(r.credential.posture, posture);
    });
  }
});

describe('references a client resolves itself', () => {
  test('keyring (Goose env_keys), OAuth, helper commands and env files count as references', () => {
    const r = record({
      references: [
        { location: 'env', name: 'GITHUB_TOKEN', posture: 'reference', kind: 'keyring' },
        { location: 'header', name: 'Authorization', posture: 'reference', kind: 'oauth' },
      ],
    });
    assert.equal(r.credential.posture, 'reference');
    assert.deepEqual(r.credential.findings.map((f) => f.kind), ['keyring', 'oauth']);
  });

  test('a literal anywhere makes the whole server literal', () => {
    const r = record({ env: [['A', '${A_TOKEN}'], ['B_SECRET', 'x1y2z3w4']] });
    assert.equal(r.credential.posture, 'literal');
    assert.deepEqual(r.credential.findings.map((f) => `${f.name}:${f.posture}`), ['A:reference', 'B_SECRET:literal']);
  });

  test('a token pasted where an env var name belongs is not shown as a name', () => {
    const r = record({ env: [['ghp_0123456789abcdefghijklmnopqrstuvwxyzAB', '1']] });
    assert.deepEqual(r.envNames, ['<redacted>']);
    assert.equal(r.credential.posture, 'literal');
    assert.ok(!JSON.stringify(r).includes('ghp_0123456789'));
  });

  test('pass-through of a secret-named var is a reference; of PATH it is nothing', () => {
    const r = record({ envPassthrough: ['PATH', 'GITHUB_TOKEN'] });
    assert.deepEqual(r.envNames, ['GITHUB_TOKEN', 'PATH']);
    assert.deepEqual(r.credential.findings.map((f) => f.name), ['GITHUB_TOKEN']);
  });
});
