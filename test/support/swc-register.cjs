/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload */
// Preload (`node -r test/support/swc-register.cjs src/cli.ts ...`) that runs the TypeScript sources
// directly, compiled by SWC as Jest compiles them: the e2e suites start the server and the CLI as
// child processes without a build.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');
const swc = require('./swc-options.cjs');

require.extensions['.ts'] = (module, filename) => {
  module._compile(transformSync(readFileSync(filename, 'utf8'), { ...swc, filename }).code, filename);
};
