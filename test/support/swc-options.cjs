/* global module */
// How SWC compiles the TypeScript sources for the tests: Jest (jest.config.js) and the child processes
// the e2e suites start (swc-register.cjs).
module.exports = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
