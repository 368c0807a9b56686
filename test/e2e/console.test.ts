// The console end to end in Debian's Chromium (playwright-core): a real daemon on a fixture home,
// the console served over its control socket, every page showing real data in light and dark
// (screenshots under test-results/screenshots/), and an approval raised by a real curl through
// the proxy answered in the prompt view (click and keyboard) with the request completing or blocked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { startLocalConsole, type LocalConsole } from '../../app/console/server.ts';
import { readConsoleSession } from '../../app/console/sessionFile.ts';
import { connectSocketBackend, type SocketBackend } from '../../app/console/socketBackend.ts';
import { silentLogger } from '../../app/util/log.ts';
import { addClaudeNative } from '../fixtures/homes/agents.ts';
import { auditA11y, describeViolations } from '../helpers/a11y.ts';
import { startDaemonProcess, waitFor, type DaemonHandle } from '../helpers/daemonProcess.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const hasCurl = spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status === 0;
const skip = !hasChromium ? `SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium): the console end-to-end tests did NOT run` : !hasCurl ? 'SKIPPED: curl is not installed' : false;
if (skip) process.stderr.write(`\n!!!!!!!! ${skip} !!!!!!!!\n\n`);

const ROOT = new URL('../../', import.meta.url).pathname;
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const WAIT = { timeout: 15_000 };

let origin: Server;
let originPort = 0;
let askPort = 0;
let askOrigin: Server;
let home: string;
let cordonHome: string;
let staticDir: string;
let profile: string;
let daemon: DaemonHandle;
let backend: SocketBackend | null = null;
let served: LocalConsole | null = null;
let consoleUrl = '';
let secret = '';
let browser: BrowserContext;
let proxyUrl = '';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function curl(url: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '-i', '--max-time', '25', '-x', proxyUrl, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

before(async () => {
  if (skip) return;
  origin = createServer((_req, res) => res.end('hello from origin'));
  askOrigin = createServer((_req, res) => res.end('hello from the asked origin'));
  originPort = await listen(origin);
  askPort = await listen(askOrigin);
  home = mkdtempSync(join(tmpdir(), 'cordon-e2e-home-'));
  cordonHome = mkdtempSync(join(tmpdir(), 'cordon-e2e-'));
  staticDir = mkdtempSync(join(tmpdir(), 'cordon-e2e-ui-'));
  profile = mkdtempSync(join(tmpdir(), 'cordon-e2e-chromium-'));
  // Fixture home: Claude Code installed, MCP servers with a literal secret, a reference and none.
  await addClaudeNative(home, '2.1.0');
  mkdirSync(join(home, '.cursor'), { recursive: true });
  writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_0123456789abcdefghijABCDEFGHIJ012345' } }, docs: { url: 'https://mcp.example.com/mcp' } } }));
  writeFileSync(join(home, '.claude.json'), JSON.stringify({ mcpServers: { linear: { command: 'npx', args: ['-y', 'linear-mcp'], env: { LINEAR_API_KEY: '${LINEAR_API_KEY}' } } } }));
  mkdirSync(join(cordonHome, 'config'), { recursive: true });
  writeFileSync(join(cordonHome, 'config', 'settings.json'), JSON.stringify({ mode: 'enforce', approvalTimeoutSeconds: 30 }));
  writeFileSync(
    join(cordonHome, 'config', 'policy.yaml'),
    ['version: 1', 'rules:', '  - id: local-origin', '    action: allow', '    ips: [127.0.0.1]', `    ports: [${originPort}]`, '  - id: ask-origin', '    action: ask', '    ips: [127.0.0.1]', `    ports: [${askPort}]`, '  - id: no-paste', '    action: deny', '    hosts: [paste.invalid]', ''].join('\n'),
  );
  // Build the console from the current sources into a private dir.
  await build({ configFile: join(ROOT, 'renderer', 'vite.config.ts'), logLevel: 'error', build: { outDir: staticDir, emptyOutDir: true } });
  daemon = await startDaemonProcess({ home, cordonHome, env: { CORDON_KEYCHAIN_SERVICE: `cordon-test-e2e-${process.pid}` } });
  // The daemon's own console when it serves one; otherwise one over the control socket.
  // (only when it is built: the daemon serves dist/renderer, which `npm run build:ui` writes).
  const session = readConsoleSession(daemon.paths.runtimeDir);
  const built = session ? (await fetch(`http://127.0.0.1:${session.port}/`, { signal: AbortSignal.timeout(2000) }).catch(() => null))?.status === 200 : false;
  if (session && built) {
    consoleUrl = `http://127.0.0.1:${session.port}/`;
    secret = session.secret;
  } else {
    backend = await connectSocketBackend(daemon.paths.socketPath);
    served = await startLocalConsole({ call: backend.call, subscribe: backend.subscribe, staticDir, log: silentLogger });
    consoleUrl = served.url;
    secret = served.secret;
  }
  const status = (await backend?.call('status', {})) as { proxy: { url: string } | null } | undefined;
  const client = await daemon.connect();
  try {
    const s = status ?? (await client.call('status'));
    assert.ok(s.proxy, 'the proxy is running');
    proxyUrl = s.proxy.url;
    await waitFor(async () => (await client.call('status')).inventory.mcpServers >= 3, 10_000, () => 'the fixture MCP servers were not discovered');
  } finally {
    client.close();
  }
  // Real traffic for the Activity and Overview pages: one allowed, one blocked.
  assert.match((await curl(`http://127.0.0.1:${originPort}/hello`)).stdout, /^HTTP\/1\.1 200/);
  assert.match((await curl('http://paste.invalid/upload')).stdout, /^HTTP\/1\.1 403/);
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
  browser.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await served?.close();
  backend?.close();
  await daemon?.cleanup();
  origin?.close();
  askOrigin?.close();
  for (const dir of [home, cordonHome, staticDir, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openConsole(route: string, scheme: 'light' | 'dark'): Promise<Page> {
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.emulateMedia({ colorScheme: scheme });
  await page.goto('about:blank');
  await page.goto(`${consoleUrl}#s=${secret}`, { waitUntil: 'load' });
  await waitFor(() => !page.url().includes('s='), 15_000, () => `the secret stayed in the URL: ${page.url()}`);
  await page.goto(`${consoleUrl}#/${route}`);
  return page;
}

/** WCAG violations found on the pages shot so far (asserted empty at the end). */
const a11yProblems: string[] = [];

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: true });
  const violations = await auditA11y(page);
  if (violations.length > 0) a11yProblems.push(describeViolations(name, violations));
}

const PAGES: readonly { route: string; check(page: Page): Promise<void> }[] = [
  {
    route: 'overview',
    async check(page) {
      await page.getByTestId('protection-state').getByText('Protected').waitFor(WAIT);
      await page.getByText('MCP servers').first().waitFor(WAIT);
      await page.getByRole('region', { name: 'Recent blocks' }).getByText('paste.invalid:80').waitFor(WAIT);
    },
  },
  {
    route: 'inventory',
    async check(page) {
      const servers = page.getByRole('region', { name: /MCP servers/ });
      await servers.getByText('github').first().waitFor(WAIT);
      await servers.getByText('linear').first().waitFor(WAIT);
      await servers.getByText('literal secret').first().waitFor(WAIT);
      const html = await page.content();
      assert.doesNotMatch(html, /ghp_0123456789/, 'the literal secret value is never shown');
      await page.getByRole('region', { name: /Agents/ }).getByText('claude', { exact: false }).first().waitFor(WAIT);
    },
  },
  {
    route: 'activity',
    async check(page) {
      const table = page.getByTestId('activity-table');
      await table.getByText('paste.invalid:80').waitFor(WAIT);
      await table.getByText(`127.0.0.1:${originPort}`).first().waitFor(WAIT);
      await page.getByRole('combobox', { name: 'Decision', exact: true }).selectOption('deny');
      await assert.rejects(table.getByText(`127.0.0.1:${originPort}`).first().waitFor({ timeout: 1000 }), 'the deny filter hides allowed requests');
      await page.getByRole('combobox', { name: 'Decision', exact: true }).selectOption('');
    },
  },
  {
    route: 'approvals',
    async check(page) {
      await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor(WAIT);
      await page.getByRole('region', { name: /Pending/ }).waitFor(WAIT);
    },
  },
  {
    route: 'policy',
    async check(page) {
      const rules = page.getByTestId('policy-rules');
      await rules.getByText('ask-origin').waitFor(WAIT);
      await rules.getByText('no-paste').waitFor(WAIT);
      await rules.getByText(/policy\.yaml:\d+/).first().waitFor(WAIT);
    },
  },
  {
    route: 'settings',
    async check(page) {
      const row = page.getByTestId('settings-table').getByRole('row', { name: /approvalTimeoutSeconds/ });
      await row.getByText('30').waitFor(WAIT);
      await row.getByText('user').first().waitFor(WAIT);
    },
  },
  {
    route: 'about',
    async check(page) {
      await page.getByTestId('version').waitFor(WAIT);
      assert.match(await page.getByTestId('version').innerText(), /^\d+\.\d+\.\d+/);
    },
  },
];

for (const scheme of ['light', 'dark'] as const) {
  test(`every console page shows real daemon data (${scheme} theme)`, { skip, timeout: 120_000 }, async () => {
    for (const { route, check } of PAGES) {
      const page = await openConsole(route, scheme);
      await check(page);
      const theme = await page.locator('html').getAttribute('data-theme');
      assert.equal(theme, scheme, `${route} renders the ${scheme} theme`);
      await shot(page, `${route}-${scheme}`);
    }
  });
}

test('the page refuses to work without the session, and the secret leaves the address bar', { skip, timeout: 60_000 }, async () => {
  const fresh = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await fresh.newPage();
    await page.goto(`${consoleUrl}#/overview`);
    await page.getByText('Open Cordon from your terminal').waitFor(WAIT);
    await page.goto('about:blank');
    await page.goto(`${consoleUrl}#s=${secret}`);
    await page.getByTestId('protection-state').waitFor(WAIT);
    assert.doesNotMatch(page.url(), /s=/);
  } finally {
    await fresh.close();
  }
});

async function answerInPrompt(path: string, how: (page: Page) => Promise<void>, scheme: 'light' | 'dark'): Promise<{ code: number | null; stdout: string }> {
  const page = await openConsole('prompt', scheme);
  const pending = curl(`http://127.0.0.1:${askPort}${path}`);
  const card = page.getByTestId('approval');
  await card.getByText(`127.0.0.1:${askPort}${path}`).waitFor(WAIT);
  await card.getByTestId('countdown').getByText(/Denied automatically in \d+s/).waitFor(WAIT);
  await shot(page, `prompt-${scheme}`);
  await how(page);
  await page.getByTestId('no-pending').waitFor(WAIT);
  return pending;
}

test('an approval raised by a real request appears in the prompt view; Allow once lets it complete', { skip, timeout: 60_000 }, async () => {
  const r = await answerInPrompt('/allowed', (page) => page.getByRole('button', { name: /Allow once/ }).click(), 'light');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^HTTP\/1\.1 200/);
  assert.match(r.stdout, /hello from the asked origin/);
});

test('answering with the keyboard (d) denies the request: the client gets a 403', { skip, timeout: 60_000 }, async () => {
  const r = await answerInPrompt('/denied', (page) => page.keyboard.press('d'), 'dark');
  assert.match(r.stdout, /^HTTP\/1\.1 403/);
  const page = await openConsole('approvals', 'light');
  await page.getByRole('region', { name: 'History' }).getByText(`127.0.0.1:${askPort}/denied`).waitFor(WAIT);
  await shot(page, 'approvals-history-light');
});

test('accessibility: no serious or critical WCAG 2.1 A/AA violation (axe-core) on any page shot, light or dark', { skip }, () => {
  assert.ok(a11yProblems.length === 0, `\n${a11yProblems.join('\n')}`);
});
