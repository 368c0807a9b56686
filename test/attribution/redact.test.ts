import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactArgv } from '../../app/attribution/redact.ts';

const SECRET = 'S3cr3tValue';
const GH = `ghp_${'a'.repeat(36)}`;

test('secret values in command lines are replaced; the rest of the command stays readable', () => {
  const table: [string[], string[]][] = [
    [['curl', '-H', `Authorization: Bearer ${SECRET}`, 'https://x/'], ['curl', '-H', 'Authorization: <redacted>', 'https://x/']],
    [['curl', '-u', `me:${SECRET}`, 'https://x/'], ['curl', '-u', '<redacted>', 'https://x/']],
    [['tool', '--api-key', SECRET, '--verbose'], ['tool', '--api-key', '<redacted>', '--verbose']],
    [['tool', `--token=${SECRET}`], ['tool', '--token=<redacted>']],
    [['env', `GITHUB_TOKEN=${SECRET}`, 'gh'], ['env', 'GITHUB_TOKEN=<redacted>', 'gh']],
    [['git', 'clone', `https://user:${SECRET}@github.com/o/r.git`], ['git', 'clone', 'https://user:<redacted>@github.com/o/r.git']],
    [['curl', `https://x/api?access_token=${SECRET}&page=2`], ['curl', 'https://x/api?access_token=<redacted>&page=2']],
    [['x', GH], ['x', '<redacted>']],
    [['bash', '-c', `curl -H "Authorization: Bearer ${SECRET}" https://x/ && API_KEY=${SECRET} run --password ${SECRET}`], ['bash', '-c', 'curl -H "Authorization: <redacted>" https://x/ && API_KEY=<redacted> run --password <redacted>']],
    [['node', '--env', `{"OPENAI_API_KEY": "${SECRET}", "HOME": "/h"}`], ['node', '--env', '{"OPENAI_API_KEY": "<redacted>", "HOME": "/h"}']],
    [['node', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js', '--model', 'opus'], ['node', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js', '--model', 'opus']],
    [['git', 'fetch', 'origin'], ['git', 'fetch', 'origin']],
  ];
  for (const [argv, want] of table) {
    const got = redactArgv(argv);
    assert.deepEqual(got, want, argv.join(' '));
    assert.ok(!JSON.stringify(got).includes(SECRET), argv.join(' '));
  }
});

test('very long arguments are cut; argv[0] is kept as is', () => {
  const long = 'x'.repeat(10_000);
  const out = redactArgv(['prog', long]);
  assert.equal(out[0], 'prog');
  assert.ok((out[1] ?? '').length < 4200);
});
