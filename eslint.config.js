// ESLint flat config (ESLint 10): @eslint/js recommended + typescript-eslint recommended.
// Type-aware rules are deliberately not enabled so `eslint .` stays fast and works on a
// partial tree (it does not need a successful `tsc` program).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const unusedVarsOptions = {
  args: 'after-used',
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrorsIgnorePattern: '^_',
  destructuredArrayIgnorePattern: '^_',
  ignoreRestSiblings: true,
};

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', 'coverage/', '**/*.ome.zarr/', 'examples/data/']),
  {
    files: ['**/*.{js,mjs,cjs,ts,mts,cts}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', unusedVarsOptions],
    },
  },
  {
    files: ['test/**/*.{js,ts}', 'bench/**/*.{js,ts}'],
    languageOptions: {
      globals: { ...globals.mocha },
    },
  },
]);
