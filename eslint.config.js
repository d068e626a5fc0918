// The lint gate (agent/gates.yml): type-aware typescript-eslint, no floating promises, and no
// process state in workflow code. Imports are the boundaries gate's job (agent/codemap.yml).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.local/**', 'coverage/**', 'test-artifacts/**', 'dist/**'] },
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
            'cli/stack/*.mjs',
            'bench/minimal-worker/*.mjs',
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
