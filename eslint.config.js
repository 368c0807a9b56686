// Lint: correctness rules for TypeScript plus the process boundaries of docs/ARCHITECTURE.md.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nativeModules = ['better-sqlite3', '@napi-rs/keyring'];
const why = 'see docs/ARCHITECTURE.md "Process boundaries"';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-results/**', 'bench-results/**', 'native-config/**', 'build/**', 'app/**/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', AbortController: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', fetch: 'readonly', crypto: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    files: ['eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['app/**/*.ts', 'server/**/*.ts'],
    ignores: ['server/console/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [
        { name: 'electron', message: `app/ and server/ are headless: they run without Electron (${why}).` },
        { name: 'react', message: `UI lives in renderer/ (${why}).` },
        { name: 'react-dom', message: `UI lives in renderer/ (${why}).` },
      ] }],
    },
  },
  {
    files: ['app/api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [
        ...nodeBuiltins.map((name) => ({ name, message: `app/api is the pure contract that renderer/ imports: no Node modules (${why}).` })),
        ...nativeModules.map((name) => ({ name, message: `app/api is the pure contract: no native modules (${why}).` })),
        { name: 'electron', message: `app/api is the pure contract (${why}).` },
      ] }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}', 'server/console/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { paths: [
        ...nodeBuiltins.map((name) => ({ name, message: `renderer/ is sandboxed: use the typed client, never Node (${why}).` })),
        ...nativeModules.map((name) => ({ name, message: `renderer/ never loads native modules (${why}).` })),
        { name: 'electron', message: `renderer/ talks through the typed client (window.cordon), not electron (${why}).` },
      ] }],
    },
  },
);
