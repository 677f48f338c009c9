// Lint for everything TypeScript/JavaScript in the repository; run by `npm test` (npm run lint).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The extension host may know the engine only through engine/process/: everything else in
// src/engine/ runs in the engine's own process (onnxruntime, the tokenizer) and must not be bundled
// into the extension host.
const engineInternals = {
  group: ['**/engine/*', '**/engine/*/**', '!**/engine/process', '!**/engine/process/**'],
  message: 'Code outside src/engine/ reaches the engine only through src/engine/process/ (engine-client, protocol).',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      '.vscode-test/',
      'ci-artifacts/',
      'recipe/data/',
      'recipe/runs/',
      'test/fixtures/',
      'test/workspace/',
      'test/bench/peer/node_modules/',
      'models/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The token view's page script, and the UI tests' functions that run inside the workbench page.
    files: ['media/**/*.js', 'test/vscode/**/*.js'],
    languageOptions: { globals: { ...globals.browser, acquireVsCodeApi: 'readonly' } },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/engine/**', 'src/cli.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [engineInternals] }] },
  },
);
