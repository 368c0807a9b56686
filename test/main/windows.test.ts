import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Session, WebContents } from 'electron';
import { CONTENT_SECURITY_POLICY, hardenSession, hardenWebContents, isAllowedRequest, isRendererUrl, windowOptions } from '../../main/windows.ts';

const ROOT = 'file:///opt/Cordon/resources/app.asar/dist/renderer/';

test('every window is isolated, sandboxed and without Node', () => {
  for (const kind of ['console', 'prompt'] as const) {
    const prefs = windowOptions(kind, '/p/preload.cjs').webPreferences;
    assert.ok(prefs);
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.allowRunningInsecureContent, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.preload, '/p/preload.cjs');
  }
  assert.equal(windowOptions('prompt', '/p').alwaysOnTop, true);
});

test('the CSP allows only the app itself', () => {
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  assert.match(CONTENT_SECURITY_POLICY, /connect-src 'none'/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-eval|unsafe-inline|https?:|\*/);
});

test('only the renderer files (and data: images) may load', () => {
  assert.equal(isRendererUrl(`${ROOT}assets/app.js`, ROOT), true);
  for (const url of ['https://cdn.example/x.js', 'http://127.0.0.1:7777/api', 'ws://127.0.0.1/', 'file:///etc/passwd', 'file:///opt/Cordon/resources/app.asar/dist/renderer2/x.js', 'javascript:alert(1)']) {
    assert.equal(isAllowedRequest(url, ROOT), false, url);
  }
  assert.equal(isAllowedRequest('data:image/png;base64,AAAA', ROOT), true);
});

test('hardenWebContents refuses navigation, redirects, webviews and window.open', () => {
  const contents = new EventEmitter() as EventEmitter & { handler?: () => unknown; setWindowOpenHandler(h: () => unknown): void };
  contents.setWindowOpenHandler = (h) => {
    contents.handler = h;
  };
  hardenWebContents(contents as unknown as WebContents);
  for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
    let prevented = false;
    contents.emit(name, { preventDefault: () => (prevented = true) });
    assert.equal(prevented, true, name);
  }
  let subframePrevented = false;
  contents.emit('will-frame-navigate', { isMainFrame: false, preventDefault: () => (subframePrevented = true) });
  assert.equal(subframePrevented, true);
  assert.deepEqual(contents.handler?.(), { action: 'deny' });
});

test('hardenSession cancels foreign requests, adds the CSP header and denies every permission', () => {
  const hooks: Record<string, (...args: never[]) => unknown> = {};
  const session = {
    webRequest: {
      onBeforeRequest: (l: (...args: never[]) => unknown) => void (hooks.before = l),
      onHeadersReceived: (l: (...args: never[]) => unknown) => void (hooks.headers = l),
    },
    setPermissionRequestHandler: (h: (...args: never[]) => unknown) => void (hooks.request = h),
    setPermissionCheckHandler: (h: (...args: never[]) => unknown) => void (hooks.check = h),
    setDevicePermissionHandler: (h: (...args: never[]) => unknown) => void (hooks.device = h),
  };
  hardenSession(session as unknown as Session, ROOT);
  const decide = (url: string): unknown => {
    let out: unknown;
    (hooks.before as unknown as (d: { url: string }, cb: (r: unknown) => void) => void)({ url }, (r) => (out = r));
    return out;
  };
  assert.deepEqual(decide('https://evil.example/'), { cancel: true });
  assert.deepEqual(decide(`${ROOT}index.html`), { cancel: false });
  let headers: unknown;
  (hooks.headers as unknown as (d: unknown, cb: (r: unknown) => void) => void)({ responseHeaders: { 'X-A': ['1'] } }, (r) => (headers = r));
  assert.deepEqual(headers, { responseHeaders: { 'X-A': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  let granted: unknown = 'unset';
  (hooks.request as unknown as (c: unknown, p: string, cb: (g: boolean) => void) => void)(null, 'media', (g) => (granted = g));
  assert.equal(granted, false);
  assert.equal((hooks.check as unknown as () => boolean)(), false);
});
