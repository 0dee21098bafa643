// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '**/__generated__/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
    },
  },
  {
    // The API layer reaches the database only through the request's EntityManager fork and its
    // find/count/create/assign/remove/flush: the paths MikroORM filters apply to.
    files: ['src/api/**/*.ts', 'src/context.ts', 'src/gateway.ts', 'src/http/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          ['createQueryBuilder', 'a QueryBuilder skips filters unless applyFilters() is called'],
          ['qb', 'a QueryBuilder skips filters unless applyFilters() is called'],
          [
            'getReference',
            'a reference to a client-supplied id is written without loading it through the filters',
          ],
          ['upsert', 'upsert writes without reading through the filters'],
          ['upsertMany', 'upsert writes without reading through the filters'],
          ['nativeUpdate', 'native updates bypass the unit of work and its checks'],
          ['nativeDelete', 'native deletes bypass the unit of work and its checks'],
          ['execute', 'raw SQL bypasses the filters'],
          ['getConnection', 'raw SQL bypasses the filters'],
          ['getKysely', 'raw SQL bypasses the filters'],
        ].map(([method, why]) => ({
          selector: `CallExpression[callee.property.name='${method}']`,
          message: `No ${method}() in the API layer: ${why}.`,
        })),
        {
          selector: "CallExpression[callee.name='dangerouslyBypassRowSecurity']",
          message:
            'No dangerouslyBypassRowSecurity() in the API layer: it is for the seeder and maintenance CLIs only.',
        },
        {
          selector: "Property[key.name='filters'][value.value=false]",
          message: 'No `filters: false` in the API layer: it turns off row security.',
        },
      ],
    },
  },
  {
    files: [
      'src/main.ts',
      'src/**/cli/*.ts',
      'bench/**/*.ts',
      'test/global-setup.ts',
      'test/prerequisites.ts',
    ],
    rules: { 'no-console': 'off' },
  },
);
