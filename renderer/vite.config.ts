// Vite build of the React console into dist/renderer at the repository root (ignored by git and
// ESLint), which the daemon's local console serves. Build: npx vite build --config renderer/vite.config.ts
import { defineConfig } from 'vite';

export const config = defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
});

// Vite reads the config file's default export; the project otherwise uses named exports only.
// eslint-disable-next-line no-restricted-syntax
export default config;
