/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload */
// Preload (`node -r test/support/swc-register.cjs src/cli.ts ...`) that runs the TypeScript sources
// directly, compiled by SWC as Jest compiles them: the e2e suites start the server and the CLI as
// child processes without a build.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

const options = (filename) => ({
  filename,
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
});

require.extensions['.ts'] = (module, filename) => {
  module._compile(transformSync(readFileSync(filename, 'utf8'), options(filename)).code, filename);
};
