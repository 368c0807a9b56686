// Vite build of the fleet web console into dist/console at the repository root (ignored by git
// and ESLint), which the fleet server serves at / (createFleetServer's consoleDir). The page runs
// under `script-src 'self'; style-src 'self'`: no inline script (no module-preload polyfill) and
// styles only as files. Build: npm run build:console
import { defineConfig } from 'vite';

export const config = defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: '../../dist/console',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    chunkSizeWarningLimit: 1024,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
});

// Vite reads the config file's default export; the project otherwise uses named exports only.
// eslint-disable-next-line no-restricted-syntax
export default config;
