/**
 * Window and session security for every Cordon window: locked-down webPreferences, a strict CSP,
 * only the bundled renderer's file:// content, navigation and window.open refused, no permissions.
 * Electron objects come in as parameters (type imports only), so all of it runs in unit tests.
 */
import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';

/** The CSP for the bundled renderer (also put it in a <meta> tag in renderer/index.html: file:// responses carry no headers). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "worker-src 'none'",
].join('; ');

export type WindowKind = 'console' | 'prompt';

/** BrowserWindow options for one kind of window: every security switch set explicitly. */
export function windowOptions(kind: WindowKind, preloadPath: string): BrowserWindowConstructorOptions {
  const common: BrowserWindowConstructorOptions = {
    show: false,
    title: 'Cordon',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: process.env.CORDON_UI_DEVTOOLS === '1',
    },
  };
  if (kind === 'prompt') {
    return { ...common, width: 520, height: 440, resizable: false, minimizable: false, maximizable: false, fullscreenable: false, alwaysOnTop: true, skipTaskbar: false, title: 'Cordon: approval needed' };
  }
  return { ...common, width: 1180, height: 780, minWidth: 760, minHeight: 520 };
}

/**
 * True when `url` is a file inside the renderer directory (`rendererRoot`, a file: URL). Used for
 * every request the session makes: anything else (http, https, ws, other files) is cancelled.
 */
export function isRendererUrl(url: string, rendererRoot: string): boolean {
  let parsed: URL;
  let root: URL;
  try {
    parsed = new URL(url);
    root = new URL(rendererRoot);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'file:' || parsed.host !== '' || root.protocol !== 'file:') return false;
  const rootPath = root.pathname.endsWith('/') ? root.pathname : `${root.pathname}/`;
  return parsed.pathname.startsWith(rootPath);
}

/** Requests the session lets through: the renderer's own files, plus inline data: images and fonts. */
export function isAllowedRequest(url: string, rendererRoot: string): boolean {
  if (url.startsWith('data:')) return true;
  if (url.startsWith('devtools:') && process.env.CORDON_UI_DEVTOOLS === '1') return true;
  return isRendererUrl(url, rendererRoot);
}

/** Refuses navigation away from the loaded page, window.open, webviews and attaching anything. */
export function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Session-wide rules: only local content, the CSP header on every response, and no permissions at all. */
export function hardenSession(session: Session, rendererRoot: string): void {
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequest(details.url, rendererRoot) }));
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler?.(() => false);
}
