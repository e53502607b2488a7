import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layer rules of design.md section 3, enforced rather than remembered. */
const layer = (files, patterns) => ({ files, rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**', '**/*.generated.ts', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  layer(
    ['src/upstream/**/*.ts'],
    [
      { group: ['graphql', 'graphql/*', '@apollo/*'], message: 'src/upstream knows nothing of GraphQL (design.md section 3).' },
      { group: ['**/graph/**', '**/server/**'], message: 'src/upstream must not depend on the graph or server layers.' },
    ],
  ),
  layer(['src/graph/**/*.ts'], [{ group: ['got', 'fast-xml-parser'], message: 'src/graph knows nothing of HTTP or XML (design.md section 3).' }]),
  layer(
    ['src/sim/**/*.ts'],
    [
      {
        group: ['**/upstream/**', '**/graph/**', '**/server/**', '**/config/**'],
        message: 'The simulator is an independent reading of the Veeam docs: it shares no code with the clients.',
      },
    ],
  ),
);
