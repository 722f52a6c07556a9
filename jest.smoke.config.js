// A few suites that walk the main paths (migrations down and up, a credit purchase, an order, the
// ledger's verification, the server-compat stand-ins), for CI to run on another PostgreSQL
// (DATABASE_URL) besides the full suite on the embedded one: .ci/run.
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testMatch: [
    '**/e2e/ledger-migrations.e2e-spec.ts',
    '**/e2e/payments.e2e-spec.ts',
    '**/e2e/orders.e2e-spec.ts',
    '**/e2e/ledger-reads.e2e-spec.ts',
    '**/e2e/fraud-engine.e2e-spec.ts',
    '**/e2e/server-compat.e2e-spec.ts',
  ],
};
