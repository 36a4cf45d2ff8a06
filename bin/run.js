#!/usr/bin/env node
'use strict';

/** Runs custos and turns whatever failed into the one documented message and exit code. */
async function main({ development = false } = {}) {
  const oclif = require('@oclif/core');
  const { describeFailure } = development ? require('../src/errors') : require('../dist/src/errors');
  try {
    await oclif.run(process.argv.slice(2), { root: require('node:path').join(__dirname, '..'), development });
    await oclif.flush();
  } catch (err) {
    // oclif signals --help, --version and this.exit() with an EEXIT error that carries the code.
    if (err && err.code === 'EEXIT') {
      process.exitCode = typeof err.oclif?.exit === 'number' ? err.oclif.exit : 0;
      return;
    }
    const report = describeFailure(err, 'custos');
    process.stderr.write(`${report.text}\n`);
    // Failures before any command ran (an unknown command) are JSON on stdout too under --json.
    if (jsonWanted(process.argv.slice(2))) process.stdout.write(`${JSON.stringify(report.json, null, 2)}\n`);
    process.exitCode = report.exitCode;
  }
}

/** --json before any `--`, or CUSTOS_CONTENT_TYPE=json, as oclif decides for commands. */
function jsonWanted(argv) {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json') || (process.env.CUSTOS_CONTENT_TYPE || '').toLowerCase() === 'json';
}

module.exports = { main };
if (require.main === module) void main();
