import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const testRules = [
  {
    selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|describe|test)$/]",
    message: 'No focused tests.',
  },
  {
    selector: "CallExpression[callee.property.name='skip'][callee.object.name=/^(it|describe|test)$/]",
    message: 'No skipped tests.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'jest.config.js', 'jest.smoke.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': ['error', ...testRules],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts', 'src/common/clock.service.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Business logic reads the time from Clock.' }],
    },
  },
  {
    // One query helper (docs/architecture.md): SQL runs through queryRows in src/database/sql.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/database/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...testRules,
        {
          selector: 'CallExpression[callee.property.name=/^(query|getRepository|createQueryBuilder)$/]',
          message: 'SQL runs through queryRows (src/database/sql.ts), in a repository.',
        },
      ],
    },
  },
  ...dependencyLayers(),
  {
    // A landed migration is never edited and shares nothing with another (docs/architecture.md).
    files: ['migrations/*.ts'],
    ignores: ['migrations/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!typeorm$)', message: 'A migration is self-contained SQL: it imports typeorm and nothing else.' }] },
      ],
    },
  },
);

/**
 * The dependency layers of src/ (docs/architecture.md): a module imports only infra and the feature
 * modules listed for it; lower layers never import higher ones and same-layer modules never import each
 * other. Entry points (src/*.ts), *.spec.ts, test/ and bench/ are unrestricted.
 *
 * no-restricted-imports sees the import's text, not the file it resolves to: a module is recognised as
 * `../` (any number of times) followed by its folder name. It checks `import` and `export ... from`
 * (type-only imports included), not `import()`.
 */
function dependencyLayers() {
  const infra = ['config', 'database', 'common', 'jobs', 'notifications', 'audit', 'health', 'dev'];
  const below = {
    identity: [],
    ledger: [],
    'account-guard': ['identity', 'ledger'],
    fraud: ['identity', 'ledger', 'account-guard'],
    payments: ['identity', 'ledger', 'account-guard', 'fraud'],
    catalog: ['identity', 'ledger', 'account-guard', 'fraud'],
    promotions: ['identity', 'ledger', 'account-guard', 'fraud'],
    orders: ['identity', 'ledger', 'account-guard', 'fraud', 'catalog', 'payments'],
    resellers: ['identity', 'ledger', 'account-guard', 'fraud', 'payments', 'catalog', 'promotions', 'orders'],
    economy: ['identity', 'ledger', 'account-guard', 'fraud', 'payments', 'catalog', 'promotions', 'orders', 'resellers'],
  };
  const features = Object.keys(below);
  const block = (folder, allowed, may) => ({
    files: [`src/${folder}/**/*.ts`],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: features
            .filter((f) => f !== folder && !allowed.includes(f))
            .map((f) => ({
              regex: `^(\\.\\./)+${f}(/|$)`,
              message: `src/${folder} must not import src/${f}: it may import ${may} (dependency layers, docs/architecture.md).`,
            })),
        },
      ],
    },
  });
  return [
    ...infra.map((folder) => block(folder, [], `only infra (${infra.join(', ')})`)),
    ...features.map((f) => block(f, below[f], ['infra', ...below[f]].join(', '))),
  ];
}
