import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EgressRequest, Principal } from '../../app/api/enforcement.ts';
import type { DecisionInput } from '../../app/policy/decide.ts';
import { decide } from '../../app/policy/decide.ts';
import { agent, connect, http, https, NO_AGENT, policyOf, run, UNATTRIBUTED } from './helpers.ts';

const USER = `version: 1
defaults:
  egress: ask
rules:
  - id: exact
    action: allow
    hosts: [api.example.com]
  - id: wild
    action: log
    hosts: ["*.example.com"]
  - id: deep-deny
    action: deny
    hosts: ["*.evil.example.org"]
  - id: v4net
    action: deny
    cidrs: [10.0.0.0/8]
  - id: v4host
    action: allow
    ips: [192.168.1.10]
  - id: v6net
    action: deny
    cidrs: ["fd00::/8"]
  - id: v6host
    action: allow
    ips: ["2001:db8::1"]
  - id: ports
    action: allow
    hosts: [ports.example.net]
    ports: [443, "8000-8999"]
  - id: no-delete
    action: deny
    hosts: [git.example.net]
    methods: [DELETE]
    inspect: true
  - id: no-admin
    action: deny
    hosts: [git.example.net]
    paths: ["/admin", "/repos/*/hooks"]
  - id: git
    action: allow
    hosts: [git.example.net]
  - id: codex-only
    agents: [codex]
    action: deny
    hosts: [codex.example.net]
  - id: by-id
    agents: [agent_special]
    action: allow
    hosts: [codex.example.net]
  - id: anyone
    action: log
    hosts: [codex.example.net]
`;

type Row = readonly [string, EgressRequest, Principal | null, string, string];

test('decide(): hosts, IPs, CIDRs, ports, methods and paths from one table', () => {
  const policy = policyOf({ user: USER });
  const claude = agent('claude-code');
  const rows: readonly Row[] = [
    // name, request, principal (null: claude-code), expected action, expected rule
    ['exact host', connect('api.example.com'), null, 'allow', 'user:exact'],
    ['exact host, other case and trailing dot', connect('API.Example.com.'), null, 'allow', 'user:exact'],
    ['wildcard: one level', connect('www.example.com'), null, 'log', 'user:wild'],
    ['wildcard: deeper levels', connect('a.b.c.example.com'), null, 'log', 'user:wild'],
    ['wildcard does not cover the apex', connect('example.com'), null, 'ask', 'default'],
    ['wildcard does not cover a lookalike', connect('badexample.com'), null, 'ask', 'default'],
    ['deep wildcard', connect('x.evil.example.org'), null, 'deny', 'user:deep-deny'],
    ['IPv4 in CIDR', connect('10.200.3.4'), null, 'deny', 'user:v4net'],
    ['IPv4 in CIDR, decimal spelling', connect('167772161'), null, 'deny', 'user:v4net'],
    ['IPv4 outside CIDR', connect('11.0.0.1'), null, 'ask', 'default'],
    ['IPv4 single address', connect('192.168.1.10'), null, 'allow', 'user:v4host'],
    ['IPv4 neighbour of single address', connect('192.168.1.11'), null, 'ask', 'default'],
    ['IPv6 in CIDR', connect('fd12:3456::1'), null, 'deny', 'user:v6net'],
    ['IPv6 in CIDR, bracketed', connect('[fdff::5]'), null, 'deny', 'user:v6net'],
    ['IPv6 single address', connect('2001:db8:0:0::1'), null, 'allow', 'user:v6host'],
    ['IPv4-mapped IPv6 matches IPv4 CIDR', connect('::ffff:10.0.0.1'), null, 'deny', 'user:v4net'],
    ['IP rule never matches a name', connect('ten.example.net'), null, 'ask', 'default'],
    ['port listed', connect('ports.example.net', 443), null, 'allow', 'user:ports'],
    ['port in range, low end', connect('ports.example.net', 8000), null, 'allow', 'user:ports'],
    ['port in range, high end', connect('ports.example.net', 8999), null, 'allow', 'user:ports'],
    ['port outside range', connect('ports.example.net', 9000), null, 'ask', 'default'],
    ['method rule ignored on an opaque tunnel', connect('git.example.net'), null, 'allow', 'user:git'],
    ['method rule on plain HTTP', http('git.example.net', 'DELETE', '/repo'), null, 'deny', 'user:no-delete'],
    ['method rule, lower-case method', http('git.example.net', 'delete', '/repo'), null, 'deny', 'user:no-delete'],
    ['method rule on inspected HTTPS', https('git.example.net', 'DELETE', '/x'), null, 'deny', 'user:no-delete'],
    ['other method passes', https('git.example.net', 'GET', '/x'), null, 'allow', 'user:git'],
    ['path prefix', https('git.example.net', 'GET', '/admin/users'), null, 'deny', 'user:no-admin'],
    ['path prefix is segment-aware', https('git.example.net', 'GET', '/administrator'), null, 'allow', 'user:git'],
    ['path glob', https('git.example.net', 'GET', '/repos/x/hooks'), null, 'deny', 'user:no-admin'],
    ['path normalized before matching', http('git.example.net', 'GET', '//%61dmin/../admin/x?y=1'), null, 'deny', 'user:no-admin'],
    ['per-agent rule applies to its kind', connect('codex.example.net'), agent('codex'), 'deny', 'user:codex-only'],
    ['per-agent rule by inventory id', connect('codex.example.net'), agent('claude-code', 'agent_special'), 'allow', 'user:by-id'],
    ['other agents fall to "*"', connect('codex.example.net'), claude, 'log', 'user:anyone'],
    ['a process with no agent matches "*" rules', connect('codex.example.net'), NO_AGENT, 'log', 'user:anyone'],
  ];
  for (const [name, request, principal, action, rule] of rows) {
    const d = decide(policy, { request, principal: principal ?? claude, mode: 'enforce' });
    assert.equal(d.action, action, `${name}: ${JSON.stringify(d)}`);
    assert.equal(d.rule, rule, `${name}: ${JSON.stringify(d)}`);
  }
});

test('first match wins within a layer, whatever index bucket the rules sit in', () => {
  const policy = policyOf({
    user: `version: 1
rules:
  - id: any-first
    action: deny
    hosts: ["**"]
    ports: [25]
  - id: suffix
    action: log
    hosts: ["*.example.com"]
  - id: exact
    action: allow
    hosts: [a.example.com]
`,
  });
  assert.equal(run(policy, connect('a.example.com', 25)).rule, 'user:any-first');
  assert.equal(run(policy, connect('a.example.com', 443)).rule, 'user:suffix');
});

test('the decision names the rule with file:line, and the description', () => {
  const policy = policyOf({ user: 'version: 1\nrules:\n  - id: r\n    description: no paste sites\n    action: deny\n    hosts: [paste.example]\n' });
  const d = run(policy, connect('paste.example'));
  assert.equal(d.layer, 'user');
  assert.match(d.reasons[0]?.message ?? '', /paste\.example:443 denied by rule user:r \(user\.yaml:3\): no paste sites/);
});

test('unattributed connections: the unattributed default is a floor, "*" rules still apply', () => {
  const policy = policyOf({ builtin: true, user: 'version: 1\nrules:\n  - id: bad\n    action: deny\n    hosts: [bad.example]\n  - id: good\n    action: allow\n    hosts: [good.example]\n' });
  const d = run(policy, connect('good.example'), { principal: UNATTRIBUTED });
  assert.equal(d.action, 'deny');
  assert.equal(d.reasons[0]?.code, 'unattributed');
  assert.match(d.reasons[0]?.message ?? '', /no socket owner/);
  const relaxed = policyOf({ user: 'version: 1\ndefaults:\n  unattributed: allow\nrules:\n  - id: bad\n    action: deny\n    hosts: [bad.example]\n  - id: good\n    action: allow\n    hosts: [good.example]\n' });
  assert.equal(run(relaxed, connect('bad.example'), { principal: UNATTRIBUTED }).action, 'deny', 'a deny rule still applies');
  const silent = run(relaxed, connect('good.example'), { principal: UNATTRIBUTED });
  assert.equal(silent.action, 'log', 'enforce mode never allows an unattributed connection silently');
  assert.equal(run(relaxed, connect('good.example'), { principal: UNATTRIBUTED, mode: 'monitor' }).action, 'allow');
});

test('signals: rules naming flags, the flags map, secrets, learning period', () => {
  const policy = policyOf({
    builtin: true,
    user: `version: 1
flags:
  first-seen-destination: ask
rules:
  - id: paste-ok-here
    action: allow
    hosts: [pastebin.example]
    flags: [paste-service]
  - id: leak
    action: deny
    data: {secrets: true}
    hosts: ["*.leaky.example"]
`,
  });
  const rows: readonly (readonly [string, Partial<DecisionInput>, EgressRequest, string, string])[] = [
    ['no signal: destination decides', {}, connect('pastebin.example'), 'log', 'default'],
    ['builtin flags map asks for a paste site', { flags: ['paste-service'] }, connect('other-paste.example'), 'ask', 'builtin:flags/paste-service'],
    ['a user rule naming the flag overrides the builtin map', { flags: ['paste-service'] }, connect('pastebin.example'), 'log', 'default'],
    ['user flags map', { flags: ['first-seen-destination'] }, connect('new.example'), 'ask', 'user:flags/first-seen-destination'],
    ['learning period caps anomaly flags at log', { flags: ['first-seen-destination'], learning: true }, connect('new.example'), 'log', 'default'],
    ['secrets signal with a rule', { secrets: true }, connect('x.leaky.example'), 'deny', 'user:leak'],
    ['secrets signal falls to builtin map', { secrets: true }, connect('elsewhere.example'), 'ask', 'builtin:flags/secrets'],
    ['learning never softens secrets', { secrets: true, learning: true }, connect('x.leaky.example'), 'deny', 'user:leak'],
    ['secret-in-url is a deny in builtin', { flags: ['secret-in-url'] }, connect('elsewhere.example'), 'deny', 'builtin:flags/secret-in-url'],
    ['an unknown flag adds a reason, not an action', { flags: ['brand-new-flag'] }, connect('elsewhere.example'), 'log', 'default'],
  ];
  for (const [name, extra, request, action, rule] of rows) {
    const d = run(policy, request, extra);
    assert.equal(d.action, action, `${name}: ${JSON.stringify(d)}`);
    assert.equal(d.rule, rule, `${name}: ${JSON.stringify(d)}`);
  }
  const unknown = run(policy, connect('elsewhere.example'), { flags: [{ code: 'brand-new-flag', message: 'detector says hi' }] });
  assert.ok(unknown.reasons.some((r) => r.code === 'brand-new-flag' && /detector says hi \(no rule judges it\)/.test(r.message)));
  const explained = run(policy, connect('other-paste.example'), { flags: [{ code: 'paste-service', message: 'pastebin-like service' }] });
  assert.equal(explained.reasons[0]?.code, 'paste-service');
  assert.match(explained.reasons[0]?.message ?? '', /^pastebin-like service: held for approval by builtin flags map/);
});

test('SNI: a tunnel is judged on both the CONNECT target and the server name', () => {
  const policy = policyOf({ user: 'version: 1\nrules:\n  - id: ip-ok\n    action: allow\n    ips: [203.0.113.5]\n  - id: evil\n    action: deny\n    hosts: [evil.example]\n' });
  assert.equal(run(policy, { kind: 'connect', host: '203.0.113.5', port: 443 }).action, 'allow');
  const d = run(policy, { kind: 'connect', host: '203.0.113.5', port: 443, sni: 'evil.example' });
  assert.equal(d.action, 'deny');
  assert.equal(d.rule, 'user:evil');
  assert.equal(run(policy, { kind: 'connect', host: '203.0.113.5', port: 443, sni: 'bad sni' }).action, 'deny');
});

test('monitor mode never blocks or asks, and keeps what the policy said', () => {
  const policy = policyOf({ user: 'version: 1\nrules:\n  - id: d\n    action: deny\n    hosts: [d.example]\n  - id: a\n    action: ask\n    hosts: [a.example]\n' });
  for (const [host, policyAction] of [['d.example', 'deny'], ['a.example', 'ask']] as const) {
    const d = run(policy, connect(host), { mode: 'monitor' });
    assert.equal(d.action, 'log');
    assert.equal(d.policyAction, policyAction);
    assert.equal(d.reasons.at(-1)?.code, 'monitor');
  }
  const raised = policyOf({ user: 'version: 1\nmode: enforce\nrules:\n  - id: d\n    action: deny\n    hosts: [d.example]\n' });
  assert.equal(run(raised, connect('d.example'), { mode: 'monitor' }).action, 'deny', 'a policy can raise the mode to enforce');
  const lowered = policyOf({ user: 'version: 1\nmode: monitor\nrules:\n  - id: d\n    action: deny\n    hosts: [d.example]\n' });
  assert.equal(run(lowered, connect('d.example'), { mode: 'enforce' }).action, 'deny', 'but never lower it');
});

test('inspection is selected by any matching inspect rule; DPoP by the highest layer', () => {
  const policy = policyOf({
    user: `version: 1
rules:
  - id: broad
    action: allow
    hosts: ["*.corp.example"]
  - id: inspect-api
    action: allow
    hosts: [api.corp.example]
    paths: [/v1]
    inspect: true
  - id: user-dpop
    action: allow
    hosts: [tokens.corp.example]
    dpop: {credential: user-cred}
`,
    managed: 'version: 1\nrules:\n  - id: it-dpop\n    action: allow\n    hosts: [tokens.corp.example]\n    dpop: {credential: it-cred}\n',
  });
  const tunnel = run(policy, connect('api.corp.example'));
  assert.equal(tunnel.inspect, true, 'an inspect rule selects inspection even when an earlier rule decides');
  assert.equal(tunnel.rule, 'user:broad');
  assert.equal(run(policy, connect('www.corp.example')).inspect, undefined);
  const tokens = run(policy, connect('tokens.corp.example'));
  assert.deepEqual(tokens.dpop, { credential: 'it-cred' });
  assert.equal(tokens.inspect, true, 'a DPoP upstream must be inspected to attach the header');
});

test('a policy with an invalid IT layer fails closed in enforce mode', () => {
  const policy = policyOf({ user: 'version: 1\nrules:\n  - id: a\n    action: allow\n    hosts: [a.example]\n' });
  const broken = { ...policy, failClosed: true };
  const d = run(broken, connect('a.example'));
  assert.equal(d.action, 'deny');
  assert.equal(d.reasons[0]?.code, 'policy-invalid');
  assert.equal(run(broken, connect('a.example'), { mode: 'monitor' }).action, 'log');
});

test('malformed requests get a deny with a reason, never a throw', () => {
  const policy = policyOf({ builtin: true });
  for (const host of ['', 'a b', 'x'.repeat(5000), '[::1', 'exa\u0000mple.com']) {
    const d = run(policy, connect(host));
    assert.equal(d.action, 'deny', host);
    assert.equal(d.reasons[0]?.code, 'bad-destination');
  }
  for (const port of [0, -1, 70000, Number.NaN]) assert.ok(['allow', 'log', 'ask', 'deny'].includes(run(policy, connect('a.example', port)).action));
  const weird = run(policy, { kind: 'http', host: 'a.example', port: 80, method: 'GET', path: `/${'%'.repeat(20000)}` });
  assert.ok(weird.action);
});

test('the builtin layer denies cloud metadata services in every spelling', () => {
  const policy = policyOf({ builtin: true });
  for (const host of ['169.254.169.254', '2852039166', '0xa9fea9fe', '::ffff:169.254.169.254', 'metadata.google.internal', 'METADATA.google.internal.']) {
    const d = run(policy, connect(host, 80));
    assert.equal(d.action, 'deny', host);
    assert.equal(d.rule, 'builtin:cloud-metadata', host);
  }
});
