// ESLint for the library, tests, sample app and benchmarks (flat config).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', '.tmp/**', 'bench/results/**', '.stryker-tmp/**', 'node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Typed linting, so that a dropped promise (a failure nobody sees) is an error.
    files: ['lib/**/*.ts', 'test/**/*.ts', 'sample-app/**/*.ts', 'bench/**/*.ts'],
    // The compat apps import the installed package and are type-checked by their own compilers
    // (test/compat/compat.spec.ts builds each with its own TypeScript and tsconfig).
    ignores: ['test/compat/app/**', 'test/compat/nest11/**', 'test/compat/nest12/**'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    // The library logs through Nest's Logger only.
    files: ['lib/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'sample-app/**/*.ts', 'lib/**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
