import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

/** One no-restricted-imports rule per API folder, naming the folders it must not import. */
function layers(above) {
  return Object.entries(above).map(([folder, forbidden]) => ({
    files: [`api/src/${folder}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: forbidden.map((f) => (f.startsWith('!') ? `!**/${f.slice(1)}` : `**/${f}/**`)),
              message: `api/src/${folder}/ may only import the folders below it (the layers in docs/ARCHITECTURE.md).`,
            },
            {
              // The context is handed in; its type is the only thing a folder takes from the wiring.
              group: ['**/context.js', '**/app.js', '**/server.js', '**/bootstrap.js'],
              allowTypeImports: true,
              message: 'Folders get the AppContext handed in; import only its type.',
            },
          ],
        },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', '**/.svelte-kit/**', '**/node_modules/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // The API's folders are stacked: a folder imports only from the folders below it
  // (docs/ARCHITECTURE.md). Both JSON surfaces share rest/route.ts, the endpoint contract.
  ...layers({
    lib: [
      'federation',
      'audit',
      'config',
      'http',
      'identity',
      'interaction',
      'metrics',
      'mfa',
      'oidc',
      'rest',
      'session',
      'storage',
      'web',
    ],
    storage: ['federation', 'audit', 'http', 'identity', 'interaction', 'metrics', 'mfa', 'oidc', 'rest', 'session', 'web'],
    config: ['federation', 'audit', 'http', 'identity', 'interaction', 'mfa', 'oidc', 'rest', 'session', 'storage', 'web'],
    mfa: ['federation', 'identity', 'interaction', 'oidc', 'rest', 'session', 'web'],
    audit: ['federation', 'identity', 'interaction', 'oidc', 'rest', 'session', 'web'],
    metrics: ['federation', 'identity', 'interaction', 'oidc', 'rest', 'session', 'web'],
    identity: ['federation', 'interaction', 'oidc', 'rest', 'session', 'web'],
    http: ['federation', 'interaction', 'oidc', 'rest', 'session', 'web'],
    session: ['federation', 'interaction', 'oidc', 'rest', 'web'],
    federation: ['interaction', 'oidc', 'rest', 'web'],
    oidc: ['interaction', 'rest', 'web'],
    interaction: ['rest', '!rest/route.js', 'web'],
    rest: ['interaction', 'web'],
  }),
  ...svelte.configs.recommended,
  {
    files: ['web/**/*.svelte', 'web/**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    // The SPA is built for the site root (no kit.paths.base), so links need no resolve().
    rules: { 'svelte/no-navigation-without-resolve': 'off' },
  },
  { files: ['web/**'], languageOptions: { globals: globals.browser } },
  { files: ['e2e/**'], languageOptions: { globals: globals.node } },
  {
    files: ['scripts/**/*.mjs', '*/scripts/**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: { 'no-console': 'off' },
  },
);
