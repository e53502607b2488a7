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
  layer(
    ['src/graph/**/*.ts'],
    [
      { group: ['got', 'fast-xml-parser'], message: 'src/graph knows nothing of HTTP or XML (design.md section 3).' },
      {
        group: ['**/upstream/*/**', '**/sources/**', '!**/upstream/Source.js', '!**/upstream/errors.js'],
        message: 'src/graph depends on the source contract (src/upstream/Source.ts) and the error types only (docs/architecture.md).',
      },
    ],
  ),
  // Code shared inside src/upstream (http/, the contract, errors...) serves every kind: it imports neither kind's folder.
  layer(
    ['src/upstream/*.ts', 'src/upstream/http/**/*.ts'],
    [
      { group: ['graphql', 'graphql/*', '@apollo/*'], message: 'src/upstream knows nothing of GraphQL (design.md section 3).' },
      { group: ['**/graph/**', '**/server/**'], message: 'src/upstream must not depend on the graph or server layers.' },
      { group: ['**/em/**', '**/vbo/**', './em/*', './vbo/*'], message: 'Shared upstream code imports neither kind folder (docs/architecture.md).' },
    ],
  ),
  // Branching on a configured kind belongs in the kind table (src/sources/sourceKinds.ts) or an
  // exhaustive switch with a never check: a ternary or an if on one kind silently sends a third
  // kind down the other branch.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/sim/**', 'src/sources/sourceKinds.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'BinaryExpression[operator=/^[!=]==?$/] > Literal[value=/^(enterprise-manager|microsoft365)$/]',
          message: 'Compare no configured kind: add a row to the kind table (src/sources/sourceKinds.ts) or use an exhaustive switch with a never check.',
        },
      ],
    },
  },
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
