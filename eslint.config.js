// Lint gates (run by `npm test`): type-aware typescript-eslint, no floating promises, and the
// workflow sandbox boundary — workflow code may not import Node builtins or I/O libraries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports that would make workflow code nondeterministic or fail in the workflow sandbox. */
export const WORKFLOW_FORBIDDEN_IMPORTS = {
  patterns: [
    {
      group: ['node:*'],
      message: 'Workflows run in a deterministic sandbox: no Node builtins. Do I/O in an activity.',
    },
    {
      group: [
        'fs',
        'fs/*',
        'path',
        'os',
        'crypto',
        'child_process',
        'http',
        'https',
        'net',
        'dns',
        'stream',
        'worker_threads',
        'timers',
        'timers/*',
      ],
      message: 'Workflows run in a deterministic sandbox: no Node builtins. Do I/O in an activity.',
    },
    {
      group: [
        'pg',
        'pg-*',
        'slonik',
        '@slonik/*',
        '@nats-io/*',
        'nats',
        'koa',
        'koa-*',
        '@koa/*',
        'pino',
        'pino-*',
        'prom-client',
        'jose',
        '@temporalio/client',
        '@temporalio/worker',
        '@temporalio/activity',
      ],
      message: 'Workflows may not do I/O: call an activity (import its type only) instead.',
    },
    {
      group: ['**/services/**', '**/bff/**', '**/runtime/**', '**/relay/**', '**/projector/**', '**/cli/**'],
      allowTypeImports: true,
      message: 'Workflows may import other modules as types only (proxyActivities<typeof …>).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.local/**', 'coverage/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // lint-probe.ts: in-memory sources test/lint-boundaries.unit.test.ts lints to prove the rules bite.
          allowDefaultProject: [
            '*.js',
            'tools/*.mjs',
            'test/support/*.cjs',
            'workflows/*/lint-probe.ts',
            'services/*/lint-probe.ts',
          ],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // Activities and handlers are async by contract even when one happens not to await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'], // tests drive workflows from outside the sandbox
    rules: {
      'no-restricted-imports': ['error', WORKFLOW_FORBIDDEN_IMPORTS],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflows may not read process state.' },
        { name: 'setImmediate', message: 'Use the workflow sleep/condition APIs.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
      },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
