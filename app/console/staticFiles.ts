/**
 * Serves the built React console (Vite output) from one directory: no listing, no path escapes,
 * a fixed content-type table, and a clear page when the console was not built.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where `npm run build:ui` writes the console (repo-root dist/, ignored by git and ESLint). */
export const DEFAULT_STATIC_DIR = new URL('../../dist/renderer/', import.meta.url).pathname;

export type StaticFile = { readonly status: number; readonly type: string; readonly body: Buffer; readonly immutable: boolean };

/**
 * Resolves a URL path to a file of staticDir. "/" and unknown extension-less paths get index.html
 * (the app routes by hash); a path outside the directory or a missing asset is a 404.
 */
export function staticFile(staticDir: string, urlPath: string, buildCommand = 'npm run build:ui'): StaticFile {
  const root = resolve(staticDir);
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return notFound();
  }
  if (decoded.includes('\0')) return notFound();
  const wantsIndex = decoded === '/' || decoded === '/index.html' || extname(decoded) === '';
  const file = wantsIndex ? join(root, 'index.html') : resolve(root, `.${decoded}`);
  if (file !== root && !file.startsWith(root + sep)) return notFound();
  const type = TYPES[extname(file).toLowerCase()];
  if (!type) return notFound();
  try {
    if (!statSync(file).isFile()) return notFound();
    return { status: 200, type, body: readFileSync(file), immutable: !wantsIndex && decoded.startsWith('/assets/') };
  } catch {
    if (wantsIndex) return notBuilt(root, buildCommand);
    return notFound();
  }
}

function notFound(): StaticFile {
  return { status: 404, type: 'text/plain; charset=utf-8', body: Buffer.from('not found\n'), immutable: false };
}

function notBuilt(root: string, buildCommand: string): StaticFile {
  const text = `The Cordon console is not built (no index.html in ${root}).\nBuild it with: ${buildCommand}\n`;
  return { status: 503, type: 'text/plain; charset=utf-8', body: Buffer.from(text), immutable: false };
}
